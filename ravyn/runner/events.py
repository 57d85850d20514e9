"""What the runner tells the outside: an event per step of a task, and counters.

A listener added to a runner (`TaskRunner.add_listener`) hears every task of
that runner; one given to `observe_tasks` hears the tasks started inside its
block. Both are called on the event loop, so they must be quick.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

from lilya.background import Task

from ravyn.runner.logs import logger, task_name

__all__ = [
    "SLOW_LISTENER",
    "TaskErrorHook",
    "TaskEvent",
    "TaskListener",
    "TaskStats",
    "emit",
    "observe_tasks",
    "observers",
]


SLOW_LISTENER = 0.05
"""A listener call longer than this (seconds) is logged: listeners run on the event loop."""


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """Something that happened to one task.

    `kind` is `started`, `finished`, `failed` (for good), `retrying` (an
    attempt failed or timed out and another follows) or `lost` (cancelled by
    the shutdown drain, or handed over after it ended). `time` is
    `time.perf_counter()` at the event; `duration` (seconds) and `error` are
    set when the task ends.
    """

    kind: Literal["started", "finished", "failed", "retrying", "lost"]
    name: str
    task: Task
    time: float
    duration: float | None = None
    error: BaseException | None = None
    attempt: int = 1


@dataclass
class TaskStats:
    """Counters of one runner's tasks since it was made (see `Ravyn.task_stats`).

    Every task handed to the runner counts once in `started`, then ends as
    exactly one of `succeeded`, `failed`, `skipped` (a stop-at-first-failure
    cut it), `rejected` (over `max_pending_tasks`) or `lost` (shutdown), or is
    still `running` (running now or waiting its turn):
    `started == succeeded + failed + skipped + rejected + lost + running`.
    """

    started: int = 0
    """Tasks handed to the runner."""
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    rejected: int = 0
    """Tasks refused because the app already held `max_pending_tasks`."""
    lost: int = 0
    running: int = 0
    """Tasks handed over and not ended yet (running now or waiting their turn)."""
    timed_out: int = 0
    """Attempts that ran out of time (a task with retries may count several)."""
    retried: int = 0
    refused: int = 0
    """Requests answered 503 because of `max_pending_tasks`: before their handler
    ran, or because their handler added more tasks than the app had room for."""
    abandoned: int = 0
    """Right now: tasks the runner stopped waiting for that still run (a sync
    function on its thread, a coroutine that ignored its cancellation)."""


TaskListener = Callable[[TaskEvent], None]
"""A function called with every `TaskEvent`, on the event loop: it must be quick and not raise."""

TaskErrorHook = Callable[[Task, BaseException], "Awaitable[None] | None"]
"""An app-level hook called with `(task, exception)` when a task fails: a sync
hook runs on a thread, an async one on the loop, each with a timeout."""

_observers: ContextVar[tuple[TaskListener, ...]] = ContextVar("ravyn_task_observers", default=())


@contextmanager
def observe_tasks(listener: TaskListener) -> Iterator[None]:
    """Call `listener` for every task event raised inside this block
    (in this context and the tasks it starts).

    Example:
        ```python
        from ravyn.runner import TaskEvent, observe_tasks

        seen: list[TaskEvent] = []
        with observe_tasks(seen.append):
            ...  # drive a request; its tasks report to `seen`
        ```
    """
    token = _observers.set((*_observers.get(), listener))
    try:
        yield
    finally:
        _observers.reset(token)


observers: Callable[[], tuple[TaskListener, ...]] = _observers.get
"""The listeners `observe_tasks` blocks around the current code added (the
context variable's own `get`: it is read for every request)."""


def emit(listeners: Sequence[TaskListener], event: TaskEvent, slow: set[int]) -> None:
    """Call each listener with `event`; one that raises is logged, and one that
    takes longer than `SLOW_LISTENER` is logged once (its `id` joins `slow`)."""
    for listener in listeners:
        started = time.perf_counter()
        try:
            listener(event)
        except Exception:
            logger.exception("A task listener raised on %s", event.kind)
        elapsed = time.perf_counter() - started
        if elapsed > SLOW_LISTENER and id(listener) not in slow:
            slow.add(id(listener))
            logger.warning(
                "Task listener %s took %.3fs on the event loop: listeners must be quick "
                "(hand slow work to a queue or a task)",
                task_name(listener),
                elapsed,
            )
