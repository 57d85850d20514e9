"""The end of a runner's tasks: the shutdown drain, the second signal's stop
at once, and the report of every task lost on the way."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio
from lilya.background import Task

from ravyn.runner._run import Run
from ravyn.runner.events import TaskEvent, emit, observers
from ravyn.runner.logs import describe, logger, task_name

if TYPE_CHECKING:  # for annotations only: the runner imports this module
    from ravyn.runner.core import TaskRunner

__all__ = ["CANCEL_GRACE", "DRAIN_MARGIN", "drain", "finish_now", "log_abandoned", "log_lost", "report_lost"]

CANCEL_GRACE = 0.5
"""Seconds a cancelled task (a timeout, the drain) gets to run its clean-up before it is abandoned."""

DRAIN_MARGIN = 1.0
"""Seconds past `task_drain_timeout` by which the drain has always ended, whatever tasks do."""


async def drain(runner: TaskRunner, timeout: float, *, close: bool = False) -> int:
    """Wait up to `timeout` seconds for `runner`'s running tasks, then cancel
    what is still running; return how many tasks were lost (see `TaskRunner.drain`)."""
    fast = runner._fast
    runner.draining = True
    lost_before = runner.stats.lost
    try:
        if runner._active or fast.running:
            logger.info(
                "Waiting up to %gs for %d request(s) with background tasks",
                timeout,
                len(runner._active) + len(fast.running),
            )
        with anyio.move_on_after(timeout) as runner._drain_scope:
            while runner._active or fast.running or runner._reserved:
                await anyio.sleep(0.05)
        runner._drain_scope = None
        cancel_running(runner)
        with anyio.move_on_after(DRAIN_MARGIN - 0.1):
            # an inline run that ignores its cancellation holds its request's task: after
            # CANCEL_GRACE it is given up on, as a detached call's task is
            with anyio.move_on_after(CANCEL_GRACE):
                while fast.running or len(runner._hosted) > len(runner._given_up_runs):
                    await anyio.sleep(0.01)
            if fast.running:
                for _ in range(fast.give_up("cancelled at shutdown")):
                    log_abandoned(runner)
            for run in list(runner._hosted.values()):
                if run not in runner._given_up_runs:
                    report_lost(runner, run, "cancelled at shutdown", total=False)
                    runner._given_up_runs.add(run)
                    runner._active.discard(run)  # not waited for any more
                    log_abandoned(runner)
            while runner._active:
                await anyio.sleep(0.01)
        for run in list(runner._active):  # only if our own clean-up misbehaved
            report_lost(runner, run, "cancelled at shutdown", total=False)
        fast.give_up("cancelled at shutdown")  # runs handed over meanwhile
    finally:
        runner._drain_scope = None
        runner.draining = False
        runner.closed = close
    lost = runner.stats.lost - lost_before
    untotalled = runner.stats.lost - max(lost_before, runner._totalled)
    if untotalled:
        logger.error("%d background task(s) lost at shutdown", untotalled)
    return lost


def finish_now(runner: TaskRunner) -> int:
    """Give up on every running task at once (see `TaskRunner.finish_now`)."""
    runner.closed = True
    lost = 0
    for run in list(runner._active):
        lost += report_lost(runner, run, "cancelled at once by a second signal", total=False)
        run.cancel()
    lost += runner._fast.give_up("cancelled at once by a second signal")
    if runner._drain_scope is not None:
        runner._drain_scope.cancel()
    runner._totalled = runner.stats.lost
    if lost:
        logger.error("%d background task(s) lost at shutdown (stopped at once)", lost)
    else:
        logger.info("Stopped at once: no background task was running, none lost")
    return lost


def cancel_running(runner: TaskRunner) -> None:
    """Cancel every run once (the drain): scoped runs through their scope, inline
    runs with asyncio's `Task.cancel()` on the request's task that runs them."""
    for run in list(runner._active):
        run.cancel()
    runner._fast.cancel()


def report_lost(runner: TaskRunner, run: Run, why: str, *, total: bool = True) -> int:
    """Count the tasks of `run` not ended yet lost, and log them; return how many."""
    tasks = run.unfinished()
    for task in tasks:
        runner._end(run, task, "lost")
    log_lost(runner, tasks, why, total=total)
    return len(tasks)


def log_lost(runner: TaskRunner, tasks: Sequence[Task], why: str, *, total: bool) -> None:
    """Log each of `tasks` lost by name (and a total), and tell the listeners."""
    listeners = (*runner.listeners, *observers())
    now = time.perf_counter()
    kept = 0
    for task in tasks:
        if runner.keeps(task):  # a durable task: its journal row stays pending, it runs again
            kept += 1
            logger.warning(
                "Background task %s not finished: %s; it is durable, left pending in the task journal "
                "and runs again at the next start",
                describe(task),
                why,
                extra={"task_name": task_name(task)},
            )
        else:
            logger.error(
                "Background task %s lost: %s",
                describe(task),
                why,
                extra={"task_name": task_name(task)},
            )
        if listeners:
            emit(listeners, TaskEvent("lost", task_name(task), task, now), runner._slow_listeners)
    if tasks and total:
        if kept:
            logger.error(
                "%d background task(s) not finished: %s (%d durable, left pending in the task journal)",
                len(tasks),
                why,
                kept,
            )
        else:
            logger.error("%d background task(s) lost: %s", len(tasks), why)


def log_abandoned(runner: TaskRunner) -> None:
    """Say that a task ignored its cancellation, and how many such tasks still run."""
    logger.warning(
        "A background task ignored its cancellation for %gs: abandoned (%d such task(s) still running)",
        CANCEL_GRACE,
        len(runner._orphans) + len(runner._fast.given_up) + len(runner._given_up_runs),
    )
