"""`JournaledRunner`: the task runner of an app with a journal.

A `Ravyn` app made with `task_journal=` gets this runner instead of a plain
`TaskRunner`; an app without a journal pays nothing for it. Three things
differ, each at one place:

* `run` records the plain tasks handed over as in flight (the crash report)
  and removes them once the request's tasks have all ended; a durable task
  that reaches the runner unrecorded (given to a Lilya route's response, which
  sends before it hands its tasks over) is recorded then, after the response,
  with a warning;
* `_end` tells the journal how each recorded durable task ended (done,
  failed, skipped; lost at shutdown: back to pending, to run again);
* no task runs inline in the request's task (`ravyn.runner.inline`'s one-task
  path does not report outcomes one by one): every task takes the general path.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from lilya.background import Task

from ravyn._journal.journal import TaskJournal
from ravyn.runner._run import Run
from ravyn.runner.core import TaskRunner
from ravyn.runner.inline import FastPaths
from ravyn.runner.logs import describe
from ravyn.runner.plan import plan_tasks
from ravyn.runner.requests import METHODS_WITHOUT_TASKS, current_request
from ravyn.runner.steps import Outcome

__all__ = ["JournaledRunner"]

logger = logging.getLogger("ravyn.journal")


class _GeneralPathOnly(FastPaths):
    """The fast paths but the inline one-task path, which ends tasks without `_end`."""

    __slots__ = ()

    async def serve(self, leaf: Task, admitted: bool, sources: Sequence[Task | None]) -> None:
        """Always the general path (see `FastPaths.serve`)."""
        await self.runner.run_sources(sources, leaf, admitted)


class JournaledRunner(TaskRunner):
    """A `TaskRunner` that reports to a `TaskJournal` (see the module's docstring)."""

    def __init__(self, journal: TaskJournal, **options: Any) -> None:
        super().__init__(**options)
        self.journal = journal
        self._journal = journal  # typed without None: this runner always has one
        self._fast = _GeneralPathOnly(self)
        self._inline = self._fast.running
        self._warned_late: set[str] = set()

    def keeps(self, task: Task) -> bool:
        """Whether `task` stays in the journal when the runner loses it (it runs again)."""
        return getattr(task, "journal_id", None) is not None and not self._journal.writer.closed

    def run(self, *sources: Task | None) -> Coroutine[Any, Any, None]:
        """`TaskRunner.run`, with the request's plain tasks noted in flight for the
        crash report, and durable tasks recorded late when they reached it unrecorded."""
        request = current_request()
        if request is not None and request.method in METHODS_WITHOUT_TASKS:
            return super().run(*sources)
        return self._run_journaled(sources)

    async def _run_journaled(self, sources: Sequence[Task | None]) -> None:
        leaves = plan_tasks(sources).leaves()
        late = [t for t in leaves if getattr(t, "durable", False) and getattr(t, "journal_id", None) is None]
        if late:
            await self._record_late(late)
        plain = [t for t in leaves if getattr(t, "journal_id", None) is None]
        numbers = self._journal.track(plain)
        try:
            await super().run(*sources)
        finally:
            self._journal.untrack(numbers)
            # a durable task that never ended here (rejected over max_pending_tasks) stays in the journal
            unended = [
                t.journal_id  # type: ignore[attr-defined]
                for t in leaves
                if getattr(t, "journal_id", None) is not None and not getattr(t, "journal_ended", False)
            ]
            self._journal.release(unended)

    async def _record_late(self, tasks: list[Task]) -> None:
        try:
            ids = await self._journal.record(tasks)
        except Exception as exc:
            logger.error(
                "Durable task(s) %s could not be recorded (%s): they run once, not durable",
                ", ".join(describe(task) for task in tasks),
                exc,
            )
            return
        for task, task_id in zip(tasks, ids, strict=True):
            task.journal_id = task_id  # type: ignore[attr-defined]
            name = describe(task)
            if name not in self._warned_late:
                self._warned_late.add(name)
                logger.warning(
                    "Durable task %s was recorded after its response was sent: it came from a route that "
                    "is not a Ravyn handler (a Lilya Path); only Ravyn's route decorators record before "
                    "the response",
                    name,
                )

    def _end(self, run: Run, task: Task, outcome: Outcome) -> None:
        already = id(task) in run.ended
        super()._end(run, task, outcome)
        if not already and getattr(task, "journal_id", None) is not None:
            task.journal_ended = True  # type: ignore[attr-defined]
            self._journal.ended(task, outcome)
