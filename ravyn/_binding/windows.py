"""Long containers in a large body validated in windows, so that no one step holds the event loop long.

Validating is one call into pydantic (Rust), which keeps the interpreter,
and so every other client, waiting until it returns. On a body near the 1 MB
default limit that call took 60 to 140 ms, most of it building pydantic's
errors when the items are invalid. What makes a body that large is almost
always a long list or dict: a list body (`items: list[Item]`), a list field
(`tags: list[int]`), a field of the body's model. Such a container is
validated here a window of its entries at a time, the loop free between two
windows; each window is sized from the time the one before took, so a step
stays near `STEP_SECONDS` whatever the entries are like.

A window plan is made once per parameter at registration (`window_plan`), and
only for what validates entry by entry, so that the windows give exactly what
one call would (the same value, the same first errors, the same count):

* a plain `list[X]` or `dict[K, V]` (no constraint on the whole, no union
  but `| None`): each entry is validated alone, so a slice validates as its
  entries would in the whole. An entry that is itself long (`list[list[int]]`
  holding one long row, a model in a list holding a long list) is validated
  in windows of its own;
* `X | None`: None as it is, anything else as `X`;
* a pydantic model with no validators (its own or inherited): its long
  container fields are validated in windows, by adapters built with the
  model's own config, and the model then once with those fields already
  validated (which pydantic passes through cheaply), or, for a field with
  errors, with that field empty, to find the other fields' errors. Errors
  come back in the model's field order, as pydantic gives them.

Anything else (a tuple, a union, a model with validators, a field with an
alias path) is validated in one step, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from types import UnionType
from typing import Any, Union, get_args, get_origin

import pydantic
from pydantic import BaseModel, TypeAdapter

from ravyn._binding.errors import first_errors
from ravyn._binding.steps import heavy_step, paused_gc
from ravyn.exceptions import MAX_ERRORS

__all__ = ["STEP_SECONDS", "Outcome", "WindowPlan", "window_plan"]

STEP_SECONDS = 0.005
"""About how long one window's validation holds the event loop."""

FIRST_WINDOW = 256
"""How many items (counting, for an item that is a list or dict, its own items) the first window holds."""

LONG = 1024
"""A list (or a list field) shorter than this many items is validated in one step."""

_LARGEST_WINDOW = 1 << 20

Found = list[dict[str, Any]]


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

    def empty(self) -> Any:
        """A value always valid for this plan, standing for one that had errors (see `ModelPlan`)."""
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


class _ContainerPlan(WindowPlan):
    """A plain list or dict: its entries in windows; `item` the plan of an entry's own value
    (when an entry may itself be long), validated alone when it is."""

    kind: type[list[Any]] | type[dict[Any, Any]]

    def __init__(self, adapter: TypeAdapter[Any], item: WindowPlan | None) -> None:
        super().__init__(adapter)
        self.item = item

    def empty(self) -> Any:
        """A value of this type that is always valid: an empty list or dict."""
        return self.kind()

    def is_long(self, value: Any) -> bool:
        """A list or dict of `LONG` entries or more."""
        return type(value) is self.kind and len(value) >= LONG

    async def validate(self, value: Any) -> Outcome:
        """The entries validated a window at a time, with a turn for the loop between two."""
        if type(value) is not self.kind or (not self.is_long(value) and self.item is None):
            return self.whole(value)
        is_list = self.kind is list
        source: Any = value  # a list or a dict: `kind`
        entries: list[Any] = source if is_list else list(source.items())
        items: list[Any] = source if is_list else [entry for _, entry in entries]
        item = self.item
        result: Any = self.kind()
        found: Found = []
        count = 0
        window = _Window()
        start = 0
        while start < len(items):
            if item is not None and item.is_long(items[start]):
                # one entry too long for a window: validated in windows of its own
                key: Any = start
                if not is_list:  # its key first, as pydantic checks it, with an always valid value
                    key = entries[start][0]
                    checked = self.whole({key: item.empty()})
                    count += checked.count
                    found += checked.found[: max(0, MAX_ERRORS - len(found))]
                    if not checked.count:
                        (key,) = checked.value
                inner = await item.validate(items[start])
                count += inner.count
                loc = start if is_list else entries[start][0]
                if len(found) < MAX_ERRORS:
                    found += [{**error, "loc": (loc, *error["loc"])} for error in inner.found]
                if not count:
                    if is_list:
                        result.append(inner.value)
                    else:
                        result[key] = inner.value
                start += 1
                continue
            if item is None:
                end = min(len(items), start + window.size)
            else:  # entries that may be long: a window holds about `size` of their items in all
                end, weight = start, 0
                while end < len(items) and weight < window.size and not item.is_long(items[end]):
                    weight += _weight(items[end])
                    end += 1
            async with heavy_step():
                started = time.perf_counter()
                part = self.whole(
                    source[start:end] if is_list else dict(entries[start:end]), MAX_ERRORS - len(found)
                )
                window.timed(started)
            count += part.count
            if part.count:
                if len(found) < MAX_ERRORS:
                    found += _moved(part.found, start) if is_list else part.found[: MAX_ERRORS - len(found)]
            elif not count:
                if is_list:
                    result.extend(part.value)
                else:
                    result.update(part.value)
            start = end
        return Outcome(None if count else result, found[:MAX_ERRORS], count)


class ListPlan(_ContainerPlan):
    """A plain `list[X]`: its items in windows (slices validate as their items would in the whole)."""

    kind = list


class DictPlan(_ContainerPlan):
    """A plain `dict[K, V]`: its entries in windows (each key and value is validated on its own)."""

    kind = dict


class NullablePlan(WindowPlan):
    """`X | None`: None as it is, anything else by `X`'s plan (pydantic checks the two alike)."""

    def __init__(self, adapter: TypeAdapter[Any], inner: WindowPlan) -> None:
        super().__init__(adapter)
        self.inner = inner

    def empty(self) -> Any:
        """None, always valid."""
        return None

    def is_long(self, value: Any) -> bool:
        """Whether `X`'s plan finds `value` long."""
        return value is not None and self.inner.is_long(value)

    async def validate(self, value: Any) -> Outcome:
        """None in one step, anything else by `X`'s plan."""
        return self.whole(value) if value is None else await self.inner.validate(value)


def _moved(found: Found, offset: int) -> Found:
    """Errors of a slice starting at `offset`, their locs made the whole list's."""
    if len(found) > MAX_ERRORS:
        found = found[:MAX_ERRORS]
    return [{**error, "loc": (error["loc"][0] + offset, *error["loc"][1:])} for error in found]


class ModelPlan(WindowPlan):
    """A pydantic model with no validators: its long fields in windows, then the rest in one step.

    `fields` holds the plans of its plain container fields (lists, dicts, and
    those or None), by the key the body holds each under (its alias, if it has
    one)."""

    def __init__(
        self, adapter: TypeAdapter[Any], fields: dict[str, _FieldPlan], order: dict[str, int]
    ) -> None:
        super().__init__(adapter)
        self.fields = fields
        self.order = order
        """Each field's place among the model's fields, by its key: pydantic's errors come in this order."""

    def is_long(self, value: Any) -> bool:
        """A dict holding at least one long value under a field's key."""
        return type(value) is dict and any(each.is_long(value.get(key)) for key, each in self.fields.items())

    async def validate(self, value: Any) -> Outcome:
        """Each long field in windows, then the model in one step, those fields already validated."""
        if not self.is_long(value):
            return self.whole(value)
        data = dict(value)
        found: Found = []
        count = 0
        for key, each in self.fields.items():
            if each.is_long(data.get(key)):
                inner = await each.validate(data[key])
                count += inner.count
                found += [{**error, "loc": (key, *error["loc"])} for error in inner.found]
                # emptied, it is valid: only the other fields' errors are left to find
                data[key] = each.empty() if inner.count else inner.value
        async with heavy_step():
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


_FieldPlan = ListPlan | DictPlan | NullablePlan

Adapt = Callable[[Any], TypeAdapter[Any]]


def window_plan(annotation: Any, adapter: TypeAdapter[Any], adapt: Adapt) -> WindowPlan | None:
    """How a value of `annotation` (validated by `adapter`) is validated in
    windows, or None when it is always validated in one step. `adapt` makes
    the adapter of a type inside `annotation` as `adapter` was made (for a
    container's entries that may be long themselves)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_plan(annotation, adapter, frozenset())
    return _container_plan(annotation, adapter, adapt, frozenset())


def _container_plan(
    annotation: Any, adapter: TypeAdapter[Any], adapt: Adapt, seen: frozenset[type]
) -> _FieldPlan | None:
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is list and len(args) == 1:
        return ListPlan(adapter, _entry_plan(args[0], adapt, seen, models=True))
    if origin is dict and len(args) == 2:
        # a long value's key is checked with the value emptied when it had errors: no model values
        return DictPlan(adapter, _entry_plan(args[1], adapt, seen, models=False))
    if origin in (Union, UnionType) and len(args) == 2 and type(None) in args:
        other = args[0] if args[1] is type(None) else args[1]
        try:
            inner = _container_plan(other, adapt(other), adapt, seen)
        except (TypeError, pydantic.PydanticUserError, NameError):
            return None
        return (
            NullablePlan(adapter, inner)
            if inner is not None and not isinstance(inner, NullablePlan)
            else None
        )
    return None


def _entry_plan(entry: Any, adapt: Adapt, seen: frozenset[type], *, models: bool) -> WindowPlan | None:
    """The plan of a container's entries, when an entry may be long itself (a container, or
    with `models` a model)."""
    is_model = models and isinstance(entry, type) and issubclass(entry, BaseModel)
    if not is_model and get_origin(entry) not in (list, dict, Union, UnionType):
        return None  # a scalar: the container's windows suffice
    try:
        adapter = adapt(entry)
    except (TypeError, pydantic.PydanticUserError, NameError):
        return None
    if is_model:
        return None if entry in seen else _model_plan(entry, adapter, seen)
    return _container_plan(entry, adapter, adapt, seen)


def _has_validators(model: type[BaseModel]) -> bool:
    found = model.__pydantic_decorators__
    return bool(found.field_validators or found.model_validators or found.validators or found.root_validators)


def _model_plan(model: type[BaseModel], adapter: TypeAdapter[Any], seen: frozenset[type]) -> ModelPlan | None:
    if _has_validators(model):
        return None  # a validator would see the windows' output, not the body's values
    config = model.model_config
    seen = seen | {model}

    def adapt(annotation: Any) -> TypeAdapter[Any]:
        # the model's own config (strict, str_strip_whitespace, ...) applies to its fields' items;
        # a model inside keeps its own
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return TypeAdapter(annotation)
        return TypeAdapter(annotation, config=config)

    fields: dict[str, _FieldPlan] = {}
    places: dict[str, int] = {}
    for order, (name, info) in enumerate(model.model_fields.items()):
        key = info.validation_alias if info.validation_alias is not None else info.alias or name
        if isinstance(key, str):
            places.setdefault(key, order)
        if not isinstance(key, str) or info.metadata or info.discriminator is not None:
            continue  # a path of aliases, a constraint on the whole value: one step
        if key != name and (config.get("populate_by_name") or config.get("validate_by_name")):
            continue  # either key may hold it
        try:
            plan = _container_plan(info.annotation, adapt(info.annotation), adapt, seen)
        except (TypeError, pydantic.PydanticUserError, NameError):
            continue
        if plan is not None:
            fields[key] = plan
    return ModelPlan(adapter, fields, places) if fields else None
