"""Numbers that are not finite, refused where a model of the app's own let them in.

A JSON body cannot hold `NaN` or an infinity as a number (`decode_json`
refuses those), but it can as text: pydantic's default config reads the
string `"inf"`, `"-Infinity"`, `"nan"` or `"1e400"` into a float field as a
float that is not finite. Our own parameters refuse that (their adapters are
built with `allow_inf_nan=False`); a model of the app's own follows its own
config, and a handler that sent the value back got a response it cannot
encode: a 500 for what a client sent.

So a body model's validated value is searched for such floats, and each is a
400 naming where it is. The search runs only for a parameter whose type holds
such a float (`reads_non_finite`, once at registration) and when the body's
text may hold one (`may_hold_non_finite`, a C-speed scan of the raw bytes);
a model whose config says `allow_inf_nan=True` in so many words asked for
them, and keeps them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import anyio.lowlevel
from pydantic import BaseModel

__all__ = [
    "NON_FINITE_MSG",
    "may_hold_non_finite",
    "non_finite_locs",
    "non_finite_locs_in_turns",
    "reads_non_finite",
]

NON_FINITE_MSG = "Input should be a finite number"

Loc = tuple[str | int, ...]

# Lower case, digits as 0, a backslash as !: the shapes a non-finite float's text can take
# (inf, infinity, nan, an exponent of two digits or more, 300 digits in a row) or hide
# behind (a \u escape), each found by one `find`.
_SHAPES = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ123456789\\", b"abcdefghijklmnopqrstuvwxyz000000000!")
_DIGIT_RUN = b"0" * 300
_CHECK_EVERY = 10_000  # values searched between two turns of the event loop, in a large body


def may_hold_non_finite(raw: bytes, *, form: bool = False) -> bool:
    """Whether the text of a body may read as a float that is not finite somewhere.

    For a form body, any percent escape may hide one too."""
    shapes = raw.translate(_SHAPES)
    return (
        shapes.find(b"inf") >= 0
        or shapes.find(b"nan") >= 0
        or shapes.find(b"!") >= 0
        or shapes.find(b"0e") >= 0
        or (form and shapes.find(b"%") >= 0)
        or (len(raw) >= 300 and shapes.find(_DIGIT_RUN) >= 0)
    )


def reads_non_finite(schema: Any, *, by_default: bool = True) -> bool:
    """Whether a pydantic core schema (`TypeAdapter.core_schema`) holds a float that takes
    non-finite values by pydantic's default: one inside a model, dataclass or TypedDict whose
    config does not say `allow_inf_nan` either way (an app that says True asked for them).
    `by_default` says whether the adapter's own config leaves floats outside any model to
    pydantic's default (ours says `allow_inf_nan=False`: pass False).

    Example:
        ```python
        from pydantic import BaseModel, TypeAdapter

        from ravyn._binding.finite import reads_non_finite

        class Price(BaseModel):
            amount: float

        assert reads_non_finite(TypeAdapter(list[Price]).core_schema)
        assert not reads_non_finite(TypeAdapter(list[int]).core_schema)
        ```
    """
    # each node with whether floats in it take pydantic's default (no config says otherwise)
    stack: list[tuple[Any, bool]] = [(schema, by_default)]
    while stack:
        node, by_default = stack.pop()
        if isinstance(node, list):
            stack.extend((each, by_default) for each in node)
            continue
        if not isinstance(node, dict):
            continue
        if node.get("type") == "float" and by_default and "allow_inf_nan" not in node:
            return True
        config = node.get("config")
        if isinstance(config, dict):  # a model's, a dataclass's, a TypedDict's, or an adapter's own
            by_default = "allow_inf_nan" not in config
        stack.extend((each, by_default) for each in node.values() if isinstance(each, dict | list))
    return False


def non_finite_locs(value: Any) -> Iterator[Loc]:
    """Where in a validated value (models, dataclasses, dicts, lists, tuples, sets) a float is
    NaN or infinite; a model's fields named as pydantic names them (by alias)."""
    return (where for where in _walk(value, 0) if where is not None)


def _walk(value: Any, every: int) -> Iterator[Loc | None]:
    """`non_finite_locs`, and (with `every`) None after each `every` values visited."""
    isfinite = math.isfinite
    stack: list[tuple[Any, Loc, int]] = [(value, (), 0)]
    visited = 0
    while stack:
        visited += 1
        if every and visited % every == 0:
            yield None
        item, where, depth = stack.pop()
        kind = type(item)
        if kind is float:
            if not isfinite(item):
                yield where
        elif kind is str or kind is int or kind is bool or item is None or depth > 200:
            continue
        elif isinstance(item, BaseModel):
            if type(item).model_config.get("allow_inf_nan") is True:
                continue  # the app asked for them
            fields = type(item).model_fields
            stack.extend(
                (inner, (*where, fields[name].alias or name if name in fields else name), depth + 1)
                for name, inner in reversed(item.__dict__.items())
            )
        elif isinstance(item, dict):
            stack.extend(
                (inner, (*where, key if isinstance(key, str | int) else str(key)), depth + 1)
                for key, inner in reversed(item.items())
            )
        elif isinstance(item, list | tuple):
            stack.extend(
                (inner, (*where, index), depth + 1) for index, inner in reversed(list(enumerate(item)))
            )
        elif isinstance(item, set | frozenset):
            stack.extend((inner, where, depth + 1) for inner in item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(
                (getattr(item, each.name), (*where, each.name), depth + 1)
                for each in reversed(dataclasses.fields(item))
            )
        elif isinstance(item, float) and not isfinite(item):  # a float subclass
            yield where


async def non_finite_locs_in_turns(value: Any) -> list[Loc]:
    """`non_finite_locs` of a large value, the event loop free every few thousand values."""
    found: list[Loc] = []
    for where in _walk(value, _CHECK_EVERY):
        if where is None:
            await anyio.lowlevel.checkpoint()
        else:
            found.append(where)
    return found
