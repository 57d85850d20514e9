"""The task runner: how background tasks run after the response.

Every `Ravyn` app owns a [`TaskRunner`][ravyn.runner.TaskRunner]
(`app.task_runner`). Whatever route serves a request inside the app (ours, a
Lilya `Path`, an `Include`d app, a mounted ASGI app), the tasks given to its
response, ours or Lilya's `Task`/`Tasks`, run through that runner: each
exactly once, in order, a failure logged and reported, never raised into the
server. What the runner adds to Lilya's plain `await task()`:

* sync functions run on daemon threads of its own (`task_threads`), and a
  thread the runner stopped waiting for frees its slot;
* timeouts and retries per task, stop-at-first-failure per collection or app-wide;
* any exception, `BaseException` included, is contained like a failure; only a
  real cancellation of the runner passes through;
* [`TaskEvent`][ravyn.runner.TaskEvent]s for listeners, counters
  ([`TaskStats`][ravyn.runner.TaskStats]), a bound on pending tasks
  (backpressure) and a shutdown drain that always ends.

Task logs go to the `ravyn.background` logger, the one to configure for them.
The runner needs asyncio (uvicorn's loop, and Pyodide's in a browser).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast

import anyio
from lilya.background import Task, Tasks
from lilya.compat import is_async_callable
from lilya.concurrency import AsyncCallable

from ravyn.background import BackgroundTask, task_name
from ravyn.threads import DaemonThreadPool, run_in_daemon_thread

__all__ = [
    "CANCEL_GRACE",
    "DEFAULT_MAX_PENDING_TASKS",
    "DRAIN_MARGIN",
    "SAFE_METHODS",
    "Plan",
    "TaskErrorHook",
    "TaskEvent",
    "TaskListener",
    "TaskRunner",
    "TaskStats",
    "current_runner",
    "default_runner",
    "escape_text",
    "observe_tasks",
    "plan_tasks",
    "serving",
]

logger = logging.getLogger("ravyn.background")

SAFE_METHODS = frozenset({"HEAD", "OPTIONS"})
"""Methods whose responses run no background tasks: repeating them must be harmless."""

DEFAULT_MAX_PENDING_TASKS = 2048
"""The default bound on an app's tasks waiting or running (`Ravyn(max_pending_tasks=...)`)."""

CANCEL_GRACE = 0.5
"""Seconds a cancelled task (a timeout, the drain) gets to run its clean-up before it is abandoned."""

DRAIN_MARGIN = 1.0
"""Seconds past `task_drain_timeout` by which the drain has always ended, whatever tasks do."""

SLOW_LISTENER = 0.05
"""A listener call longer than this (seconds) is logged: listeners run on the event loop."""


# --------------------------------------------------------------------------- events and counters


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
    """Requests answered 503 before their handler ran, because of `max_pending_tasks`."""
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


# --------------------------------------------------------------------------- the plan


class Plan(list["Task | tuple[Task, ...]"]):
    """The steps of one request's tasks, in order: a task, or a tuple of tasks
    run concurrently. `stoppers[i]` names (by `id`) the collections made with
    `stop_on_error=True` that hold step `i`: a failure there skips their later steps."""

    def __init__(self) -> None:
        super().__init__()
        self.stoppers: list[frozenset[int]] = []

    def leaves(self) -> list[Task]:
        """Every task of the plan, groups opened, in order."""
        found: list[Task] = []
        for step in self:
            found.extend(step if isinstance(step, tuple) else (step,))
        return found


def plan_tasks(sources: Iterable[Task | None]) -> Plan:
    """Flatten tasks and task collections into the steps to run, in order.

    A task object met twice (the same collector attached in two places) is
    kept once. A collection made with `as_group=True` becomes one tuple whose
    tasks run concurrently; anything nested inside a group joins that group.
    """
    seen: set[int] = set()
    plan = Plan()

    def add(task: Task | None, into: list[Any], stoppers: frozenset[int]) -> None:
        if task is None or id(task) in seen:
            return
        seen.add(id(task))
        if not isinstance(task, Tasks):
            into.append(task)
            if into is plan:
                plan.stoppers.append(stoppers)
        elif task.as_group and into is plan:
            group: list[Task] = []
            for inner in task.tasks:
                add(inner, group, stoppers)
            if group:
                plan.append(tuple(group))
                plan.stoppers.append(stoppers)
        else:
            if getattr(task, "stop_on_error", False):
                stoppers = stoppers | {id(task)}
            for inner in task.tasks:
                add(inner, into, stoppers)

    for source in sources:
        add(source, plan, frozenset())
    return plan


# --------------------------------------------------------------------------- the current request


class _Request:
    """The runner serving the current request, and what it reserved there."""

    __slots__ = ("method", "reserved", "runner")

    def __init__(self, runner: TaskRunner, method: str) -> None:
        self.runner = runner
        self.method = method
        self.reserved = False


_current: ContextVar[_Request | None] = ContextVar("ravyn_current_request", default=None)


def current_runner() -> TaskRunner:
    """The runner of the `Ravyn` app serving the current request, or
    `default_runner` outside one."""
    request = _current.get()
    return request.runner if request is not None else default_runner


class serving:
    """Mark the code inside as serving one request of `runner`'s app: tasks
    called there run through `runner`, and a place it reserved for tasks is
    given back when the request ends. Used by `Ravyn.__call__`."""

    __slots__ = ("request", "token")

    def __init__(self, runner: TaskRunner, method: str) -> None:
        self.request = _Request(runner, method)

    def __enter__(self) -> None:
        self.token = _current.set(self.request)

    def __exit__(self, *exc_info: object) -> None:
        _current.reset(self.token)
        if self.request.reserved:
            self.request.runner._release(self.request)


# --------------------------------------------------------------------------- running


class _Failed:
    """What a task raised, carried back as a value so that a `CancelledError`
    the task raised is never taken for a cancellation of the runner."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Run:
    """One request's tasks while they run: what the shutdown drain may cancel.

    The common case, one plain async task with nobody listening, has no
    `_Run` at all (see `TaskRunner.run`). Most other runs cancel through an
    anyio cancel scope around them. A run of one async task with no timeout,
    retries or error hook (with listeners) has no scope: its only wait is the
    future `_await_detached` awaits, which `cancel()` cancels instead, once,
    as the scope would have.

    A plan with no group (`host` set) has no scope either: its async tasks
    with no timeout are awaited in the request's own asyncio task, `host`,
    which `cancel()` cancels once with asyncio's `Task.cancel()`; the runner
    takes that cancellation back (`uncancel`) when the run ends.
    """

    __slots__ = ("base", "cancel_called", "ended", "host", "leaves", "plan", "scope", "waiter")

    def __init__(
        self,
        plan: Plan | None,
        leaves: list[Task],
        *,
        scoped: bool = True,
        host: asyncio.Task[Any] | None = None,
    ) -> None:
        self.plan = plan
        self.leaves = leaves
        self.ended: set[int] = set()
        self.scope = anyio.CancelScope() if scoped and host is None else None
        self.waiter: asyncio.Future[None] | None = None
        self.host = host
        self.base = host.cancelling() if host is not None else 0
        self.cancel_called = False

    def cancel(self) -> None:
        """Cancel what runs now (the drain, a second signal), once."""
        if self.cancel_called:
            return
        self.cancel_called = True
        if self.scope is not None:
            self.scope.cancel()
        elif self.host is not None:
            self.host.cancel()
        elif self.waiter is not None:
            self.waiter.cancel()

    def unfinished(self) -> list[Task]:
        """The tasks not ended yet, in plan order."""
        return [task for task in self.leaves if id(task) not in self.ended]


def _single_leaf(sources: Sequence[Task | None]) -> Task | None:
    """The one task of `sources` when they hold exactly one, outside any
    collection that changes how it runs (a group, `stop_on_error=True`):
    then no `Plan` is needed. None otherwise."""
    found: Task | None = None
    for source in sources:
        if source is None:
            continue
        if found is not None:
            return None
        found = source
    if isinstance(found, Tasks):
        if found.as_group or getattr(found, "stop_on_error", False) or len(found.tasks) != 1:
            return None
        found = found.tasks[0]
        if found is None or isinstance(found, Tasks):
            return None
    return found


class TaskRunner:
    """Runs the background tasks of a request after its response.

    Each task runs exactly once, in order. A task that raises (anything,
    `SystemExit` and `KeyboardInterrupt` included) is logged on the
    `ravyn.background` logger with its name, its arguments and the traceback,
    reported to `on_task_error`, and the next task still runs (unless
    `stop_on_error=True`, or its collection was made with `stop_on_error=True`).
    Only a real cancellation of the runner (the drain, or an outer cancel
    scope) passes through. Sync functions run on daemon threads, at most
    `thread_limit` at once, so slow sync tasks cannot take the threads that
    sync handlers use. `stats` counts what happened; `drain()` waits for
    running tasks at shutdown, and always ends.

    Every `Ravyn` app owns one runner (`app.task_runner`).
    """

    def __init__(
        self,
        *,
        stop_on_error: bool = False,
        on_task_error: TaskErrorHook | None = None,
        thread_limit: int = 40,
        max_pending: int = DEFAULT_MAX_PENDING_TASKS,
        hook_timeout: float = 5.0,
    ) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending_tasks must be at least 1, got {max_pending}")
        self.stop_on_error = stop_on_error
        self.on_task_error = on_task_error
        self.thread_limit = thread_limit
        self.max_pending = max_pending
        self.hook_timeout = hook_timeout
        self.listeners: list[TaskListener] = []
        self.stats = TaskStats()
        self.draining = False
        self.closed = False
        """True once a signal's drain has ended: tasks handed over later are logged lost."""
        self._reserved = 0
        self._active: set[_Run] = set()
        # the common path (see `run`): one async task awaited in the request's own
        # asyncio task, keyed by that task. No `_Run`, no scope, no task of its own.
        self._inline: dict[asyncio.Task[Any], Task] = {}
        self._cancelled: set[asyncio.Task[Any]] = set()
        """Request tasks the runner cancelled once (the drain, a second signal) and not back yet."""
        self._given_up: dict[asyncio.Task[Any], Task] = {}
        """Inline runs already counted lost that still run (a coroutine ignoring its cancellation)."""
        self._hosted: dict[asyncio.Task[Any], _Run] = {}
        """Runs with a host (see `_Run`), by the request task that runs them."""
        self._given_up_runs: set[_Run] = set()
        """Runs with a host already counted lost that still run (a task ignoring its cancellation)."""
        self._orphans: set[asyncio.Task[Any]] = set()
        self._hook_limiter: anyio.CapacityLimiter | None = None
        self._drain_scope: anyio.CancelScope | None = None
        self._slow_listeners: set[int] = set()
        self._totalled = 0
        self.pool = DaemonThreadPool(thread_limit)
        self.hook_pool = DaemonThreadPool(2, name="ravyn-hook", max_abandoned=2)

    def add_listener(self, listener: TaskListener) -> None:
        """Call `listener` with every `TaskEvent` of every request of this runner."""
        self.listeners.append(listener)

    def remove_listener(self, listener: TaskListener) -> None:
        """Stop calling `listener`."""
        self.listeners.remove(listener)

    @property
    def pending(self) -> int:
        """Tasks waiting or running, plus one per request admitted and still in its handler."""
        return self.stats.running + self._reserved

    def snapshot(self) -> dict[str, int]:
        """The counters as a dict, `abandoned` measured now."""
        self.stats.abandoned = (
            self.pool.abandoned + len(self._orphans) + len(self._given_up) + len(self._given_up_runs)
        )
        return asdict(self.stats)

    # ----------------------------------------------------------------------- admission

    def admit(self) -> bool:
        """Before a handler that may add tasks runs: return False (and count the
        request `refused`) when the app already holds `max_pending` tasks;
        otherwise reserve one place until the request hands its tasks over."""
        request = _current.get()
        if request is None or request.runner is not self or request.reserved:
            return True
        if self.pending >= self.max_pending:
            self.stats.refused += 1
            return False
        request.reserved = True
        self._reserved += 1
        return True

    def _release(self, request: _Request) -> None:
        if request.reserved:
            request.reserved = False
            self._reserved -= 1

    # ----------------------------------------------------------------------- running a request's tasks

    async def run(self, *sources: Task | None) -> None:
        """Run every task in `sources` (tasks, collections or `None`), once each."""
        request = _current.get()
        admitted = False
        if request is not None and request.runner is self:
            if request.reserved:
                admitted = True
                request.reserved = False
                self._reserved -= 1
            if request.method in SAFE_METHODS:
                # safe methods must be harmless to repeat (monitors, preflights): like Lilya, no tasks
                logger.debug("%s request: its background tasks are not run", request.method)
                return
        leaf = _single_leaf(sources)
        if (
            leaf is not None
            and self.on_task_error is None
            and not self.listeners
            and not self.closed
            and (admitted or self.stats.running + self._reserved < self.max_pending)
            and getattr(leaf, "timeout", None) is None
            and not getattr(leaf, "retries", 0)
            and not _observers.get()
        ):
            host = asyncio.current_task()
            if host is not None and host not in self._inline and not self._given_up:
                # the common case, one plain task: an async one is awaited right here, in the
                # request's own asyncio task, as Lilya and Starlette do, a sync one waited for
                # here; no _Run, no cancel scope: the drain cancels this asyncio task once
                stats = self.stats
                stats.started += 1
                stats.running += 1
                self._inline[host] = leaf
                base = host.cancelling()
                started = time.perf_counter()
                func = leaf.func
                try:
                    if isinstance(func, AsyncCallable):
                        outcome = await self._on_thread(leaf)
                    else:
                        outcome = await func(*leaf.args, **leaf.kwargs)
                except BaseException as exc:
                    if self._settle_inline(host, leaf, exc, base, started):
                        raise
                    return
                if isinstance(outcome, _Failed):  # what a sync task raised
                    self._settle_inline(host, leaf, outcome, base, started)
                elif self._cancelled or self._inline.pop(host, None) is None:
                    self._settle_inline(host, leaf, None, base, started)
                else:
                    stats.running -= 1
                    stats.succeeded += 1
                return
        plan: Plan | None = None
        if leaf is None:
            plan = plan_tasks(sources)
            if not plan:
                return
        leaves = plan.leaves() if plan is not None else [leaf] if leaf is not None else []
        self.stats.started += len(leaves)
        self.stats.running += len(leaves)
        # one async task with no timeout, retries or hook: its one wait is cancellable itself
        scoped = not (
            leaf is not None
            and self.on_task_error is None
            and not isinstance(leaf.func, AsyncCallable)
            and getattr(leaf, "timeout", None) is None
            and not getattr(leaf, "retries", 0)
        )
        hosted_by: asyncio.Task[Any] | None = None
        if plan is not None and not any(isinstance(step, tuple) for step in plan):
            hosted_by = asyncio.current_task()
            if hosted_by in self._inline or hosted_by in self._hosted or self._given_up:
                hosted_by = None  # a run inside a task of this request: the scoped way
        run = _Run(plan, leaves, scoped=scoped, host=hosted_by)
        if self.closed:
            self._report_lost(run, "handed over after the shutdown drain ended")
            return
        if not admitted and self.pending > self.max_pending:
            self._reject(run)
            return
        self._active.add(run)
        taken_back = False
        if hosted_by is not None:
            self._hosted[hosted_by] = run
        try:
            if run.scope is not None:
                with run.scope:
                    await self._run_steps(run, leaf)
            elif hosted_by is not None:
                try:
                    await self._run_steps(run, leaf)
                except asyncio.CancelledError:
                    if not run.cancel_called:
                        raise  # a cancellation of the request itself
                    taken_back = True
                    hosted_by.uncancel()
                    if hosted_by.cancelling() > run.base:
                        raise  # the server's as well as ours
                    # ours: the run ends here, as a cancel scope's would
            else:
                try:
                    await self._run_steps(run, leaf)
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if not run.cancel_called or (current is not None and current.cancelling()):
                        raise  # not (only) ours: a cancellation of the request itself
                    # ours, delivered through the waiter: it ends here, as a cancel scope's would
        finally:
            self._active.discard(run)
            if hosted_by is not None:
                del self._hosted[hosted_by]
                self._given_up_runs.discard(run)
                if run.cancel_called and not taken_back:
                    hosted_by.uncancel()  # cancelled, but the task swallowed it and returned
            if run.unfinished():
                if run.cancel_called:  # by the drain, which logs the total
                    self._report_lost(run, "cancelled at shutdown", total=not self.draining)
                else:  # a cancellation from outside: the server giving up on the request
                    self._report_lost(run, "cancelled from outside the runner")

    def _settle_inline(
        self,
        host: asyncio.Task[Any],
        leaf: Task,
        exc: BaseException | _Failed | None,
        base: int,
        started: float,
    ) -> bool:
        """End an inline run (see `run`) that did not simply succeed, or that the
        runner cancelled; return whether `exc` must propagate (a cancellation of
        the request from outside the runner).

        A run the drain or a second signal cancelled is lost, whatever it did
        then; one already counted lost while it ignored its cancellation is not
        counted again. The runner's own cancellation is taken back (`uncancel`),
        so the request's task goes on as a cancel scope would have let it.
        """
        counted = self._inline.pop(host, None) is not None
        ours = host in self._cancelled
        if ours:
            self._cancelled.discard(host)
            host.uncancel()
        self._given_up.pop(host, None)
        outside = isinstance(exc, asyncio.CancelledError) and host.cancelling() > base
        if not counted:  # already counted lost (the drain gave up on it, or a second signal)
            return outside
        stats = self.stats
        stats.running -= 1
        if ours:
            stats.lost += 1
            self._log_lost([leaf], "cancelled at shutdown", total=not self.draining)
        elif outside:
            stats.lost += 1
            self._log_lost([leaf], "cancelled from outside the runner", total=True)
        elif exc is None:
            stats.succeeded += 1
        else:
            # raised by the task itself, a CancelledError included: a failure, contained
            stats.failed += 1
            if isinstance(exc, _Failed):  # from a sync task's thread, its traceback trimmed there
                error = exc.error
            elif isinstance(exc, asyncio.CancelledError):
                error = exc
            else:
                error = _from_callers_frame(exc)
            self._log_failure(leaf, error, time.perf_counter() - started, 1)
            if self.stop_on_error:
                logger.warning("Skipping the remaining background tasks: stop_on_error is set")
        return outside

    def _cancel_running(self) -> None:
        """Cancel every run once (the drain): scoped runs through their scope, inline
        runs with asyncio's `Task.cancel()` on the request's task that runs them."""
        for run in list(self._active):
            run.cancel()
        for host in list(self._inline):
            if host not in self._cancelled:
                self._cancelled.add(host)
                host.cancel()

    def _give_up_inline(self, why: str) -> int:
        """Count every inline run still running lost (once), cancel those not cancelled
        yet, and keep them in `abandoned` until they end. Returns how many."""
        given_up = list(self._inline.items())
        for host, leaf in given_up:
            del self._inline[host]
            self._given_up[host] = leaf
            self.stats.running -= 1
            self.stats.lost += 1
            if host not in self._cancelled:
                self._cancelled.add(host)
                host.cancel()
        self._log_lost([leaf for _, leaf in given_up], why, total=False)
        return len(given_up)

    async def _run_steps(self, run: _Run, leaf: Task | None) -> None:
        if run.plan is not None:
            await self._run_plan(run)
        elif not await self._run_one(run, leaf) and self.stop_on_error:  # type: ignore[arg-type]
            logger.warning("Skipping the remaining background tasks: stop_on_error is set")

    async def _run_plan(self, run: _Run) -> None:
        stopped: set[int] = set()
        plan = run.plan
        assert plan is not None
        # consecutive plain sync tasks share one thread hop, when nothing has to happen
        # on the loop between them (an event for listeners, the error hook, a stop)
        batching = not (self.listeners or _observers.get() or self.on_task_error or self.stop_on_error)
        position = 0
        while position < len(plan):
            if run.cancel_called:  # a task ignored the cancellation, then returned: start no more
                self._skip_cancelled(run)
                return
            step = plan[position]
            leaves = step if isinstance(step, tuple) else (step,)
            if stopped & plan.stoppers[position]:
                self._skip(run, leaves)
                position += 1
                continue
            end = self._sync_batch_end(plan, position) if batching else position + 1
            if end - position > 1:
                await self._run_sync_batch(run, cast("list[Task]", plan[position:end]))
                position = end
                continue
            if isinstance(step, tuple):
                succeeded = await self._run_group(run, step)
            else:
                succeeded = await self._run_one(run, step)
            position += 1
            if succeeded:
                continue
            if self.stop_on_error:
                logger.warning("Skipping the remaining background tasks: stop_on_error is set")
                self._skip(run, run.unfinished())
                return
            if plan.stoppers[position - 1]:
                stopped |= plan.stoppers[position - 1]
                logger.warning("Skipping the rest of a task collection made with stop_on_error=True")

    @staticmethod
    def _sync_batch_end(plan: Plan, position: int) -> int:
        """The end of the run of plain sync steps starting at `position` (no
        group, timeout, retries or stop-at-first-failure collection)."""
        end = position
        while end < len(plan):
            step = plan[end]
            if (
                isinstance(step, tuple)
                or not isinstance(step.func, AsyncCallable)
                or getattr(step, "timeout", None) is not None
                or getattr(step, "retries", 0) != 0
                or plan.stoppers[end]
            ):
                break
            end += 1
        return end

    async def _run_sync_batch(self, run: _Run, tasks: list[Task]) -> None:
        """Run consecutive sync tasks in one thread hop, each as `_run_one`
        would: in order, each in its own copy of the request's context, a
        failure logged as it happens and the next one still run. If the wait
        is cancelled (the drain), the tasks not started yet never start."""
        calls = [
            (
                contextvars.copy_context(),
                functools.partial(_capture, _sync_function(task), *task.args, **task.kwargs),
            )
            for task in tasks
        ]
        outcomes: list[Any] = []
        cancelled = False

        def batch() -> None:
            for task, (context, call) in zip(tasks, calls, strict=True):
                if cancelled:
                    return
                started = time.perf_counter()
                outcome = context.run(call)
                if isinstance(outcome, _Failed):
                    self._log_failure(task, outcome.error, time.perf_counter() - started, 1)
                outcomes.append(outcome)

        try:
            await run_in_daemon_thread(batch, None, self.pool)
        finally:
            cancelled = True
            for task, outcome in zip(tasks, list(outcomes), strict=False):
                self._end(run, task, "failed" if isinstance(outcome, _Failed) else "succeeded")

    async def _run_group(self, run: _Run, tasks: Sequence[Task]) -> bool:
        """Run `tasks` concurrently; return whether all of them succeeded."""
        outcomes: list[bool] = []

        async def run_into(task: Task) -> None:
            outcomes.append(await self._run_one(run, task))

        async with anyio.create_task_group() as group:
            for task in tasks:
                group.start_soon(run_into, task)
        return len(outcomes) == len(tasks) and all(outcomes)

    async def _run_one(self, run: _Run, task: Task) -> bool:
        """Run one leaf task, with its retries; return whether it succeeded.

        Never raises for what the task does; a cancellation of the runner passes through.
        """
        listeners = (*self.listeners, *_observers.get()) if self.listeners or _observers.get() else ()
        name = task_name(task) if listeners else ""
        timeout = getattr(task, "timeout", None)
        attempts = 1 + getattr(task, "retries", 0)
        started = time.perf_counter()
        if listeners:
            self._emit(listeners, TaskEvent("started", name, task, started))
        error: BaseException | None = None
        for attempt in range(1, attempts + 1):
            error = await self._attempt(run, task, timeout)
            ended = time.perf_counter()
            if error is None:
                self._end(run, task, "succeeded")
                if listeners:
                    self._emit(listeners, TaskEvent("finished", name, task, ended, ended - started))
                return True
            if attempt < attempts:
                self.stats.retried += 1
                self._log_attempt(task, error, attempt, attempts, ended - started)
                if listeners:
                    event = TaskEvent("retrying", name, task, ended, ended - started, error, attempt)
                    self._emit(listeners, event)
                await anyio.sleep(getattr(task, "retry_delay", 0.0))
        assert error is not None  # the loop returns on success
        self._end(run, task, "failed")
        self._log_failure(task, error, ended - started, attempts)
        if listeners:
            self._emit(listeners, TaskEvent("failed", name, task, ended, ended - started, error, attempts))
        await self._report(task, error)
        return False

    async def _attempt(self, run: _Run, task: Task, timeout: float | None) -> BaseException | None:
        """Run the task once; return what it raised (a timeout is a `TimeoutError`)."""
        if timeout is None:  # the usual case: no timeout scope to enter and leave
            outcome = await self._invoke(run, task, inline=run.host is not None)
        else:
            with anyio.move_on_after(timeout) as scope:
                outcome = await self._invoke(run, task, inline=False)
            if scope.cancelled_caught:
                self.stats.timed_out += 1
                return TimeoutError(f"timed out after {timeout:g}s")
        return outcome.error if isinstance(outcome, _Failed) else None

    async def _on_thread(self, task: Task) -> Any:
        """Run a sync task on this runner's threads (Lilya's `Task` wraps a sync
        function in `AsyncCallable`, for anyio's shared threads); return what it
        returned, or a `_Failed` with what it raised."""
        call = functools.partial(_capture, _sync_function(task), *task.args, **task.kwargs)
        return await run_in_daemon_thread(call, None, self.pool)

    async def _invoke(self, run: _Run, task: Task, *, inline: bool) -> Any:
        if isinstance(task.func, AsyncCallable):
            return await self._on_thread(task)
        if not inline:
            return await self._await_detached(task.func, task.args, task.kwargs, run)
        # a run with a host and no timeout here: awaited in the request's own task
        try:
            return await task.func(*task.args, **task.kwargs)
        except asyncio.CancelledError as exc:
            if run.host is not None and run.host.cancelling() > run.base:
                raise  # the drain's, or the server's: a real cancellation
            return _Failed(exc)  # raised by the task itself: a failure
        except BaseException as exc:  # SystemExit, KeyboardInterrupt, GeneratorExit: contained too
            return _Failed(_from_callers_frame(exc))

    async def _await_detached(
        self,
        func: Callable[..., Any],
        args: Sequence[Any],
        kwargs: dict[str, Any],
        run: _Run | None = None,
    ) -> Any:
        """Await `func(*args, **kwargs)` in an asyncio task of its own; return
        what it returned, or a `_Failed` with what it raised.

        The task hands its outcome to the future this wait is on, as its last
        step: the waiter wakes one loop iteration after the task ends, with no
        done callback in between.

        If this wait is cancelled, the task is cancelled once (asyncio's
        cancellation, not anyio's, which is delivered again at every await: a
        task that swallows it would spin) and given `CANCEL_GRACE` seconds to
        finish; a task that ignores it is abandoned, and counted, not waited for.
        """
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[Any] = loop.create_future()  # cheaper to wait on than asyncio.wait
        inner = loop.create_task(_contained(func, args, kwargs, ended))
        if run is not None:
            run.waiter = ended  # what run.cancel() cancels for a run with no cancel scope
        try:
            return await ended
        except BaseException:
            if not inner.done():
                inner.cancel()
                with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_GRACE):
                    await asyncio.wait((inner,))
                if not inner.done():
                    self._abandon(inner)
            raise

    def _abandon(self, inner: asyncio.Task[Any]) -> None:
        self._orphans.add(inner)
        inner.add_done_callback(self._orphans.discard)
        self._log_abandoned()

    def _log_abandoned(self) -> None:
        logger.warning(
            "A background task ignored its cancellation for %gs: abandoned (%d such task(s) still running)",
            CANCEL_GRACE,
            len(self._orphans) + len(self._given_up) + len(self._given_up_runs),
        )

    # ----------------------------------------------------------------------- outcomes

    def _end(
        self, run: _Run, task: Task, outcome: Literal["succeeded", "failed", "skipped", "rejected", "lost"]
    ) -> None:
        if id(task) in run.ended:  # already counted (lost, when the drain gave up on it)
            return
        run.ended.add(id(task))
        stats = self.stats
        stats.running -= 1
        if outcome == "succeeded":  # the common case, without getattr/setattr
            stats.succeeded += 1
        else:
            setattr(stats, outcome, getattr(stats, outcome) + 1)

    def _skip_cancelled(self, run: _Run) -> None:
        """After a cancellation a task ignored: what was not started is lost (once)."""
        self._report_lost(run, "cancelled at shutdown", total=not self.draining)

    def _skip(self, run: _Run, tasks: Iterable[Task]) -> None:
        for task in tasks:
            if id(task) not in run.ended:
                self._end(run, task, "skipped")

    def _reject(self, run: _Run) -> None:
        tasks = run.unfinished()
        for task in tasks:
            self._end(run, task, "rejected")
        logger.error(
            "%d background task(s) rejected: the app already holds %d pending tasks "
            "(max_pending_tasks=%d): %s",
            len(tasks),
            self.pending,
            self.max_pending,
            ", ".join(_described(task) for task in tasks),
        )

    def _report_lost(self, run: _Run, why: str, *, total: bool = True) -> int:
        tasks = run.unfinished()
        for task in tasks:
            self._end(run, task, "lost")
        self._log_lost(tasks, why, total=total)
        return len(tasks)

    def _log_lost(self, tasks: Sequence[Task], why: str, *, total: bool) -> None:
        """Log each of `tasks` lost by name (and a total), and tell the listeners."""
        listeners = (*self.listeners, *_observers.get())
        now = time.perf_counter()
        for task in tasks:
            logger.error(
                "Background task %s lost: %s",
                _described(task),
                why,
                extra={"task_name": task_name(task)},
            )
            if listeners:
                self._emit(listeners, TaskEvent("lost", task_name(task), task, now))
        if tasks and total:
            logger.error("%d background task(s) lost: %s", len(tasks), why)

    # ----------------------------------------------------------------------- logs and hooks

    def _log_attempt(
        self, task: Task, error: BaseException, attempt: int, attempts: int, elapsed: float
    ) -> None:
        logger.warning(
            "Background task %s attempt %d/%d failed after %.3fs: %s: %s; retrying",
            _described(task),
            attempt,
            attempts,
            elapsed,
            type(error).__name__,
            escape_text(str(error)),
            extra={"task_name": task_name(task)},
        )

    def _log_failure(self, task: Task, error: BaseException, elapsed: float, attempts: int) -> None:
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        logger.error(
            "Background task %s failed after %.3fs%s: %s: %s",
            _described(task),
            elapsed,
            tries,
            type(error).__name__,
            escape_text(str(error)),
            exc_info=error,
            extra={"task_name": task_name(task)},
        )

    async def _report(self, task: Task, exc: BaseException) -> None:
        """Call `on_task_error`, off the loop if it is sync, within `hook_timeout`."""
        hook = self.on_task_error
        if hook is None:
            return
        name = task_name(task)
        try:
            with anyio.move_on_after(self.hook_timeout) as scope:
                if is_async_callable(hook):
                    outcome = await self._await_detached(hook, (task, exc), {})
                else:
                    if self._hook_limiter is None:
                        self._hook_limiter = anyio.CapacityLimiter(self.hook_pool.size)
                    call = functools.partial(_capture, hook, task, exc)
                    outcome = await run_in_daemon_thread(call, self._hook_limiter, self.hook_pool)
                    if inspect.isawaitable(outcome):  # a sync callable that returned an awaitable
                        outcome = await self._await_detached(_await, (outcome,), {})
        except Exception:  # the hook returned something odd to await: still only a log line
            logger.exception("The on_task_error hook raised while reporting %s", name)
            return
        if scope.cancelled_caught:
            logger.error(
                "The on_task_error hook did not return within %gs while reporting %s: abandoned",
                self.hook_timeout,
                name,
            )
        elif isinstance(outcome, _Failed):
            logger.error(
                "The on_task_error hook raised while reporting %s",
                name,
                exc_info=outcome.error,
            )

    def _emit(self, listeners: Sequence[TaskListener], event: TaskEvent) -> None:
        for listener in listeners:
            started = time.perf_counter()
            try:
                listener(event)
            except Exception:
                logger.exception("A task listener raised on %s", event.kind)
            elapsed = time.perf_counter() - started
            if elapsed > SLOW_LISTENER and id(listener) not in self._slow_listeners:
                self._slow_listeners.add(id(listener))
                logger.warning(
                    "Task listener %s took %.3fs on the event loop: listeners must be quick "
                    "(hand slow work to a queue or a task)",
                    task_name(listener),
                    elapsed,
                )

    # ----------------------------------------------------------------------- shutdown

    async def drain(self, timeout: float, *, close: bool = False) -> int:
        """Wait up to `timeout` seconds for running tasks, then cancel what is
        still running. Returns how many tasks were lost (each is logged by
        name, with a total). `draining` is true while this runs.

        The drain always ends within `timeout + DRAIN_MARGIN` seconds: a
        cancelled task gets `CANCEL_GRACE` seconds for its clean-up, then a
        coroutine that ignores the cancellation or a sync function that keeps
        running is abandoned (it stays counted in `abandoned`). Requests that
        hand tasks over while the drain runs have them run within what is
        left of `timeout`. With `close=True` (the drain a signal starts, while
        the server still finishes requests), tasks handed over after the drain
        are logged lost instead of run, until `reopen()`.
        """
        self.draining = True
        lost_before = self.stats.lost
        try:
            if self._active or self._inline:
                logger.info(
                    "Waiting up to %gs for %d request(s) with background tasks",
                    timeout,
                    len(self._active) + len(self._inline),
                )
            with anyio.move_on_after(timeout) as self._drain_scope:
                while self._active or self._inline or self._reserved:
                    await anyio.sleep(0.05)
            self._drain_scope = None
            self._cancel_running()
            with anyio.move_on_after(DRAIN_MARGIN - 0.1):
                # an inline run that ignores its cancellation holds its request's task: after
                # CANCEL_GRACE it is given up on, as `_await_detached` gives up on its task
                with anyio.move_on_after(CANCEL_GRACE):
                    while self._inline or len(self._hosted) > len(self._given_up_runs):
                        await anyio.sleep(0.01)
                if self._inline:
                    for _ in range(self._give_up_inline("cancelled at shutdown")):
                        self._log_abandoned()
                for run in list(self._hosted.values()):
                    if run not in self._given_up_runs:
                        self._report_lost(run, "cancelled at shutdown", total=False)
                        self._given_up_runs.add(run)
                        self._active.discard(run)  # not waited for any more
                        self._log_abandoned()
                while self._active:
                    await anyio.sleep(0.01)
            for run in list(self._active):  # only if our own clean-up misbehaved
                self._report_lost(run, "cancelled at shutdown", total=False)
            self._give_up_inline("cancelled at shutdown")  # runs handed over meanwhile
        finally:
            self._drain_scope = None
            self.draining = False
            self.closed = close
        lost = self.stats.lost - lost_before
        untotalled = self.stats.lost - max(lost_before, self._totalled)
        if untotalled:
            logger.error("%d background task(s) lost at shutdown", untotalled)
        return lost

    def reopen(self) -> None:
        """Accept tasks again after a drain (an app started again, as in tests)."""
        self.closed = False

    def finish_now(self) -> int:
        """Give up on every running task at once (a second signal): log each
        one lost by name, with a total, cancel them and end the drain.
        Call it from the event loop's thread. Returns how many were lost."""
        self.closed = True
        lost = 0
        for run in list(self._active):
            lost += self._report_lost(run, "cancelled at once by a second signal", total=False)
            run.cancel()
        lost += self._give_up_inline("cancelled at once by a second signal")
        if self._drain_scope is not None:
            self._drain_scope.cancel()
        self._totalled = self.stats.lost
        logger.error("%d background task(s) lost at shutdown (stopped at once)", lost)
        return lost


def _sync_function(task: Task) -> Callable[..., Any]:
    """The sync function Lilya's `Task` wrapped in an `AsyncCallable`."""
    func = task.func
    assert isinstance(func, AsyncCallable)
    return func._callable


def _capture(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a sync task in its thread, handing back whatever it raises as a value."""
    try:
        return func(*args, **kwargs)
    except BaseException as exc:
        return _Failed(_from_callers_frame(exc))


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


async def _contained(
    func: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    ended: asyncio.Future[Any] | None = None,
) -> Any:
    """Await `func(*args, **kwargs)`, turning whatever it raises into a `_Failed`,
    except the cancellation `_await_detached` delivers. The outcome also goes
    to `ended`, the future its waiter is on; a cancellation cancels it."""
    try:
        outcome = await func(*args, **kwargs)
    except asyncio.CancelledError as exc:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            if ended is not None and not ended.done():
                ended.cancel()  # the waiter sees the cancellation, as it saw the task's end before
            raise  # we cancelled it: a real cancellation
        outcome = _Failed(exc)
    except BaseException as exc:  # SystemExit, KeyboardInterrupt, GeneratorExit: contained too
        outcome = _Failed(_from_callers_frame(exc))
    if ended is not None and not ended.done():
        ended.set_result(outcome)
    return outcome


def _from_callers_frame(exc: BaseException) -> BaseException:
    """Drop our wrapper's frame from the traceback: the log starts at the task."""
    if exc.__traceback__ is not None and exc.__traceback__.tb_next is not None:
        return exc.with_traceback(exc.__traceback__.tb_next)
    return exc


def _described(task: Task) -> str:
    return task.describe() if isinstance(task, BackgroundTask) else task_name(task)


_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL |= {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def escape_text(text: str) -> str:
    """`text` with its control characters (newlines included) escaped, so that
    text from a client cannot forge a log line."""
    return text.translate(_CONTROL)


def _escape_exception_text(record: logging.LogRecord) -> bool:
    """A filter of the `ravyn.background` logger: format a record's traceback
    once, with the exception messages escaped (a handler reuses `exc_text`)."""
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        formatted = traceback.TracebackException.from_exception(record.exc_info[1])
        seen: set[int] = set()
        pending = [formatted]
        while pending:
            current = pending.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            message = getattr(current, "_str", None)  # the exception's text, as formatted
            if isinstance(message, str):
                setattr(current, "_str", escape_text(message))  # noqa: B010
            pending += [link for link in (current.__cause__, current.__context__) if link is not None]
        record.exc_text = "".join(formatted.format()).rstrip("\n")
    return True


logger.addFilter(_escape_exception_text)


# --------------------------------------------------------------------------- Lilya's own tasks

_lilya_task_call = Task.__call__
_lilya_tasks_call = Tasks.__call__


async def _task_through_runner(self: Task) -> None:
    """`Task.__call__` inside a Ravyn app: through the app's runner; elsewhere Lilya's own."""
    request = _current.get()
    if request is None:
        await _lilya_task_call(self)
    else:
        await request.runner.run(self)


async def _tasks_through_runner(self: Tasks) -> None:
    request = _current.get()
    if request is None:
        await _lilya_tasks_call(self)
    else:
        await request.runner.run(self)


# Lilya's responses call `await self.background()`: inside a Ravyn app, that call
# now goes to the app's runner, whichever route made the response
Task.__call__ = _task_through_runner  # type: ignore[method-assign]
Tasks.__call__ = _tasks_through_runner  # type: ignore[method-assign]


default_runner = TaskRunner()
"""The runner used when a task is called outside a `Ravyn` app's request."""
