"""How one run's steps go: each task in turn (a group's at once), with its
timeout and retries, its events, the error hook, and stop-at-first-failure.

`StepRunner` is the half of `TaskRunner` that runs a `Run` once it exists;
`ravyn.runner.core` decides what runs and keeps the counts.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import anyio
from lilya.background import Task
from lilya.compat import is_async_callable

from ravyn._lilya.concurrency import AsyncCallable
from ravyn.runner._calls import Failed, await_, capture, contained, from_callers_frame, on_thread
from ravyn.runner._run import Run
from ravyn.runner.drain import CANCEL_GRACE
from ravyn.runner.events import TaskErrorHook, TaskEvent, TaskListener, TaskStats, emit, observers
from ravyn.runner.logs import log_attempt, log_failure, logger, task_name
from ravyn.runner.threads import DaemonThreadPool, run_in_daemon_thread

if TYPE_CHECKING:
    from ravyn.runner.inline import FastPaths

__all__ = ["Outcome", "StepRunner"]

Outcome = Literal["succeeded", "failed", "skipped", "rejected", "lost"]
"""How a task handed to the runner ended."""


class StepRunner(ABC):
    """Runs the steps of a `Run` (the general path); see `TaskRunner`."""

    stop_on_error: bool
    on_task_error: TaskErrorHook | None
    hook_timeout: float
    listeners: list[TaskListener]
    stats: TaskStats
    draining: bool
    _fast: FastPaths
    pool: DaemonThreadPool
    hook_pool: DaemonThreadPool
    _orphans: set[asyncio.Task[Any]]
    _hook_limiter: anyio.CapacityLimiter | None
    _slow_listeners: set[int]

    @abstractmethod
    def _end(self, run: Run, task: Task, outcome: Outcome) -> None:
        """Count `task` of `run` ended with `outcome` (once)."""

    @abstractmethod
    def _report_lost(self, run: Run, why: str, *, total: bool = True) -> int:
        """Count the tasks of `run` not ended yet lost, and log them."""

    @abstractmethod
    def _log_abandoned(self) -> None:
        """Say that a task ignored its cancellation."""

    async def _run_steps(self, run: Run, leaf: Task | None) -> None:
        if run.plan is not None:
            await self._run_plan(run)
        elif not await self._run_one(run, leaf) and self.stop_on_error:  # type: ignore[arg-type]
            logger.warning("Skipping the remaining background tasks: stop_on_error is set")

    async def _run_plan(self, run: Run) -> None:
        stopped: set[int] = set()
        plan = run.plan
        assert plan is not None
        batching = self._fast.batching()
        position = 0
        while position < len(plan):
            if run.cancel_called:  # a task ignored the cancellation, then returned: start no more
                self._report_lost(run, "cancelled at shutdown", total=not self.draining)
                return
            step = plan[position]
            leaves = step if isinstance(step, tuple) else (step,)
            if stopped & plan.stoppers[position]:
                self._skip(run, leaves)
                position += 1
                continue
            end = self._fast.batch_end(plan, position) if batching else position + 1
            if end - position > 1:
                await self._fast.run_batch(run, cast("list[Task]", plan[position:end]))
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

    def _skip(self, run: Run, tasks: Iterable[Task]) -> None:
        for task in tasks:
            if id(task) not in run.ended:
                self._end(run, task, "skipped")

    async def _run_group(self, run: Run, tasks: Sequence[Task]) -> bool:
        """Run `tasks` concurrently; return whether all of them succeeded."""
        outcomes: list[bool] = []

        async def run_into(task: Task) -> None:
            outcomes.append(await self._run_one(run, task))

        async with anyio.create_task_group() as group:
            for task in tasks:
                group.start_soon(run_into, task)
        return len(outcomes) == len(tasks) and all(outcomes)

    async def _run_one(self, run: Run, task: Task) -> bool:
        """Run one leaf task, with its retries; return whether it succeeded.

        Never raises for what the task does; a cancellation of the runner passes through.
        """
        listeners = (*self.listeners, *observers()) if self.listeners or observers() else ()
        name = task_name(task) if listeners else ""
        timeout = getattr(task, "timeout", None)
        attempts = 1 + getattr(task, "retries", 0)
        started = time.perf_counter()
        if listeners:
            emit(listeners, TaskEvent("started", name, task, started), self._slow_listeners)
        error: BaseException | None = None
        for attempt in range(1, attempts + 1):
            error = await self._attempt(run, task, timeout)
            ended = time.perf_counter()
            if error is None:
                self._end(run, task, "succeeded")
                if listeners:
                    event = TaskEvent("finished", name, task, ended, ended - started)
                    emit(listeners, event, self._slow_listeners)
                return True
            if attempt < attempts:
                self.stats.retried += 1
                log_attempt(task, error, attempt, attempts, ended - started)
                if listeners:
                    event = TaskEvent("retrying", name, task, ended, ended - started, error, attempt)
                    emit(listeners, event, self._slow_listeners)
                await anyio.sleep(getattr(task, "retry_delay", 0.0))
        assert error is not None  # the loop returns on success
        self._end(run, task, "failed")
        log_failure(task, error, ended - started, attempts)
        if listeners:
            event = TaskEvent("failed", name, task, ended, ended - started, error, attempts)
            emit(listeners, event, self._slow_listeners)
        await self._report(task, error)
        return False

    async def _attempt(self, run: Run, task: Task, timeout: float | None) -> BaseException | None:
        """Run the task once; return what it raised (a timeout is a `TimeoutError`)."""
        if timeout is None:  # the usual case: no timeout scope to enter and leave
            outcome = await self._invoke(run, task, inline=run.host is not None)
        else:
            with anyio.move_on_after(timeout) as scope:
                outcome = await self._invoke(run, task, inline=False)
            if scope.cancelled_caught:
                self.stats.timed_out += 1
                return TimeoutError(f"timed out after {timeout:g}s")
        return outcome.error if isinstance(outcome, Failed) else None

    async def _invoke(self, run: Run, task: Task, *, inline: bool) -> Any:
        if isinstance(task.func, AsyncCallable):
            return await on_thread(task, self.pool)
        if not inline:
            return await self._await_detached(task.func, task.args, task.kwargs, run)
        # a run with a host and no timeout here: awaited in the request's own task
        try:
            return await task.func(*task.args, **task.kwargs)
        except asyncio.CancelledError as exc:
            if run.host is not None and run.host.cancelling() > run.base:
                raise  # the drain's, or the server's: a real cancellation
            return Failed(exc)  # raised by the task itself: a failure
        except BaseException as exc:  # SystemExit, KeyboardInterrupt, GeneratorExit: contained too
            return Failed(from_callers_frame(exc))

    async def _await_detached(
        self,
        func: Callable[..., Any],
        args: Sequence[Any],
        kwargs: dict[str, Any],
        run: Run | None = None,
    ) -> Any:
        """Await `func(*args, **kwargs)` in an asyncio task of its own; return
        what it returned, or a `Failed` with what it raised.

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
        inner = loop.create_task(contained(func, args, kwargs, ended))
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
                    self._orphans.add(inner)
                    inner.add_done_callback(self._orphans.discard)
                    self._log_abandoned()
            raise

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
                    call = functools.partial(capture, hook, task, exc)
                    outcome = await run_in_daemon_thread(call, self._hook_limiter, self.hook_pool)
                    if inspect.isawaitable(outcome):  # a sync callable that returned an awaitable
                        outcome = await self._await_detached(await_, (outcome,), {})
        except Exception:  # the hook returned something odd to await: still only a log line
            logger.exception("The on_task_error hook raised while reporting %s", name)
            return
        if scope.cancelled_caught:
            logger.error(
                "The on_task_error hook did not return within %gs while reporting %s: abandoned",
                self.hook_timeout,
                name,
            )
        elif isinstance(outcome, Failed):
            logger.error(
                "The on_task_error hook raised while reporting %s",
                name,
                exc_info=outcome.error,
            )
