"""What a handler or dependency is, whatever kind of callable it was given as.

`Depends()` takes functions, but also classes, callable instances,
`functools.partial`s, bound methods and builtins. Each is looked at through
the function that really runs: its parameters, its annotations, and whether
it is `async` or written with `yield` (a callable instance with an
`async def __call__` was taken for a sync function, and its coroutine was
never awaited).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

__all__ = ["describe", "parameters_of", "runs_as", "type_hints_of"]


def runs_as(call: Callable[..., Any]) -> Callable[..., Any]:
    """The function whose code runs when `call` is called (for `async` and `yield` checks)."""
    for _ in range(100):  # a partial of a partial...: never trusted to end by itself
        try:
            call = inspect.unwrap(call)  # a decorator's wrapper (functools.wraps): the function it wraps
        except ValueError:  # a __wrapped__ chain that loops
            return call
        if isinstance(call, functools.partial):
            call = call.func
        elif inspect.isfunction(call) or inspect.ismethod(call) or inspect.isclass(call):
            return call
        elif callable(call) and not inspect.isbuiltin(call):
            # an instance: its class's __call__ is what runs (unbound: enough for annotations and kind)
            method = type(call).__call__
            if method is call:
                return call
            call = method
        else:
            return call
    return call


def type_hints_of(call: Callable[..., Any]) -> dict[str, Any]:
    """The annotations of `call`'s parameters, resolved (`NameError` if one cannot be)."""
    target = runs_as(call)
    if inspect.isclass(target):
        target = target.__init__
    try:
        return get_type_hints(target, include_extras=True)
    except TypeError:  # a builtin or an object get_type_hints cannot read: no annotations
        return {}


def parameters_of(call: Callable[..., Any]) -> list[inspect.Parameter]:
    """`call`'s parameters as a caller passes them (a partial's given ones left out).

    Raises `TypeError` when Python cannot tell them (many builtins, such as `dict`).
    """
    try:
        return list(inspect.signature(call).parameters.values())
    except ValueError as exc:  # "no signature found for builtin ..."
        raise TypeError(f"its parameters cannot be read ({exc}): wrap it in a function of your own") from None


def describe(call: Callable[..., Any]) -> str:
    """A short name for `call` in an error message."""
    if isinstance(call, functools.partial):
        return f"partial({describe(call.func)})"
    name = getattr(call, "__qualname__", None)
    if isinstance(name, str):
        return name
    return f"{type(call).__qualname__} instance"
