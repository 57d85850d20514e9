"""The problems of one request, gathered so that their answer stays small.

A body of a few hundred kilobytes of invalid items holds tens of thousands of
problems. Listing them all made a 400 about fifty times the request's size,
and building that list (pydantic's `errors()`, one dict per problem, then the
JSON) held the event loop for seconds. Here only the first `MAX_ERRORS` are
kept, and the rest are counted: pydantic counts its errors without building
them (`error_count()`), and when there are many, the first ones are found by
validating again a copy of the value with its long lists and objects cut
short, which costs as much as a small body.
"""

from __future__ import annotations

import itertools
from typing import Any

import pydantic
from pydantic import TypeAdapter

from ravyn.exceptions import MAX_ERRORS, FieldError

__all__ = ["ErrorLog", "first_errors"]

Loc = tuple[str | int, ...]

KEEP_ITEMS = 64
"""A pruned copy keeps this many items of each list and keys of each object."""

LIST_IN_FULL = 200
"""Pydantic's own list of errors is read in full only up to this many errors."""

_PRUNE_DEPTH = 64  # deeper values are kept as they are: pydantic stops at its own depth limit
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

    A copy of `value` with long lists and objects cut to `KEEP_ITEMS` is
    validated again; errors the cutting itself causes (a list now too short, a
    key now missing inside a cut object) are left out. When that finds none,
    pydantic's full list is read after all.
    """
    if exc.error_count() > LIST_IN_FULL:
        cut: set[Loc] = set()
        pruned = _prune(value, (), cut, 0)
        if cut:
            try:
                adapter.validate_python(pruned)
            except pydantic.ValidationError as again:
                found = [e for e in _details(again) if not _caused_by_cut(e, cut)]
                if found:
                    return found[:wanted]
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


def _prune(value: Any, loc: Loc, cut: set[Loc], depth: int) -> Any:
    """`value` with each list and dict beyond `KEEP_ITEMS` entries cut, recording where in `cut`."""
    if depth >= _PRUNE_DEPTH:
        return value
    if isinstance(value, list):
        if len(value) > KEEP_ITEMS:
            cut.add(loc)
        return [_prune(item, (*loc, index), cut, depth + 1) for index, item in enumerate(value[:KEEP_ITEMS])]
    if isinstance(value, dict):
        if len(value) > KEEP_ITEMS:
            cut.add(loc)
        kept = itertools.islice(value.items(), KEEP_ITEMS)
        return {key: _prune(item, (*loc, key), cut, depth + 1) for key, item in kept}
    return value
