"""Background tasks: work that runs after the response has been sent.

`BackgroundTask` and `BackgroundTasks` subclass Lilya's
[`lilya.background.Task`][lilya.background.Task] and `Tasks`, so either kind
can be given to `background=` anywhere, and `isinstance(task, Task)` holds for
ours. What this module adds on top of Lilya:

* a `ParamSpec` signature, so `mypy` checks the arguments against the function;
* a [`TaskRunner`][ravyn.background.TaskRunner] that runs the tasks of one
  request exactly once each, runs sync functions on worker threads of its own,
  logs a failing task with its name and traceback and goes on with the next;
* [`TaskEvent`][ravyn.background.TaskEvent]s (started, finished, failed) for
  whoever listens, at no cost when nobody does.

Example:
    ```python
    from ravyn import BackgroundTasks

    def send_email(to: str, subject: str) -> None: ...

    tasks = BackgroundTasks()
    tasks.add_task(send_email, "ada@example.com", subject="Welcome")
    ```
"""

from __future__ import annotations

import functools
import inspect
import logging
import reprlib
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec

import anyio
from lilya.background import Task, Tasks
from lilya.concurrency import AsyncCallable

from ravyn.threads import DaemonThreadPool, run_in_daemon_thread

__all__ = [
    "BackgroundTask",
    "BackgroundTasks",
    "TaskErrorHook",
    "TaskEvent",
    "TaskListener",
    "TaskRunner",
    "TaskStats",
    "observe_tasks",
    "task_name",
]

P = ParamSpec("P")

logger = logging.getLogger("ravyn.background")

_short_repr = reprlib.Repr()
_short_repr.maxstring = 60
_short_repr.maxother = 60
_short_repr.maxlong = 40


def task_name(task_or_func: object) -> str:
    """Return a readable name for a task or a function: its `__qualname__`.

    Works for our tasks, Lilya's tasks (whose `func` may be a thread wrapper)
    and plain callables.

    Example:
        ```python
        from ravyn.background import BackgroundTask, task_name

        def send_email(to: str) -> None: ...

        assert task_name(BackgroundTask(send_email, "a@b.c")) == "send_email"
        ```
    """
    if isinstance(task_or_func, BackgroundTask) and not isinstance(task_or_func, Tasks):
        return task_or_func.name
    if isinstance(task_or_func, Tasks):
        return type(task_or_func).__name__
    func = getattr(task_or_func, "func", task_or_func) if isinstance(task_or_func, Task) else task_or_func
    func = getattr(func, "_callable", func)  # Lilya's AsyncCallable thread wrapper
    while isinstance(func, functools.partial):
        func = func.func
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    return str(name) if name else repr(func)


POLICY_KEYWORDS = ("timeout", "retries", "retry_delay")


class BackgroundTask(Task):
    """One call of `func(*args, **kwargs)`, made after the response is sent.

    Wraps `lilya.background.Task`. `func` may be `def` or `async def`: a sync
    function runs on a worker thread so it never blocks the event loop, an
    async one is awaited on the loop.

    Off by default, a task can have a `timeout` (seconds per attempt) and
    `retries` (extra attempts after a failure or a timeout, `retry_delay`
    seconds apart). Set them with `configure()`, which type-checks; passing
    `timeout=`, `retries=` or `retry_delay=` to the constructor works too when
    `func` takes no parameter of that name. Retries do not make a task
    durable: a task still in memory when the process dies is lost.

    Example:
        ```python
        from ravyn import BackgroundTask

        def log_signup(email: str, source: str = "web") -> None:
            print(f"signup {email} from {source}")

        task = BackgroundTask(log_signup, "ada@example.com", source="mobile")
        flaky = BackgroundTask(log_signup, "ada@example.com").configure(timeout=2.0, retries=3)
        ```
    """

    call: Callable[..., Any]
    name: str
    timeout: float | None = None
    retries: int = 0
    retry_delay: float = 0.0

    def __init__(self, func: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        policy = _pop_policy(func, kwargs)
        super().__init__(func, *args, **kwargs)
        self.call = func
        self.name = task_name(func)
        if policy:
            self.configure(**policy)

    def configure(
        self, *, timeout: float | None = None, retries: int = 0, retry_delay: float = 0.0
    ) -> BackgroundTask:
        """Set the timeout and retry policy; returns the task itself.

        Raises `ValueError` for a timeout that is not positive, or negative
        retries or delay.
        """
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be a whole number >= 0, got {retries!r}")
        if not retry_delay >= 0:
            raise ValueError(f"retry_delay must be >= 0 seconds, got {retry_delay!r}")
        self.timeout, self.retries, self.retry_delay = timeout, retries, retry_delay
        return self

    def describe(self) -> str:
        """Return `name(args...)` with long arguments shortened, for logs."""
        parts = [_short_repr.repr(arg) for arg in self.args]
        parts += [f"{key}={_short_repr.repr(value)}" for key, value in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"

    async def __call__(self) -> None:
        """Run this task through the default runner (used when a plain Lilya
        response calls it): a failure is logged, never raised."""
        await default_runner.run(self)

    def __repr__(self) -> str:
        return f"BackgroundTask({self.describe()})"


def _pop_policy(func: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Take the policy keywords out of `kwargs`, unless `func` itself takes them."""
    present = [key for key in POLICY_KEYWORDS if key in kwargs]
    if not present:
        return {}
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):  # builtins without a signature take no such keywords
        parameters = {}  # type: ignore[assignment]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return {}
    return {key: kwargs.pop(key) for key in present if key not in parameters}


class BackgroundTasks(Tasks, BackgroundTask):
    """An ordered collection of tasks, run one after the other.

    Wraps `lilya.background.Tasks`. It is also a `BackgroundTask`, so a handler
    parameter annotated with either class receives one of these, ready for
    `add_task`. With `as_group=True` its tasks run concurrently instead.

    Example:
        ```python
        from ravyn import BackgroundTask, BackgroundTasks

        def notify(channel: str) -> None: ...

        tasks = BackgroundTasks(tasks=[BackgroundTask(notify, "email")])
        tasks.add_task(notify, "sms")
        assert len(tasks) == 2
        ```
    """

    def __init__(self, tasks: Sequence[Task] | None = None, as_group: bool = False) -> None:
        Tasks.__init__(self, tasks, as_group)
        self.name = type(self).__name__

    def add_task(self, func: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        """Append a call of `func(*args, **kwargs)` to run after the response."""
        self.tasks.append(BackgroundTask(func, *args, **kwargs))

    def describe(self) -> str:
        """Return the names of the tasks held, for logs."""
        return f"{self.name}[{', '.join(task_name(task) for task in self.tasks)}]"

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    async def __call__(self) -> None:
        """Run the tasks through the default runner, each isolated from the others."""
        await default_runner.run(self)

    def __repr__(self) -> str:
        return f"BackgroundTasks({list(self.tasks)!r}, as_group={self.as_group})"


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """Something that happened to one task.

    `kind` is `started`, `finished`, `failed` (for good), `retrying` (an
    attempt failed or timed out and another follows) or `lost` (cancelled by
    the shutdown drain). `time` is `time.perf_counter()` at the event;
    `duration` (seconds) and `error` are set when the task ends.
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
    """Counters of one runner's tasks since it was made (see `Ravyn.task_stats`)."""

    started: int = 0
    succeeded: int = 0
    failed: int = 0
    timed_out: int = 0
    retried: int = 0
    lost: int = 0
    running: int = 0


TaskListener = Callable[[TaskEvent], None]
"""A function called with every `TaskEvent`; it must be quick and not raise."""

TaskErrorHook = Callable[[Task, BaseException], "Awaitable[None] | None"]
"""An app-level hook called with `(task, exception)` when a task fails."""

_observers: ContextVar[tuple[TaskListener, ...]] = ContextVar("ravyn_task_observers", default=())


@contextmanager
def observe_tasks(listener: TaskListener) -> Iterator[None]:
    """Call `listener` for every task event raised inside this block
    (in this context and the tasks it starts).

    Example:
        ```python
        from ravyn.background import TaskEvent, observe_tasks

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


Plan = list["Task | tuple[Task, ...]"]


def plan_tasks(sources: Iterable[Task | None]) -> Plan:
    """Flatten tasks and task collections into the steps to run, in order.

    A task object met twice (the same collector attached in two places) is
    kept once. A collection made with `as_group=True` becomes one tuple whose
    tasks run concurrently; anything nested inside a group joins that group.
    """
    seen: set[int] = set()
    plan: Plan = []

    def add(task: Task | None, into: list[Any]) -> None:
        if task is None or id(task) in seen:
            return
        seen.add(id(task))
        if not isinstance(task, Tasks):
            into.append(task)
        elif task.as_group and into is plan:
            group: list[Task] = []
            for inner in task.tasks:
                add(inner, group)
            if group:
                plan.append(tuple(group))
        else:
            for inner in task.tasks:
                add(inner, into)

    for source in sources:
        add(source, plan)
    return plan


class _Run:
    """One request's tasks while they run: what the shutdown drain may cancel."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.position = 0
        self.scope = anyio.CancelScope()

    def unfinished(self) -> list[Task]:
        """The tasks from the current step on."""
        remaining: list[Task] = []
        for step in self.plan[self.position :]:
            remaining.extend(step if isinstance(step, tuple) else (step,))
        return remaining


class TaskRunner:
    """Runs the background tasks of a request after its response.

    Each task runs exactly once, in order. A task that raises is logged on the
    `ravyn.background` logger with its name, its arguments and the traceback,
    reported to `on_task_error`, and the next task still runs (unless
    `stop_on_error=True`). Exceptions never reach the server. Sync functions
    run on daemon threads, at most `thread_limit` at once, so slow sync tasks
    cannot take the threads that sync handlers use. `stats` counts what
    happened; `drain()` waits for running tasks at shutdown.

    Every `Ravyn` app owns one runner (`app.task_runner`).
    """

    def __init__(
        self,
        *,
        stop_on_error: bool = False,
        on_task_error: TaskErrorHook | None = None,
        thread_limit: int = 40,
    ) -> None:
        self.stop_on_error = stop_on_error
        self.on_task_error = on_task_error
        self.thread_limit = thread_limit
        self.listeners: list[TaskListener] = []
        self.stats = TaskStats()
        self.draining = False
        self._active: set[_Run] = set()
        self._limiter: anyio.CapacityLimiter | None = None
        self.pool = DaemonThreadPool(thread_limit)

    def add_listener(self, listener: TaskListener) -> None:
        """Call `listener` with every `TaskEvent` of every request of this runner."""
        self.listeners.append(listener)

    def remove_listener(self, listener: TaskListener) -> None:
        """Stop calling `listener`."""
        self.listeners.remove(listener)

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        """The capacity limiter for sync tasks (made on first use, inside the loop)."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.thread_limit)
        return self._limiter

    async def run(self, *sources: Task | None) -> None:
        """Run every task in `sources` (tasks, collections or `None`), once each."""
        plan = plan_tasks(sources)
        if not plan:
            return
        run = _Run(plan)
        self._active.add(run)
        try:
            with run.scope:
                for run.position, step in enumerate(plan):
                    if isinstance(step, tuple):
                        succeeded = await self.run_group(step)
                    else:
                        succeeded = await self.run_one(step)
                    if not succeeded and self.stop_on_error:
                        logger.warning("Skipping the remaining background tasks: stop_on_error is set")
                        return
                run.position = len(plan)
        finally:
            self._active.discard(run)
        if run.scope.cancelled_caught:
            self._report_lost(run.unfinished())

    async def run_group(self, tasks: Sequence[Task]) -> bool:
        """Run `tasks` concurrently; return whether all of them succeeded."""
        outcomes: list[bool] = []

        async def run_into(task: Task) -> None:
            outcomes.append(await self.run_one(task))

        async with anyio.create_task_group() as group:
            for task in tasks:
                group.start_soon(run_into, task)
        return len(outcomes) == len(tasks) and all(outcomes)

    async def run_one(self, task: Task) -> bool:
        """Run one leaf task, with its retries; return whether it succeeded.

        Never raises `Exception`; cancellation (the shutdown drain) passes through.
        """
        listeners = (*self.listeners, *_observers.get())
        name = task_name(task)
        timeout = getattr(task, "timeout", None)
        attempts = 1 + getattr(task, "retries", 0)
        self.stats.started += 1
        self.stats.running += 1
        started = time.perf_counter()
        if listeners:
            self._emit(listeners, TaskEvent("started", name, task, started))
        try:
            for attempt in range(1, attempts + 1):
                error = await self._attempt(task, timeout)
                ended = time.perf_counter()
                if error is None:
                    self.stats.succeeded += 1
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
            self.stats.failed += 1
            self._log_failure(task, error, ended - started, attempts)
            if listeners:
                self._emit(
                    listeners, TaskEvent("failed", name, task, ended, ended - started, error, attempts)
                )
            await self._report(task, error)
            return False
        finally:
            self.stats.running -= 1

    async def _attempt(self, task: Task, timeout: float | None) -> Exception | None:
        """Run the task once; return the exception it raised (a timeout is a `TimeoutError`)."""
        try:
            if timeout is None:  # the usual case: no timeout scope to enter and leave
                await self._invoke(task)
            else:
                with anyio.fail_after(timeout):
                    await self._invoke(task)
        except TimeoutError as exc:
            if timeout is not None and not str(exc):
                self.stats.timed_out += 1
                return TimeoutError(f"timed out after {timeout:g}s")
            return exc
        except Exception as exc:
            return exc
        return None

    async def _invoke(self, task: Task) -> None:
        # Lilya's Task (ours included) wraps a sync function in AsyncCallable, for
        # anyio's shared threads: run it on this runner's own threads instead
        if isinstance(task.func, AsyncCallable):
            call = functools.partial(task.func._callable, *task.args, **task.kwargs)
            await run_in_daemon_thread(call, self.limiter, self.pool)
        else:
            await task.func(*task.args, **task.kwargs)

    def _log_attempt(self, task: Task, error: Exception, attempt: int, attempts: int, elapsed: float) -> None:
        logger.warning(
            "Background task %s attempt %d/%d failed after %.3fs: %s: %s; retrying",
            _described(task),
            attempt,
            attempts,
            elapsed,
            type(error).__name__,
            error,
            extra={"task_name": task_name(task)},
        )

    def _log_failure(self, task: Task, error: Exception, elapsed: float, attempts: int) -> None:
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        logger.error(
            "Background task %s failed after %.3fs%s: %s: %s",
            _described(task),
            elapsed,
            tries,
            type(error).__name__,
            error,
            exc_info=error,
            extra={"task_name": task_name(task)},
        )

    async def _report(self, task: Task, exc: BaseException) -> None:
        if self.on_task_error is None:
            return
        try:
            outcome = self.on_task_error(task, exc)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            logger.exception("The on_task_error hook raised while reporting %s", task_name(task))

    def _report_lost(self, tasks: list[Task]) -> None:
        listeners = (*self.listeners, *_observers.get())
        now = time.perf_counter()
        for task in tasks:
            logger.error(
                "Background task %s lost: cancelled at shutdown",
                _described(task),
                extra={"task_name": task_name(task)},
            )
            if listeners:
                self._emit(listeners, TaskEvent("lost", task_name(task), task, now))
        self.stats.lost += len(tasks)

    async def drain(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for running tasks, then cancel what is
        still running. Returns how many tasks were lost (each is logged by
        name, with a total). `draining` is true while this runs."""
        self.draining = True
        lost_before = self.stats.lost
        try:
            if self._active:
                waiting = len(self._active)
                logger.info("Waiting up to %gs for %d request(s) with background tasks", timeout, waiting)
                with anyio.move_on_after(timeout):
                    while self._active:
                        await anyio.sleep(0.05)
                for run in list(self._active):
                    run.scope.cancel()
                while self._active:
                    await anyio.sleep(0.01)
        finally:
            self.draining = False
        lost = self.stats.lost - lost_before
        if lost:
            logger.error("%d background task(s) lost at shutdown", lost)
        return lost

    @staticmethod
    def _emit(listeners: Sequence[TaskListener], event: TaskEvent) -> None:
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                logger.exception("A task listener raised on %s", event.kind)


def _described(task: Task) -> str:
    return task.describe() if isinstance(task, BackgroundTask) else task_name(task)


default_runner = TaskRunner()
"""The runner used when a task is called directly, outside a Ravyn route."""
