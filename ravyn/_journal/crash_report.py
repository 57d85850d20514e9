"""The crash report: which plain (not durable) tasks a process lost when it died.

When a request's plain tasks are handed to the runner, one row per task
(`in_flight`: its name and shortened, escaped arguments) is queued for the
journal's writer; when the request's tasks have all ended, their rows are
queued for deletion. Neither makes the client wait: the writer thread commits
them in its next batch.

The window a crash can miss: tasks handed over less than one batch commit
before the crash (the writer wakes at once, so this is the time of a commit,
about a millisecond, longer with a busy disk or when another worker holds the
journal). The other way round, tasks that ended within that window may still
be reported lost although they finished. A shutdown drain deletes the rows of
its process (the drain logs its own lost tasks).

On start, and at every heartbeat, the rows of dead workers (see
`ravyn._journal.leases`) are logged at WARNING, one line per task up to
`LISTED`, counted, and deleted.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
from collections.abc import Sequence

from ravyn.runner.logs import escape_text

__all__ = ["LISTED", "InFlight", "report_lost_plain_tasks"]

logger = logging.getLogger("ravyn.journal")

LISTED = 20
"""How many lost plain tasks the report names, per dead worker; the rest are counted."""


class InFlight:
    """Numbers this process's in-flight rows, and makes the writes that add and remove them."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._numbers = itertools.count(1)

    def numbers(self, count: int) -> list[int]:
        """`count` new row numbers."""
        return [next(self._numbers) for _ in range(count)]

    def add(self, numbers: Sequence[int], descriptions: Sequence[str], now: float) -> object:
        """The write that records these tasks as in flight."""
        rows = [
            (self.worker_id, number, text, now) for number, text in zip(numbers, descriptions, strict=True)
        ]

        def write(connection: sqlite3.Connection) -> None:
            connection.executemany(
                "INSERT OR REPLACE INTO in_flight (worker, seq, description, created) VALUES (?, ?, ?, ?)",
                rows,
            )

        return write

    def remove(self, numbers: Sequence[int]) -> object:
        """The write that removes these tasks' rows (they ended)."""
        rows = [(self.worker_id, number) for number in numbers]

        def write(connection: sqlite3.Connection) -> None:
            connection.executemany("DELETE FROM in_flight WHERE worker = ? AND seq = ?", rows)

        return write


def report_lost_plain_tasks(connection: sqlite3.Connection, dead: Sequence[str]) -> int:
    """Log the plain tasks the `dead` workers had in flight (WARNING, one line
    each, at most `LISTED` per worker), delete their rows; return how many."""
    total = 0
    for worker_id in dead:
        rows = connection.execute(
            "SELECT description FROM in_flight WHERE worker = ? ORDER BY seq", (worker_id,)
        ).fetchall()
        if not rows:
            continue
        for (description,) in rows[:LISTED]:
            logger.warning(
                "Background task %s lost: its process (worker %s) ended without finishing it",
                escape_text(description),
                worker_id[:8],
            )
        if len(rows) > LISTED:
            logger.warning(
                "... and %d more background task(s) of worker %s lost (not listed)",
                len(rows) - LISTED,
                worker_id[:8],
            )
        logger.warning(
            "%d plain background task(s) lost by a process that ended without its shutdown (a crash, "
            "SIGKILL): make the ones that must not be lost durable (durable=True)",
            len(rows),
        )
        connection.execute("DELETE FROM in_flight WHERE worker = ?", (worker_id,))
        total += len(rows)
    return total
