"""Long lists in a large body validated in windows, so that no one step holds the event loop long.

Validating is one call into pydantic (Rust), which keeps the interpreter,
and so every other client, waiting until it returns. On a body near the 1 MB
default limit that call took 60 to 140 ms, most of it building pydantic's
errors when the items are invalid. What makes a body that large is almost
always a long list: a list body (`items: list[Item]`), a list field
(`tags: list[int]`) or a list field of the body's model. Such a list is
validated here a window of its items at a time, the loop free between two
windows; each window is sized from the time the one before took, so a step
stays near `STEP_SECONDS` whatever the items are like.

A window plan is made once per parameter at registration (`window_plan`), and
only for what validates item by item, so that the windows give exactly what
one call would:

* a plain `list[X]` (no length constraint, no union): each item is validated
  alone, so a slice validates as its items would in the whole list. An item
  that is itself a long list (`list[list[int]]` holding one long row) is
  validated in windows of its own when `X` is a plain list too;
* a pydantic model with no validators (its own or inherited): its long plain
  list fields are validated in windows, by an adapter built with the model's
  own config, and the model then once with those fields already validated
  (which pydantic passes through cheaply), or, when one has errors, with that
  field empty, to find the other fields' errors. Errors come back in the
  model's field order, as pydantic gives them.

Anything else (a dict of 100,000 keys, a model with validators) is validated
in one step, as before.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, get_args, get_origin

import anyio.lowlevel
import pydantic
from pydantic import BaseModel, TypeAdapter

from ravyn._binding.errors import first_errors
from ravyn.exceptions import MAX_ERRORS

__all__ = ["STEP_SECONDS", "Outcome", "WindowPlan", "paused_gc", "window_plan"]

STEP_SECONDS = 0.005
"""About how long one window's validation holds the event loop."""

FIRST_WINDOW = 256
"""How many items (counting, for an item that is a list or dict, its own items) the first window holds."""

LONG = 1024
"""A list (or a list field) shorter than this many items is validated in one step."""

_LARGEST_WINDOW = 1 << 20

Found = list[dict[str, Any]]


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection during a step that builds many containers.

    Decoding or validating a large body builds hundreds of thousands of lists
    and dicts, and each few hundred allocations start a collection that scans
    the younger objects (and every few, the whole heap): decoding 700 KB of
    short lists took 65 ms with the collector and 15 ms without. What such a
    step builds holds no reference cycle (JSON cannot express one), so nothing
    is left for the collector that it would have freed. A collector another
    thread disabled meanwhile is left as that thread wants it, unless the
    step started with it enabled.
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(slots=True)
class Outcome:
    """What validating a value found: the value (when `count` is 0), else the
    first errors (pydantic's dicts, `loc` relative to the value) and how many there were."""

    value: Any
    found: Found
    count: int


class WindowPlan:
    """How one value is validated in windows (see the module's docstring)."""

    def __init__(self, adapter: TypeAdapter[Any]) -> None:
        self.adapter = adapter

    def is_long(self, value: Any) -> bool:
        """Whether `value` is worth validating in windows (else one step does)."""
        raise NotImplementedError

    async def validate(self, value: Any) -> Outcome:
        """`value` validated as `self.adapter` would in one call, in windows when it is long."""
        raise NotImplementedError

    def whole(self, value: Any, wanted: int = MAX_ERRORS) -> Outcome:
        """`value` validated in one step; of its errors, the first `wanted` are named."""
        with paused_gc():
            try:
                return Outcome(self.adapter.validator.validate_python(value), [], 0)
            except pydantic.ValidationError as exc:
                found = first_errors(self.adapter, value, exc, wanted) if wanted > 0 else []
                return Outcome(None, found, exc.error_count())


@dataclass(slots=True)
class _Window:
    """The time each window may take, and how many items the next one holds."""

    size: int = FIRST_WINDOW

    def timed(self, started: float) -> None:
        elapsed = time.perf_counter() - started
        # aim at STEP_SECONDS, growing at most 4x at once (a window of short items
        # says little about long ones) and never below one item
        scale = 4.0 if elapsed <= STEP_SECONDS / 4 else STEP_SECONDS / elapsed
        self.size = max(1, min(_LARGEST_WINDOW, int(self.size * scale)))


def _weight(item: Any) -> int:
    kind = type(item)
    return 1 + len(item) if kind is list or kind is dict else 1


class ListPlan(WindowPlan):
    """A plain `list[X]`: its items in windows; `item` the plan of an `X` that is itself a plain list."""

    def __init__(self, adapter: TypeAdapter[Any], item: ListPlan | None) -> None:
        super().__init__(adapter)
        self.item = item

    def is_long(self, value: Any) -> bool:
        """A list of `LONG` items or more."""
        return type(value) is list and len(value) >= LONG

    async def validate(self, value: Any) -> Outcome:
        """The list validated a window at a time, with a turn for the loop between two."""
        if not self.is_long(value) and not (self.item is not None and type(value) is list):
            return self.whole(value)
        items: list[Any] = value
        result: list[Any] = []
        found: Found = []
        count = 0
        window = _Window()
        start = 0
        while start < len(items):
            if self.item is not None and self.item.is_long(items[start]):
                # one item too long for a window: validated in windows of its own
                inner = await self.item.validate(items[start])
                count += inner.count
                if len(found) < MAX_ERRORS:
                    found += [{**error, "loc": (start, *error["loc"])} for error in inner.found]
                if not count:
                    result.append(inner.value)
                start += 1
                continue
            if self.item is None:
                end = min(len(items), start + window.size)
            else:  # items that are lists: a window holds about `size` of their items in all
                end, weight = start, 0
                while end < len(items) and weight < window.size and not self.item.is_long(items[end]):
                    weight += _weight(items[end])
                    end += 1
            await anyio.lowlevel.checkpoint()
            started = time.perf_counter()
            part = self.whole(items[start:end], MAX_ERRORS - len(found))
            window.timed(started)
            count += part.count
            if part.count:
                if len(found) < MAX_ERRORS:
                    found += _moved(part.found, start)
            elif not count:
                result.extend(part.value)
            start = end
        return Outcome(None if count else result, found[:MAX_ERRORS], count)


def _moved(found: Found, offset: int) -> Found:
    """Errors of a slice starting at `offset`, their locs made the whole list's."""
    if len(found) > MAX_ERRORS:
        found = found[:MAX_ERRORS]
    return [{**error, "loc": (error["loc"][0] + offset, *error["loc"][1:])} for error in found]


@dataclass(slots=True)
class _FieldPlan:
    order: int
    plan: ListPlan


class ModelPlan(WindowPlan):
    """A pydantic model with no validators: its long plain list fields in windows, then the rest.

    `fields` holds the plans of its plain list fields, by the key the body
    holds each under (its alias, if it has one)."""

    def __init__(
        self, adapter: TypeAdapter[Any], fields: dict[str, _FieldPlan], order: dict[str, int]
    ) -> None:
        super().__init__(adapter)
        self.fields = fields
        self.order = order
        """Each field's place among the model's fields, by its key: pydantic's errors come in this order."""

    def is_long(self, value: Any) -> bool:
        """A dict holding at least one long list under a field's key."""
        return type(value) is dict and any(
            each.plan.is_long(value.get(key)) for key, each in self.fields.items()
        )

    async def validate(self, value: Any) -> Outcome:
        """Each long list field in windows, then the model in one step, the lists already validated."""
        if not self.is_long(value):
            return self.whole(value)
        data = dict(value)
        found: Found = []
        count = 0
        for key, each in self.fields.items():
            if each.plan.is_long(data.get(key)):
                inner = await each.plan.validate(data[key])
                count += inner.count
                found += [{**error, "loc": (key, *error["loc"])} for error in inner.found]
                # empty, a plain list is valid: only the other fields' errors are left to find
                data[key] = [] if inner.count else inner.value
        await anyio.lowlevel.checkpoint()
        rest = self.whole(data)
        count += rest.count
        if not count:
            return rest
        order = self.order
        found += rest.found
        # pydantic lists a model's errors in the order of its fields; other locs (a key `extra`
        # forbids) come after them
        found.sort(key=lambda error: order.get(error["loc"][0], len(order)) if error["loc"] else -1)
        return Outcome(None, found[:MAX_ERRORS], count)


Adapt = Callable[[Any], TypeAdapter[Any]]


def window_plan(annotation: Any, adapter: TypeAdapter[Any], adapt: Adapt) -> WindowPlan | None:
    """How a value of `annotation` (validated by `adapter`) is validated in
    windows, or None when it is always validated in one step. `adapt` makes
    the adapter of a type inside `annotation` as `adapter` was made (for a
    list's items that are lists themselves)."""
    if get_origin(annotation) is list:
        return _list_plan(annotation, adapter, adapt)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_plan(annotation, adapter)
    return None


def _list_plan(annotation: Any, adapter: TypeAdapter[Any], adapt: Adapt) -> ListPlan | None:
    args = get_args(annotation)
    if len(args) != 1:
        return None
    item = args[0]
    if get_origin(item) is not list:
        return ListPlan(adapter, None)
    try:
        inner = adapt(item)
    except (TypeError, pydantic.PydanticUserError, NameError):
        return ListPlan(adapter, None)
    return ListPlan(adapter, _list_plan(item, inner, adapt))


def _has_validators(model: type[BaseModel]) -> bool:
    found = model.__pydantic_decorators__
    return bool(found.field_validators or found.model_validators or found.validators or found.root_validators)


def _model_plan(model: type[BaseModel], adapter: TypeAdapter[Any]) -> ModelPlan | None:
    if _has_validators(model):
        return None  # a validator would see the windows' output, not the body's values
    config = model.model_config

    def adapt(annotation: Any) -> TypeAdapter[Any]:
        # the model's own config (strict, str_strip_whitespace, ...) applies to its fields' items
        return TypeAdapter(annotation, config=config)

    fields: dict[str, _FieldPlan] = {}
    places: dict[str, int] = {}
    for order, (name, info) in enumerate(model.model_fields.items()):
        key = info.validation_alias if info.validation_alias is not None else info.alias or name
        if isinstance(key, str):
            places.setdefault(key, order)
        if not isinstance(key, str) or info.metadata or info.discriminator is not None:
            continue  # a path of aliases, a constraint on the list: one step
        if key != name and (config.get("populate_by_name") or config.get("validate_by_name")):
            continue  # either key may hold it
        annotation = info.annotation
        if get_origin(annotation) is not list:
            continue
        try:
            plan = _list_plan(annotation, adapt(annotation), adapt)
        except (pydantic.PydanticUserError, NameError):
            continue
        if plan is not None:
            fields[key] = _FieldPlan(order, plan)
    return ModelPlan(adapter, fields, places) if fields else None
