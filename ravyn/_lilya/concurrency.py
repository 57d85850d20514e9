"""Lilya's `AsyncCallable`: reaching the sync function it wraps.

Lilya's `Task` wraps a sync function in `lilya.concurrency.AsyncCallable`,
which runs it on anyio's shared worker threads. The runner runs sync tasks on
threads of its own instead (see `ravyn.runner.threads`), so it needs the
function itself, which Lilya 0.29 keeps in the private attribute `_callable`
(pinned by `tests/_lilya/test_concurrency.py`). If a Lilya release moves it,
`sync_function` returns None, says so once in the log, and the runner falls
back to awaiting the `AsyncCallable`: Lilya's public way, on anyio's threads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lilya.concurrency import AsyncCallable

from ravyn._lilya.assumptions import broken

__all__ = ["AsyncCallable", "sync_function"]


def sync_function(func: object) -> Callable[..., Any] | None:
    """The sync function that `func`, an `AsyncCallable`, wraps; None when `func`
    is not one, or when Lilya no longer keeps the function where we look."""
    if not isinstance(func, AsyncCallable):
        return None
    wrapped = getattr(func, "_callable", None)
    if callable(wrapped):
        return wrapped  # type: ignore[no-any-return]
    _warn_once()
    return None


def _warn_once() -> None:
    broken(
        "lilya.concurrency.AsyncCallable no longer keeps its function in `_callable`",
        "sync background tasks run on anyio's worker threads instead of the runner's",
    )
