"""The durable-task check: what a task must be for the journal to run it again
in another process, checked when the task is made, never at replay.

A durable task is stored as its function's module path (`module:qualname`)
and its arguments as JSON. So the function must be found again by that path
(no lambda, closure, local function or method bound to an object), and each
argument must come back from a JSON round trip *unchanged*: same value, same
types, all the way down (a tuple would come back a list, an `IntEnum` an
`int`, `{1: "a"}` as `{"1": "a"}`; a set, a `datetime` or an ORM object cannot
be written at all). Anything else raises `TypeError` naming the argument and
the task.
"""

from __future__ import annotations

import json
import math
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["MAX_ARGUMENTS_BYTES", "DurablePayload", "check_durable", "reference_of", "resolve"]

MAX_ARGUMENTS_BYTES = 256 * 1024
"""The most JSON a durable task's arguments may take: the journal writes them
before the response, so a huge argument would hold up every request behind it.
Store large data elsewhere (a file, a table) and pass its id."""

DurablePayload = tuple[str, str]
"""What the journal stores for a task: `("module:qualname", arguments_json)`."""


def check_durable(
    func: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any], name: str
) -> DurablePayload:
    """Return what the journal stores for `func(*args, **kwargs)`, or raise
    `TypeError` saying which argument (or the function) cannot be stored, for task `name`."""
    reference = reference_of(func, name)
    for index, value in enumerate(args):
        _check_value(value, f"positional argument {index}", name)
    for keyword, value in kwargs.items():
        _check_value(value, f"keyword argument {keyword!r}", name)
    encoded = json.dumps({"args": list(args), "kwargs": dict(kwargs)}, allow_nan=False, separators=(",", ":"))
    if len(encoded) > MAX_ARGUMENTS_BYTES:
        raise TypeError(
            f"durable task {name}: its arguments take {len(encoded)} bytes of JSON, more than "
            f"{MAX_ARGUMENTS_BYTES}; store the data elsewhere and pass its id"
        )
    return reference, encoded


def reference_of(func: Callable[..., Any], name: str) -> str:
    """`module:qualname` for `func`, checked to lead back to the same object;
    `TypeError` (naming task `name`) when it does not."""
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    bound_to = getattr(func, "__self__", None)
    if bound_to is not None and not isinstance(bound_to, type):
        raise TypeError(
            f"durable task {name}: {qualname or func!r} is a method bound to an object, which another "
            "process cannot find again; make it a module-level function that takes what it needs"
        )
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise TypeError(
            f"durable task {name}: {func!r} has no module path (module:qualname); "
            "use a function defined at the top level of a module"
        )
    if "<lambda>" in qualname or "<locals>" in qualname:
        raise TypeError(
            f"durable task {name}: {module}:{qualname} is a lambda or a function defined inside another "
            "one, which another process cannot import; define it at the top level of a module"
        )
    reference = f"{module}:{qualname}"
    try:
        found = resolve(reference)
    except (ImportError, AttributeError, ValueError) as exc:
        raise TypeError(f"durable task {name}: {reference} cannot be imported back ({exc})") from None
    if found is not func and getattr(found, "__func__", found) is not getattr(func, "__func__", func):
        raise TypeError(
            f"durable task {name}: {reference} names another object than the function given "
            "(a decorated or replaced name?); give the function found at that path"
        )
    return reference


def resolve(reference: str) -> Callable[..., Any]:
    """The object at `module:qualname` (`ImportError`, `AttributeError` or `ValueError` if there is none)."""
    found: Any = pkgutil.resolve_name(reference)  # the standard library's reading of `module:qualname`
    if not callable(found):
        raise AttributeError(f"{reference} is not callable")
    return found  # type: ignore[no-any-return]


def _check_value(value: Any, where: str, name: str) -> None:
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise TypeError(
            f"durable task {name}: {where} ({type(value).__name__}) cannot be written as JSON "
            f"({_first_line(exc)}); pass plain str, int, float, bool, None, list or dict with str keys"
        ) from None
    try:
        same = _same(value, json.loads(text))
    except RecursionError:
        same = False
    if not same:
        raise TypeError(
            f"durable task {name}: {where} ({type(value).__name__}) would not come back the same from "
            "JSON (a tuple comes back a list, an enum a plain value, int keys as str); "
            "pass plain str, int, float, bool, None, list or dict with str keys"
        )


def _same(given: Any, back: Any) -> bool:
    """Equal, with exactly the same types at every level (`1 == 1.0 == True` does not count)."""
    if type(given) is not type(back):
        return False
    if isinstance(given, list):
        return len(given) == len(back) and all(_same(a, b) for a, b in zip(given, back, strict=True))
    if isinstance(given, dict):
        return list(given) == list(back) and all(_same(given[key], back[key]) for key in given)
    if isinstance(given, float) and math.isnan(given):
        return False  # refused by allow_nan before this; kept for clarity of intent
    return bool(given == back)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
