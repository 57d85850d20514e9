"""Helpers for the journal's tests: rows left by a dead worker, polling with a deadline."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from ravyn._journal.check import check_durable

DEADLINE = 10.0
"""Generous: a condition met in milliseconds on a quiet machine gets this long on a busy one."""


def leave_unfinished(
    path: Path,
    func: Callable[..., Any],
    *args: Any,
    state: str = "running",
    worker: str | None = "gone-worker",
    attempts: int = 1,
    retries: int = 0,
    key: str | None = None,
) -> int:
    """Write a durable task row as a worker that died would have left it; return its id.

    The worker (if any) gets a row with a heartbeat from long ago, on another host."""
    reference, arguments = check_durable(func, args, {}, func.__name__)
    with sqlite3.connect(path) as connection:
        if worker is not None:
            connection.execute(
                "INSERT OR IGNORE INTO workers (id, host, pid, started, heartbeat) "
                "VALUES (?, 'elsewhere', 1, 0, 0)",
                (worker,),
            )
        cursor = connection.execute(
            "INSERT INTO tasks (reference, arguments, name, task_key, timeout, retries, retry_delay, "
            "state, worker, lease_until, attempts, created, updated) "
            "VALUES (?, ?, ?, ?, NULL, ?, 0, ?, ?, 0, ?, 0, 0)",
            (reference, arguments, f"{func.__name__}(...)", key, retries, state, worker, attempts),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid


def rows(path: Path, query: str, *params: Any) -> list[tuple[Any, ...]]:
    """The rows `query` reads from the journal at `path` (a connection of its own)."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute(query, params).fetchall()
    finally:
        connection.close()


def states(path: Path) -> dict[int, str]:
    """Each task row's state, by id."""
    return dict(rows(path, "SELECT id, state FROM tasks"))  # type: ignore[arg-type]


async def eventually(condition: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    """Wait until `condition()` holds (checked every 20 ms), or fail saying `what` did not happen."""
    with anyio.move_on_after(deadline):
        while not condition():
            await anyio.sleep(0.02)
        return
    raise AssertionError(f"{what}: not within {deadline}s")
