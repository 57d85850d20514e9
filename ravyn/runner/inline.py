"""Every fast path of the runner, behind one boundary: `FastPaths`.

The general run loop (`ravyn.runner.core`) wraps a request's tasks in a
`Run` with an anyio cancel scope, and runs each task through the same steps
(events, retries, timeouts, the error hook). Most requests need none of
that: one plain task, or a few plain ones, with nobody listening. The core
asks `FastPaths` first; each method either serves the case faster with the
same outcome (same counters, same logs, same cancellation by the drain) or
says "not mine" and the general path runs:

* `serve`: one plain task awaited right in the request's own asyncio
  task, as Lilya and Starlette do (a sync one waited for there), with no
  `Run` and no scope: the drain cancels that asyncio task once;
* `run_mode`: a run whose waits can be cancelled without a cancel scope (its
  host task, or the one future it waits on);
* `batch_end` / `run_batch`: consecutive plain sync tasks in one thread hop.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lilya.background import Task, Tasks

from ravyn._lilya.concurrency import AsyncCallable, sync_function
from ravyn.runner._calls import Failed, capture, from_callers_frame, on_thread
from ravyn.runner._host import current_host
from ravyn.runner._run import Run
from ravyn.runner.drain import log_lost
from ravyn.runner.events import observers
from ravyn.runner.logs import log_failure, logger
from ravyn.runner.plan import Plan, mark_ran
from ravyn.runner.threads import run_in_daemon_thread

if TYPE_CHECKING:  # for annotations only: the runner imports this module
    from ravyn.runner.core import TaskRunner

__all__ = ["FastPaths"]


class FastPaths:
    """The runner's fast paths (see the module's docstring), and the inline
    runs they hold: `running` maps a request's asyncio task to the one task it
    runs inline; `cancelled` holds the request tasks the drain cancelled once;
    `given_up` the inline runs already counted lost that still run."""

    __slots__ = ("cancelled", "given_up", "runner", "running")

    def __init__(self, runner: TaskRunner) -> None:
        self.runner = runner
        self.running: dict[asyncio.Task[Any], Task] = {}
        self.cancelled: set[asyncio.Task[Any]] = set()
        self.given_up: dict[asyncio.Task[Any], Task] = {}

    # ----------------------------------------------------------------------- one plain task, inline

    async def serve(self, leaf: Task, admitted: bool, sources: Sequence[Task | None]) -> None:
        """Run `leaf`, the request's one task, inline in the asyncio task awaiting
        this (the request's): an async task awaited right here, a sync one waited
        for here; then the tasks it added to the collection it came from, if any.
        When it is not a case for this path, the general path runs it instead."""
        runner = self.runner
        host = current_host()
        if (
            runner.on_task_error is not None
            or runner.listeners
            or runner.closed
            or not (admitted or runner.stats.running + runner._reserved < runner.max_pending)
            or getattr(leaf, "timeout", None) is not None
            or bool(getattr(leaf, "retries", 0))
            or observers()
            or host is None
            or host in self.running
            or self.given_up
        ):
            await runner.run_sources(sources, leaf, admitted)
            return
        stats = self.runner.stats
        stats.started += 1
        stats.running += 1
        self.running[host] = leaf
        base = host.cancelling()
        started = time.perf_counter()
        func = leaf.func
        try:
            if isinstance(func, AsyncCallable):
                outcome = await on_thread(leaf, self.runner.pool)
            else:
                outcome = await func(*leaf.args, **leaf.kwargs)
        except BaseException as exc:
            completed = host not in self.cancelled  # not cancelled by the runner
            if self.settle(host, leaf, exc, base, started):
                raise
        else:
            if isinstance(outcome, Failed) or self.cancelled or self.running.pop(host, None) is None:
                # what a sync task raised, or a run the runner cancelled meanwhile
                completed = host not in self.cancelled
                self.settle(host, leaf, outcome if isinstance(outcome, Failed) else None, base, started)
            else:
                completed = True
                stats.running -= 1
                stats.succeeded += 1
        for source in sources:  # the one source, which held only `leaf` (see `single_leaf`)
            if source is not None:
                if isinstance(source, Tasks) and len(source.tasks) != 1:  # a task added to it meanwhile
                    await self.runner.run_added(sources, {id(leaf)}, run=completed)
                break
        mark_ran(sources)

    def settle(
        self,
        host: asyncio.Task[Any],
        leaf: Task,
        exc: BaseException | Failed | None,
        base: int,
        started: float,
    ) -> bool:
        """End an inline run that did not simply succeed, or that the runner
        cancelled; return whether `exc` must propagate (a cancellation of the
        request from outside the runner).

        A run the drain or a second signal cancelled is lost, whatever it did
        then; one already counted lost while it ignored its cancellation is not
        counted again. The runner's own cancellation is taken back (`uncancel`),
        so the request's task goes on as a cancel scope would have let it.
        """
        runner = self.runner
        counted = self.running.pop(host, None) is not None
        ours = host in self.cancelled
        if ours:
            self.cancelled.discard(host)
            host.uncancel()
        self.given_up.pop(host, None)
        outside = isinstance(exc, asyncio.CancelledError) and host.cancelling() > base
        if not counted:  # already counted lost (the drain gave up on it, or a second signal)
            return outside
        stats = runner.stats
        stats.running -= 1
        if ours:
            stats.lost += 1
            log_lost(runner, [leaf], "cancelled at shutdown", total=not runner.draining)
        elif outside:
            stats.lost += 1
            log_lost(runner, [leaf], "cancelled from outside the runner", total=True)
        elif exc is None:
            stats.succeeded += 1
        else:
            # raised by the task itself, a CancelledError included: a failure, contained
            stats.failed += 1
            if isinstance(exc, Failed):  # from a sync task's thread, its traceback trimmed there
                error = exc.error
            elif isinstance(exc, asyncio.CancelledError):
                error = exc
            else:
                error = from_callers_frame(exc)
            log_failure(leaf, error, time.perf_counter() - started, 1)
            if runner.stop_on_error:
                logger.warning("Skipping the remaining background tasks: stop_on_error is set")
        return outside

    def cancel(self) -> None:
        """Cancel every inline run once, with asyncio's `Task.cancel()` on its request's task."""
        for host in list(self.running):
            if host not in self.cancelled:
                self.cancelled.add(host)
                host.cancel()

    def give_up(self, why: str) -> int:
        """Count every inline run still running lost (once), cancel those not cancelled
        yet, and keep them in `given_up` until they end. Returns how many."""
        given_up = list(self.running.items())
        stats = self.runner.stats
        for host, leaf in given_up:
            del self.running[host]
            self.given_up[host] = leaf
            stats.running -= 1
            stats.lost += 1
            if host not in self.cancelled:
                self.cancelled.add(host)
                host.cancel()
        log_lost(self.runner, [leaf for _, leaf in given_up], why, total=False)
        return len(given_up)

    # ----------------------------------------------------------------------- runs with no cancel scope

    def run_mode(self, leaf: Task | None, plan: Plan | None) -> tuple[bool, asyncio.Task[Any] | None]:
        """How a general run is cancelled: `(scoped, host)` for its `Run`.

        One async task with no timeout, retries or hook waits on one future,
        cancellable itself (no scope). A plan with no group is hosted by the
        request's asyncio task (no scope), unless that task already runs one
        of this runner's runs (a run started inside a task of this request).
        """
        runner = self.runner
        scoped = not (
            leaf is not None
            and runner.on_task_error is None
            and not isinstance(leaf.func, AsyncCallable)
            and getattr(leaf, "timeout", None) is None
            and not getattr(leaf, "retries", 0)
        )
        host: asyncio.Task[Any] | None = None
        if plan is not None and not any(isinstance(step, tuple) for step in plan):
            host = current_host()
            if host in self.running or host in runner._hosted or self.given_up:
                host = None  # a run inside a task of this request: the scoped way
        return scoped, host

    # ----------------------------------------------------------------------- plain sync tasks, one hop

    def batching(self) -> bool:
        """Whether consecutive plain sync tasks may share a thread hop: only when
        nothing has to happen on the loop between them (an event for listeners,
        the error hook, a stop)."""
        runner = self.runner
        return not (runner.listeners or observers() or runner.on_task_error or runner.stop_on_error)

    @staticmethod
    def batch_end(plan: Plan, position: int) -> int:
        """The end of the run of plain sync steps starting at `position` (no
        group, timeout, retries or stop-at-first-failure collection)."""
        end = position
        while end < len(plan):
            step = plan[end]
            if (
                isinstance(step, tuple)
                or sync_function(step.func) is None
                or getattr(step, "timeout", None) is not None
                or getattr(step, "retries", 0) != 0
                or plan.stoppers[end]
            ):
                break
            end += 1
        return end

    async def run_batch(self, run: Run, tasks: list[Task]) -> None:
        """Run consecutive sync tasks in one thread hop, each as the general
        path would: in order, each in its own copy of the request's context, a
        failure logged as it happens and the next one still run. If the wait
        is cancelled (the drain), the tasks not started yet never start."""
        calls = []
        for task in tasks:
            function = sync_function(task.func)
            assert function is not None  # batch_end took only these
            calls.append(
                (contextvars.copy_context(), functools.partial(capture, function, *task.args, **task.kwargs))
            )
        outcomes: list[Any] = []
        cancelled = False

        def batch() -> None:
            for task, (context, call) in zip(tasks, calls, strict=True):
                if cancelled:
                    return
                started = time.perf_counter()
                outcome = context.run(call)
                if isinstance(outcome, Failed):
                    log_failure(task, outcome.error, time.perf_counter() - started, 1)
                outcomes.append(outcome)

        try:
            await run_in_daemon_thread(batch, None, self.runner.pool)
        finally:
            cancelled = True
            for task, outcome in zip(tasks, list(outcomes), strict=False):
                self.runner._end(run, task, "failed" if isinstance(outcome, Failed) else "succeeded")
