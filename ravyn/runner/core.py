"""The task runner: `TaskRunner` and the general run loop every request's
tasks go through when no fast path takes them (see `ravyn.runner.inline`)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Coroutine, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import anyio
from lilya.background import Task, Tasks

from ravyn.runner import drain as drain_module
from ravyn.runner import when
from ravyn.runner._run import Run
from ravyn.runner.events import TaskErrorHook, TaskListener, TaskStats
from ravyn.runner.inline import FastPaths
from ravyn.runner.logs import describe, logger
from ravyn.runner.plan import Plan, mark_ran, plan_tasks, single_leaf
from ravyn.runner.requests import METHODS_WITHOUT_TASKS, RequestSlot, current_request
from ravyn.runner.steps import Outcome, StepRunner
from ravyn.runner.threads import DaemonThreadPool

if TYPE_CHECKING:  # for annotations only: the journal imports the runner
    from ravyn._journal.journal import TaskJournal

__all__ = ["DEFAULT_MAX_PENDING_TASKS", "TaskRunner", "current_runner", "default_runner"]

DEFAULT_MAX_PENDING_TASKS = 2048
"""The default bound on an app's tasks waiting or running (`Ravyn(max_pending_tasks=...)`)."""


class TaskRunner(StepRunner):
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

    journal: TaskJournal | None = None
    """The app's task journal; None here (an app with one has a `JournaledRunner`)."""

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
        self._fast = FastPaths(self)
        """The fast paths, and the runs they hold (see `ravyn.runner.inline`)."""
        self._inline = self._fast.running  # the inline runs, by request task (read by tests)
        self._reserved = 0
        self._active: set[Run] = set()
        self._hosted: dict[asyncio.Task[Any], Run] = {}
        """Runs with a host (see `Run`), by the request task that runs them."""
        self._given_up_runs: set[Run] = set()
        """Runs with a host already counted lost that still run (a task ignoring its cancellation)."""
        self._orphans: set[asyncio.Task[Any]] = set()
        self._hook_limiter: anyio.CapacityLimiter | None = None
        self._drain_scope: anyio.CancelScope | None = None
        self._slow_listeners: set[int] = set()
        self._totalled = 0
        self.pool = DaemonThreadPool(thread_limit)
        self.hook_pool = DaemonThreadPool(2, name="ravyn-hook", max_abandoned=2)

    def keeps(self, task: Task) -> bool:
        """Whether `task` is kept by the app's task journal when the runner loses
        it (a recorded durable task, which runs again); never without a journal."""
        return False

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
            self.pool.abandoned + len(self._orphans) + len(self._fast.given_up) + len(self._given_up_runs)
        )
        return asdict(self.stats)

    # ----------------------------------------------------------------------- admission

    def admit(self) -> bool:
        """Before a handler that may add tasks runs: return False (and count the
        request `refused`) when the app already holds `max_pending` tasks;
        otherwise reserve one place until the request hands its tasks over, and
        give its collector room for the places free now (see `RequestSlot.room`)."""
        request = current_request()
        if request is None or request.runner is not self or request.reserved:
            return True
        pending = self.stats.running + self._reserved  # `self.pending`, without the call
        if pending >= self.max_pending:
            self.stats.refused += 1
            return False
        request.reserved = True
        request.room = self.max_pending - pending
        self._reserved += 1
        return True

    def release(self, request: RequestSlot) -> None:
        """The request has ended: give back the place it still holds, and count it
        refused if its handler tried to add more tasks than its room."""
        if request.reserved:
            request.reserved = False
            self._reserved -= 1
        if request.overflowed:
            request.overflowed = False
            self.stats.refused += 1
            logger.warning(
                "%s request refused: its handler added more than %s background task(s), "
                "the room max_pending_tasks=%d left it",
                request.method,
                request.room,
                self.max_pending,
            )

    # ----------------------------------------------------------------------- running a request's tasks

    def run(self, *sources: Task | None) -> Coroutine[Any, Any, None]:
        """Run every task in `sources` (tasks, collections or `None`), once each:
        `await runner.run(...)`.

        A task added to one of these collections while they run (by one of
        their own tasks) runs too, after them. The request's place is given
        back when this is called; the tasks run when the result is awaited
        (a plain method returning the coroutine of the path that serves them,
        which saves every request one coroutine). Inside a request, a task
        whose `when=` does not run it after the request's outcome is left out
        (see [`ravyn.runner.when`][ravyn.runner.when])."""
        request = current_request()
        admitted = False
        if request is not None and request.runner is self:
            request.handed_over = True
            request.overflowed = False  # its handler caught TooManyTasks: not refused
            if request.reserved:
                admitted = True
                request.reserved = False
                self._reserved -= 1
            if request.method in METHODS_WITHOUT_TASKS:
                logger.debug("%s request: its background tasks are not run", request.method)
                return _nothing()
        if when.in_use and request is not None:
            outcome = when.outcome_of(request)
            if outcome is not None:
                runs, skipped = when.split(sources, outcome)
                if skipped:  # some tasks' `when=` leaves them out: the general path plans without them
                    if outcome == "success":  # after a failure, `RouteHandler` warned about the others
                        logger.debug(
                            "%d background task(s) with when='error' not run: the request succeeded: %s",
                            len(skipped),
                            _first_described(skipped),
                        )
                    return self.run_sources(sources, None, admitted) if runs else _nothing()
        leaf = single_leaf(sources)
        if leaf is not None:  # one task: the fast path's, unless it says otherwise
            return self._fast.serve(leaf, admitted, sources)
        return self.run_sources(sources, leaf, admitted)

    async def run_sources(self, sources: Sequence[Task | None], leaf: Task | None, admitted: bool) -> None:
        """The general path of `run`: a plan (or the one task, `leaf`) as a `Run`."""
        plan: Plan | None = None
        if leaf is None:
            plan = plan_tasks(sources, _left_out(sources))
            if not plan:
                return
        leaves = plan.leaves() if plan is not None else [leaf] if leaf is not None else []
        completed = await self._run_general(plan, leaf, leaves, admitted)
        if _grew(sources, len(leaves)):
            await self.run_added(sources, {id(task) for task in leaves}, run=completed)
        mark_ran(sources)

    async def run_added(self, sources: Sequence[Task | None], done: set[int], *, run: bool) -> None:
        """Run the tasks added to `sources`' collections while they ran, until none is;
        with `run=False` (the runner cancelled what added them) count them lost instead."""
        while True:
            plan = plan_tasks(sources, done.union(_left_out(sources)) if when.in_use else done)
            if not plan:
                return
            leaves = plan.leaves()
            done.update(id(task) for task in leaves)
            logger.debug("%d background task(s) added while their collection ran", len(leaves))
            if not run:
                self.stats.started += len(leaves)
                self.stats.running += len(leaves)
                self._report_lost(Run(plan, leaves), "cancelled at shutdown", total=not self.draining)
                return
            run = await self._run_general(plan, None, leaves, admitted=False)

    async def _run_general(
        self, plan: Plan | None, leaf: Task | None, leaves: list[Task], admitted: bool
    ) -> bool:
        """Run a plan (or one task) as a `Run` the drain can cancel, what is past the
        pending bound rejected. Return False if the runner cancelled it, or was closed."""
        self.stats.started += len(leaves)
        self.stats.running += len(leaves)
        if self.closed:
            self._report_lost(Run(plan, leaves), "handed over after the shutdown drain ended")
            return False
        if self.pending > self.max_pending:
            plan, leaves = self._shed(plan, leaves, admitted)
            if not leaves:
                return True
        scoped, hosted_by = self._fast.run_mode(leaf, plan)
        run = Run(plan, leaves, scoped=scoped, host=hosted_by)
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
        return not run.cancel_called

    # ----------------------------------------------------------------------- outcomes

    def _end(self, run: Run, task: Task, outcome: Outcome) -> None:
        if id(task) in run.ended:  # already counted (lost, when the drain gave up on it)
            return
        run.ended.add(id(task))
        stats = self.stats
        stats.running -= 1
        if outcome == "succeeded":  # the common case, without getattr/setattr
            stats.succeeded += 1
        else:
            setattr(stats, outcome, getattr(stats, outcome) + 1)

    def _report_lost(self, run: Run, why: str, *, total: bool = True) -> int:
        return drain_module.report_lost(self, run, why, total=total)

    def _log_abandoned(self) -> None:
        drain_module.log_abandoned(self)

    def _shed(self, plan: Plan | None, leaves: list[Task], admitted: bool) -> tuple[Plan | None, list[Task]]:
        """Over `max_pending`: reject the tasks past the room left (logged and
        counted); return what still runs. A request admitted before its handler
        ran keeps at least the one place it reserved."""
        others = self.pending - len(leaves)
        keep = max(self.max_pending - others, 1 if admitted else 0)
        if keep >= len(leaves):
            return plan, leaves
        if plan is not None:
            plan, tasks = plan.split(keep)
            leaves = plan.leaves()
        else:
            tasks, leaves = leaves, []
        self.stats.running -= len(tasks)
        self.stats.rejected += len(tasks)
        logger.error(
            "%d background task(s) rejected: the app already holds %d pending tasks "
            "(max_pending_tasks=%d): %s",
            len(tasks),
            self.pending,
            self.max_pending,
            _first_described(tasks),
        )
        return plan, leaves

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
        return await drain_module.drain(self, timeout, close=close)

    def reopen(self) -> None:
        """Accept tasks again after a drain (an app started again, as in tests)."""
        self.closed = False

    def finish_now(self) -> int:
        """Give up on every running task at once (a second signal): log each
        one lost by name, with a total, cancel them and end the drain.
        Call it from the event loop's thread. Returns how many were lost;
        with none running, one INFO line says that nothing was lost."""
        return drain_module.finish_now(self)

    def _cancel_running(self) -> None:
        drain_module.cancel_running(self)


NAMED_IN_A_LOG_LINE = 10
"""How many rejected tasks one log line names; the others are counted."""


def _first_described(tasks: Sequence[Task]) -> str:
    """The first tasks described, and how many more: one request may bring thousands."""
    named = ", ".join(describe(task) for task in tasks[:NAMED_IN_A_LOG_LINE])
    more = len(tasks) - NAMED_IN_A_LOG_LINE
    return f"{named} and {more} more" if more > 0 else named


def _left_out(sources: Sequence[Task | None]) -> Collection[int]:
    """The `id`s of the tasks in `sources` whose `when=` does not run them after
    the outcome of the request being served (see `ravyn.runner.when`)."""
    request = current_request() if when.in_use else None
    outcome = when.outcome_of(request) if request is not None else None
    if outcome is None:
        return ()
    _, skipped = when.split(sources, outcome)
    return {id(task) for task in skipped}


async def _nothing() -> None:
    """What `run` returns for tasks it does not run (a HEAD or OPTIONS request)."""


def _grew(sources: Sequence[Task | None], planned: int = 1) -> bool:
    """Whether `sources` may hold tasks beyond the `planned` ones that ran: a
    task added to one of their collections while they ran."""
    held = 0
    for source in sources:
        if isinstance(source, Tasks):
            for inner in source.tasks:
                if isinstance(inner, Tasks):
                    return True  # nested collections: the plan tells
                held += 1
        elif source is not None:
            held += 1
    return held != planned


default_runner = TaskRunner()
"""The runner used when a task is called outside a `Ravyn` app's request."""


def current_runner() -> TaskRunner:
    """The runner of the `Ravyn` app serving the current request, or
    `default_runner` outside one."""
    request = current_request()
    return request.runner if request is not None else default_runner
