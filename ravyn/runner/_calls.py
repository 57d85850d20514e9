"""Calling a task's function so that nothing it raises escapes as an exception:
what it raised comes back as a `Failed` value, so that a `CancelledError` the
task raised itself is never taken for a cancellation of the runner."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from lilya.background import Task

from ravyn._lilya.concurrency import sync_function
from ravyn.runner.threads import DaemonThreadPool, run_in_daemon_thread


class Failed:
    """What a task raised, carried back as a value."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def capture(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a sync task in its thread, handing back whatever it raises as a value."""
    try:
        return func(*args, **kwargs)
    except BaseException as exc:
        return Failed(from_callers_frame(exc))


async def await_(awaitable: Awaitable[Any]) -> Any:
    """Await `awaitable`: a coroutine function for what a sync hook returned."""
    return await awaitable


async def contained(
    func: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    ended: asyncio.Future[Any] | None = None,
) -> Any:
    """Await `func(*args, **kwargs)`, turning whatever it raises into a `Failed`,
    except a cancellation of the asyncio task running this (the runner's). The
    outcome also goes to `ended`, the future its waiter is on; a cancellation
    cancels it."""
    try:
        outcome = await func(*args, **kwargs)
    except asyncio.CancelledError as exc:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            if ended is not None and not ended.done():
                ended.cancel()  # the waiter sees the cancellation, as it saw the task's end before
            raise  # we cancelled it: a real cancellation
        outcome = Failed(exc)
    except BaseException as exc:  # SystemExit, KeyboardInterrupt, GeneratorExit: contained too
        outcome = Failed(from_callers_frame(exc))
    if ended is not None and not ended.done():
        ended.set_result(outcome)
    return outcome


def from_callers_frame(exc: BaseException) -> BaseException:
    """Drop our wrapper's frame from the traceback: the log starts at the task."""
    if exc.__traceback__ is not None and exc.__traceback__.tb_next is not None:
        return exc.with_traceback(exc.__traceback__.tb_next)
    return exc


async def on_thread(task: Task, pool: DaemonThreadPool) -> Any:
    """Run a sync task (Lilya wraps it in `AsyncCallable`) on `pool`'s threads;
    return what it returned, or a `Failed` with what it raised.

    If Lilya no longer lets us reach the function, the `AsyncCallable` is
    awaited instead: Lilya's own way, on anyio's threads."""
    function = sync_function(task.func)
    if function is None:
        return await contained(task.func, task.args, task.kwargs)
    call = functools.partial(capture, function, *task.args, **task.kwargs)
    return await run_in_daemon_thread(call, None, pool)
