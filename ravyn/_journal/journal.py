"""`TaskJournal`: the journal of one app, from its opening to its close.

It ties the parts together: the file (`store`), the writer thread (`writer`),
workers and leases (`leases`), the crash report (`crash_report`). The app's
runner (`ravyn._journal.runner.JournaledRunner`) tells it what was handed
over and how each task ended; the route handler records durable tasks through
it before the response (`ravyn._journal.boundary`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lilya.background import Task

from ravyn._journal import leases
from ravyn._journal.check import resolve
from ravyn._journal.crash_report import InFlight, report_lost_plain_tasks
from ravyn._journal.leases import ClaimedTask, Worker
from ravyn._journal.store import JournalError, open_journal
from ravyn._journal.writer import JournalWriter
from ravyn.runner.logs import describe, escape_text

if TYPE_CHECKING:
    from ravyn.runner.core import TaskRunner

__all__ = ["JournalStats", "TaskJournal"]

logger = logging.getLogger("ravyn.journal")

DEFAULT_LEASE = 15.0
DEFAULT_MAX_ATTEMPTS = 5
CLAIM_LIMIT = 64
"""The most tasks one heartbeat claims; the next beat takes more."""

_OUTCOME_STATES = {"succeeded": "done", "failed": "failed", "skipped": "skipped"}


@dataclass
class JournalStats:
    """What the journal did since the app was made (in `Ravyn.task_stats()`, under the names of `counts`)."""

    recorded: int = 0
    """Durable tasks committed before their response."""
    deduplicated: int = 0
    """Durable tasks not added because a task with the same `key` was still unfinished."""
    unrecorded: int = 0
    """Requests answered 503 because their durable tasks could not be committed."""
    recovered: int = 0
    """Unfinished durable tasks this process took over at start or from a dead worker."""
    rerun: int = 0
    """Recovered tasks handed to the runner again."""
    gave_up: int = 0
    """Recovered tasks marked failed without running: started `max_attempts` times, or not importable."""
    left_pending: int = 0
    """Durable tasks the runner lost (a shutdown drain, a cancellation from outside): kept, they run again."""
    reported_lost: int = 0
    """Plain tasks of dead processes reported lost by the crash report."""

    def counts(self) -> dict[str, int]:
        """The counters under the names `Ravyn.task_stats()` gives them."""
        return {
            "recovered": self.recovered,
            "rerun": self.rerun,
            "reported_lost": self.reported_lost,
            "durable_recorded": self.recorded,
            "durable_deduplicated": self.deduplicated,
            "durable_unrecorded": self.unrecorded,
            "durable_gave_up": self.gave_up,
            "durable_left_pending": self.left_pending,
        }


class TaskJournal:
    """A task journal in the SQLite file `path`: durable tasks, leases, the crash report.

    `Ravyn(task_journal="tasks.sqlite3")` makes one with the defaults; pass a
    `TaskJournal` to choose `lease` (seconds a worker holds a task without a
    heartbeat before another may take it; heartbeats come every `lease / 3`
    seconds) and `max_attempts` (how many times a task may be started without
    ending, across crashes, before it is marked failed). Opening checks the
    file and raises `JournalError` naming it and what to do.

    Example:
        ```python
        import tempfile
        from pathlib import Path

        from ravyn import Ravyn
        from ravyn.journal import TaskJournal

        folder = Path(tempfile.mkdtemp())
        app = Ravyn(task_journal=TaskJournal(folder / "tasks.sqlite3", lease=10.0))
        ```
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lease: float = DEFAULT_LEASE,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        if not lease > 0:
            raise ValueError(f"lease must be a positive number of seconds, got {lease!r}")
        if not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts must be a whole number >= 1, got {max_attempts!r}")
        self.path = Path(os.fspath(path)).absolute()
        self.lease = lease
        self.max_attempts = max_attempts
        self.worker = Worker()
        self.stats = JournalStats()
        self.in_flight = InFlight(self.worker.id)
        self.runner: TaskRunner | None = None
        self._replaying = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._replays: set[asyncio.Task[None]] = set()
        self.writer = self._new_writer()

    def __repr__(self) -> str:
        return f"TaskJournal({str(self.path)!r}, lease={self.lease:g}, max_attempts={self.max_attempts})"

    # ----------------------------------------------------------------------- life cycle

    async def start(self, runner: TaskRunner) -> None:
        """After the app's startup: register this worker, report what dead
        processes lost, and re-run the unfinished durable tasks through `runner`."""
        if self.worker.pid != os.getpid():
            # made before a fork (gunicorn --preload): this process is a worker of its own, and a
            # SQLite connection must not cross a fork, so the parent's is left alone, never closed
            self.worker = Worker()
            self.in_flight = InFlight(self.worker.id)
            self.writer = self._new_writer()
        elif self.writer.closed:
            self.writer = self._new_writer()
        self.runner = runner
        self._loop = asyncio.get_running_loop()
        self._replaying = True
        await asyncio.wrap_future(self.writer.submit(self._tick))

    def _new_writer(self) -> JournalWriter:
        return JournalWriter(open_journal(self.path), tick_every=self.lease / 3, on_tick=self._tick)

    async def stop(self) -> None:
        """At shutdown, after the drain: give back the tasks still held, leave the journal, close it."""
        self._replaying = False
        if self.writer.closed:
            return
        # a task the drain abandoned may still run on its thread until this process ends:
        # then its row stays held for one more lease, so that no other worker starts it meanwhile
        release = self.runner is None or self.runner.snapshot()["abandoned"] == 0
        now = leases.now()
        try:
            await asyncio.wrap_future(
                self.writer.submit(
                    lambda c: leases.unregister(c, self.worker, now, self.lease, release=release)
                )
            )
        except Exception as exc:
            logger.error("The task journal %s could not record this worker's end: %s", self.path, exc)
        await asyncio.to_thread(self.writer.close)

    # ----------------------------------------------------------------------- durable tasks

    async def record(self, tasks: Sequence[Task]) -> list[int | None]:
        """Commit `tasks` (durable, checked), held by this worker; return each
        one's row id, or None for one whose `key` an unfinished task already has.
        Raises what SQLite raised if the commit failed."""
        now = leases.now()
        rows = [
            (
                *task.durable_payload,  # type: ignore[attr-defined]
                describe(task),
                task.key,  # type: ignore[attr-defined]
                getattr(task, "timeout", None),
                getattr(task, "retries", 0),
                getattr(task, "retry_delay", 0.0),
            )
            for task in tasks
        ]
        worker, lease = self.worker.id, self.lease

        def insert(connection: sqlite3.Connection) -> list[int | None]:
            ids: list[int | None] = []
            for row in rows:
                try:
                    cursor = connection.execute(
                        "INSERT INTO tasks (reference, arguments, name, task_key, timeout, retries, "
                        "retry_delay, state, worker, lease_until, attempts, created, updated) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, 1, ?, ?)",
                        (*row, worker, now + lease, now, now),
                    )
                except sqlite3.IntegrityError:  # the unique index on unfinished keys
                    ids.append(None)
                else:
                    ids.append(cursor.lastrowid)
            return ids

        written = self.writer.submit(insert)
        try:
            ids: list[int | None] = await asyncio.shield(asyncio.wrap_future(written))
        except asyncio.CancelledError:
            written.add_done_callback(self._release_if_written)
            raise
        self.stats.recorded += sum(1 for found in ids if found is not None)
        return ids

    def _release_if_written(self, written: Future[list[int | None]]) -> None:
        """A record whose request was cancelled while it waited: its rows, if written, go back to pending."""
        if not written.cancelled() and written.exception() is None:
            self.release([task_id for task_id in written.result() if task_id is not None])

    def ended(self, task: Task, outcome: str) -> None:
        """A recorded task ended (queued write): done, failed or skipped for good,
        or lost at shutdown, when it goes back to pending to run again."""
        task_id = getattr(task, "journal_id", None)
        if task_id is None or self.writer.closed:
            return
        state = _OUTCOME_STATES.get(outcome)
        worker = self.worker.id
        if state is None:  # lost: kept in the journal, to run again
            self.stats.left_pending += 1
            runner = self.runner
            if runner is None or not (runner.draining or runner.closed):
                self.release([task_id])  # cancelled from outside: free for the next claim
            # at shutdown it stays held until `stop()`, which knows whether it may still run
            return
        now = leases.now()
        self.writer.post(
            lambda c: c.execute(
                "UPDATE tasks SET state = ?, worker = NULL, lease_until = NULL, updated = ? "
                "WHERE id = ? AND worker = ?",
                (state, now, task_id, worker),
            )
        )

    def release(self, task_ids: Sequence[int]) -> None:
        """Give tasks this worker holds back as pending (queued write): they run again later."""
        if self.writer.closed or not task_ids:
            return
        ids = [(task_id, self.worker.id) for task_id in task_ids]
        self.writer.post(
            lambda c: c.executemany(
                "UPDATE tasks SET state = 'pending', worker = NULL, lease_until = NULL "
                "WHERE id = ? AND worker = ? AND state = 'running'",
                ids,
            )
        )

    # ----------------------------------------------------------------------- plain tasks in flight

    def track(self, tasks: Sequence[Task]) -> list[int]:
        """Record plain tasks as in flight (queued write, the client does not wait); return their numbers."""
        if self.writer.closed or not tasks:
            return []
        numbers = self.in_flight.numbers(len(tasks))
        self.writer.post(self.in_flight.add(numbers, [describe(task) for task in tasks], leases.now()))  # type: ignore[arg-type]
        return numbers

    def untrack(self, numbers: Sequence[int]) -> None:
        """The tasks `numbers` ended (queued write)."""
        if numbers and not self.writer.closed:
            self.writer.post(self.in_flight.remove(numbers))  # type: ignore[arg-type]

    # ----------------------------------------------------------------------- the heartbeat (writer thread)

    def _tick(self, connection: sqlite3.Connection) -> None:
        now = leases.now()
        leases.beat(connection, self.worker, now, self.lease)
        dead = leases.dead_workers(connection, self.worker, now, self.lease)
        if dead:
            self.stats.reported_lost += report_lost_plain_tasks(connection, dead)
        loop, runner = self._loop, self.runner
        if not self._replaying or loop is None or runner is None or runner.draining or runner.closed:
            return
        room = min(CLAIM_LIMIT, runner.max_pending - runner.pending)
        claimed, given_up = leases.claim(
            connection, self.worker, now, self.lease, dead=dead, limit=room, max_attempts=self.max_attempts
        )
        leases.forget_dead(connection, dead)
        for task in given_up:
            self.stats.gave_up += 1
            logger.error(
                "Durable task %s (#%d) marked failed: started %d times without ending (max_attempts=%d); "
                "it is not run again",
                escape_text(task.name),
                task.id,
                task.attempts - 1,
                self.max_attempts,
            )
        if claimed:
            # committed by the writer before the loop runs this: the claim holds when the task starts
            loop.call_soon_threadsafe(self._dispatch, claimed)

    # ----------------------------------------------------------------------- re-running (event loop)

    def _dispatch(self, claimed: list[ClaimedTask]) -> None:
        runner = self.runner
        self.stats.recovered += len(claimed)
        for row in claimed:
            if runner is None or runner.draining or runner.closed or not self._replaying:
                self.release([row.id])
                continue
            try:
                task = _rebuild(row)
            except Exception as exc:
                self.stats.gave_up += 1
                logger.error(
                    "Durable task %s (#%d) marked failed: it cannot be rebuilt (%s: %s)",
                    escape_text(row.name),
                    row.id,
                    escape_text(type(exc).__name__),
                    escape_text(str(exc)),
                )
                self._fail(row.id, f"cannot be rebuilt: {type(exc).__name__}: {exc}")
                continue
            self.stats.rerun += 1
            logger.info(
                "Running durable task %s (#%d) again: attempt %d", escape_text(row.name), row.id, row.attempts
            )
            replay = asyncio.get_running_loop().create_task(runner.run(task))
            self._replays.add(replay)
            replay.add_done_callback(self._replays.discard)

    def _fail(self, task_id: int, error: str) -> None:
        now, worker = leases.now(), self.worker.id
        self.writer.post(
            lambda c: c.execute(
                "UPDATE tasks SET state = 'failed', worker = NULL, lease_until = NULL, updated = ?, "
                "error = ? WHERE id = ? AND worker = ?",
                (now, error, task_id, worker),
            )
        )


def _rebuild(row: ClaimedTask) -> Task:
    """The task a claimed row describes, ready for the runner."""
    from ravyn.background import BackgroundTask  # the background module imports this package

    payload: Any = json.loads(row.arguments)
    task = BackgroundTask(resolve(row.reference), *payload["args"], **payload["kwargs"])
    task.timeout, task.retries, task.retry_delay = row.timeout, row.retries, row.retry_delay
    task.durable, task.key, task.journal_id = True, row.key, row.id
    task.durable_payload = (row.reference, row.arguments)
    return task


__all__ += ["JournalError"]
