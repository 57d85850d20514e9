"""The problems of one request, gathered so that their answer stays small.

A body of a few hundred kilobytes of invalid items holds tens of thousands of
problems. Listing them all made a 400 about fifty times the request's size,
and building that list (pydantic's `errors()`, one dict per problem, then the
JSON) held the event loop for seconds. Here only the first `MAX_ERRORS` are
kept, and the rest are counted: pydantic counts its errors without building
them (`error_count()`), and when there are many, the first ones are found by
validating again only the start of the value: windows of a long list, or a
copy with its lists and objects cut short (see `first_errors`). That costs
about what validating the body once costs, however far into it the first
error is.
"""

from __future__ import annotations

import itertools
from typing import Any

import pydantic
from pydantic import TypeAdapter

from ravyn.exceptions import MAX_ERRORS, FieldError

__all__ = ["ErrorLog", "first_errors"]

Loc = tuple[str | int, ...]

FIRST_BUDGET = 256
"""How many items (list items and object keys, at any depth) the first copy
validated to find the first errors holds."""

GROWTH = 2
"""How many times larger each next copy is, when the one before held no error."""

LIST_IN_FULL = 200
"""Pydantic's own list of errors is read in full only up to this many errors."""

_PRUNE_DEPTH = 200  # deeper containers are cut off: pydantic stops near this depth anyway
_MISSING_TYPES = frozenset({"missing", "missing_argument", "missing_keyword_only_argument"})


class ErrorLog:
    """The errors of one request: the first `MAX_ERRORS` kept, every one counted.

    Errors are grouped by the field they belong to (its `loc`, such as
    `("body", "tags")`): a field a dependency and its handler both read is
    counted once.
    """

    __slots__ = ("counts", "shown")

    def __init__(self) -> None:
        self.shown: list[FieldError] = []
        self.counts: dict[Loc, int] = {}

    def __bool__(self) -> bool:
        return bool(self.counts)

    @property
    def total(self) -> int:
        """How many errors in all, shown or not."""
        return sum(self.counts.values())

    @property
    def full(self) -> bool:
        """Whether no more errors will be shown (later ones are only counted)."""
        return len(self.shown) >= MAX_ERRORS

    def has(self, field: Loc) -> bool:
        """Whether errors of `field` are already recorded."""
        return field in self.counts

    def add(self, error: FieldError) -> None:
        """Record one error, the only one of its field."""
        self.add_field(tuple(error["loc"]), [error], 1)

    def add_field(self, field: Loc, errors: list[FieldError], count: int) -> None:
        """Record `count` errors of `field`, `errors` the first of them (a field seen before is skipped)."""
        if field in self.counts:
            return
        self.counts[field] = count
        room = MAX_ERRORS - len(self.shown)
        if room > 0:
            self.shown.extend(errors[:room])

    def add_pydantic(
        self, field: Loc, adapter: TypeAdapter[Any], value: Any, exc: pydantic.ValidationError
    ) -> None:
        """Record the errors pydantic found in `value`, which belongs to `field`."""
        if field in self.counts:
            return
        count = exc.error_count()
        found = [] if self.full else first_errors(adapter, value, exc, MAX_ERRORS - len(self.shown))
        self.add_field(field, [FieldError((*field, *e["loc"]), e["type"], e["msg"]) for e in found], count)


def first_errors(
    adapter: TypeAdapter[Any], value: Any, exc: pydantic.ValidationError, wanted: int
) -> list[dict[str, Any]]:
    """About the first `wanted` of the errors `exc` (raised by `adapter` for `value`)
    holds, without building all of them when there are many.

    A long list (a list body or field, the usual large input) is validated in
    windows of its items, `FIRST_BUDGET` of them first, each next window
    `GROWTH` times larger, until one holds an error of an item: the first
    errors are found in time proportional to how far into the list they are,
    by slicing, with no copy (the window holding the first error is searched
    the same way). Anything else, such as a short list of large items, is
    searched in copies: see `_first_in_copies`.
    """
    if exc.error_count() <= LIST_IN_FULL:
        return _details(exc)[:wanted]
    if type(value) is list and len(value) > FIRST_BUDGET:
        start, size = 0, FIRST_BUDGET
        while start < len(value):
            window = value[start : start + size]
            try:
                adapter.validate_python(window)
            except pydantic.ValidationError as again:
                # an error with an empty loc is the whole list's (a length): the window's own
                # a window shorter than the list: searched the same way, in smaller windows
                found = [e for e in first_errors(adapter, window, again, wanted) if e["loc"]]
                if any(type(e["loc"][0]) is not int for e in found):
                    break  # a union's tag before the index (`list[int] | str`): no window's loc can be moved
                if found:
                    return [{**e, "loc": (e["loc"][0] + start, *e["loc"][1:])} for e in found]
            start, size = start + size, size * GROWTH
    return _first_in_copies(adapter, value, exc, wanted)


def _first_in_copies(
    adapter: TypeAdapter[Any], value: Any, exc: pydantic.ValidationError, wanted: int
) -> list[dict[str, Any]]:
    """`first_errors` by validating copies of `value`.

    A copy holding only its first `FIRST_BUDGET` items (list items and object
    keys, in the order of the text, at any depth) is validated again; errors
    the cutting itself causes (a list now too short, a key now missing from a
    cut object) are left out. When the copy has none (its items are valid), a
    copy `GROWTH` times larger is tried, and so on; pydantic's full list is
    read only when a copy would be the whole value.
    """
    if exc.error_count() > LIST_IN_FULL:
        budget = FIRST_BUDGET
        while True:
            pruning = _Pruning(budget)
            pruned = pruning.copy(value)
            if not pruning.cut:
                break  # the copy is the whole value: pydantic's own list is as cheap
            try:
                adapter.validate_python(pruned)
            except pydantic.ValidationError as again:
                found = [e for e in _details(again) if not _caused_by_cut(e, pruning.cut)]
                if found:
                    return found[:wanted]
            budget *= GROWTH
    return _details(exc)[:wanted]


def _details(exc: pydantic.ValidationError) -> list[dict[str, Any]]:
    found: list[Any] = exc.errors(include_url=False, include_context=False, include_input=False)
    return found


def _caused_by_cut(error: dict[str, Any], cut: set[Loc]) -> bool:
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "too_short":  # a list cut short is too short at its own loc
        return loc in cut
    # a key missing from a cut object is missing one level below it
    return kind in _MISSING_TYPES and loc[:-1] in cut


class _Pruning:
    """A copy of a decoded value holding at most about `budget` items in all, and where it was cut.

    Written for speed: it runs in Python over up to the whole body, where
    pydantic runs in Rust. Scalars are never visited one by one, locations
    are built only where a cut is made, and a list or object holding no
    container is copied by one slice.
    """

    __slots__ = ("cut", "left", "path")

    def __init__(self, budget: int) -> None:
        self.left = budget
        self.cut: set[Loc] = set()
        self.path: list[str | int] = []

    def copy(self, value: Any, depth: int = 0) -> Any:
        """`value`'s first items, in order, while the budget lasts (and the nesting is not too deep)."""
        kind = type(value)
        if kind is not list and kind is not dict:
            return value
        entries = value.items() if kind is dict else enumerate(value)
        kept = list(itertools.islice(entries, max(self.left, 0)))
        if len(kept) < len(value):
            self.cut.add(tuple(self.path))
        if not any(type(item) is list or type(item) is dict for _, item in kept):
            self.left -= len(kept)
            return dict(kept) if kind is dict else [item for _, item in kept]
        copied: list[tuple[Any, Any]] = []
        for key, item in kept:
            if self.left <= 0:
                self.cut.add(tuple(self.path))
                break
            self.left -= 1
            if type(item) is list or type(item) is dict:
                if depth + 1 >= _PRUNE_DEPTH:
                    # cut off here: copied whole, it could hold any number of errors;
                    # copied further, the copy could exhaust the stack
                    self.cut.add(tuple(self.path))
                    break
                self.path.append(key)
                item = self.copy(item, depth + 1)
                self.path.pop()
            copied.append((key, item))
        return dict(copied) if kind is dict else [item for _, item in copied]
