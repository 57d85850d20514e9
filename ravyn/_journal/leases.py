"""Workers, heartbeats and leases: how several processes share one journal.

Each process serving the app (each worker of `uvicorn --workers N`) registers
a row in `workers` and beats every `lease / 3` seconds, on the journal's
writer thread: the beat refreshes its row and extends the lease of every
durable task it holds (`tasks.worker`, `tasks.lease_until`). As in
procrastinate's stalled-job retry and Delayed Job's heartbeat, a worker is
dead when its heartbeat is older than the lease; on one host a worker whose
process is gone, or whose pid is now our own while no journal of this process
has its id (a restarted container reuses pids), is dead at once, so a
restarted server does not wait a whole lease for its own tasks. Two apps of
one process on one file are two live workers.

A task is claimed in one `BEGIN IMMEDIATE` transaction (SQLite's writers take
turns), which sets its worker, its lease and counts the attempt: two workers
never hold the same task. A worker claims only tasks that are `pending` or
whose holder's lease ran out or is dead, so a live worker's tasks are never
run a second time while it holds them. A task claimed `max_attempts` times
without ending is marked failed instead of claimed again: a task that kills
its process cannot make the server crash forever.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass, field

__all__ = [
    "ClaimedTask",
    "Worker",
    "beat",
    "claim",
    "dead_workers",
    "forget_dead",
    "now",
    "register",
    "unregister",
]


@dataclass(frozen=True)
class Worker:
    """This process, as the journal knows it."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)


@dataclass(frozen=True)
class ClaimedTask:
    """A durable task row this worker now holds, to run again."""

    id: int
    reference: str
    arguments: str
    name: str
    key: str | None
    timeout: float | None
    retries: int
    retry_delay: float
    attempts: int


_live_here: set[str] = set()
"""The ids of the workers of this process that are registered (several apps may share a file)."""


def register(connection: sqlite3.Connection, worker: Worker, now: float) -> None:
    """Add (or refresh) this worker's row."""
    _live_here.add(worker.id)
    connection.execute(
        "INSERT INTO workers (id, host, pid, started, heartbeat) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET heartbeat = excluded.heartbeat",
        (worker.id, worker.host, worker.pid, now, now),
    )


def unregister(
    connection: sqlite3.Connection, worker: Worker, now: float, lease: float, *, release: bool
) -> None:
    """Remove this worker's row. The tasks it still holds become pending (free
    at once) with `release`; otherwise (one of them may still run on an
    abandoned thread until the process ends) they stay held for one more lease."""
    if release:
        connection.execute(
            "UPDATE tasks SET state = 'pending', worker = NULL, lease_until = NULL "
            "WHERE worker = ? AND state = 'running'",
            (worker.id,),
        )
    else:
        connection.execute(
            "UPDATE tasks SET lease_until = ? WHERE worker = ? AND state = 'running'",
            (now + lease, worker.id),
        )
    connection.execute("DELETE FROM in_flight WHERE worker = ?", (worker.id,))
    connection.execute("DELETE FROM workers WHERE id = ?", (worker.id,))
    _live_here.discard(worker.id)


def beat(connection: sqlite3.Connection, worker: Worker, now: float, lease: float) -> None:
    """Refresh this worker's heartbeat and extend the leases of its tasks."""
    register(connection, worker, now)
    connection.execute(
        "UPDATE tasks SET lease_until = ? WHERE worker = ? AND state = 'running'",
        (now + lease, worker.id),
    )


def dead_workers(connection: sqlite3.Connection, worker: Worker, now: float, lease: float) -> list[str]:
    """The ids of the workers that are gone: a heartbeat older than `lease`, or
    on this host a process that no longer exists, or our pid with an id no
    journal of this process has."""
    dead: list[str] = []
    rows = connection.execute("SELECT id, host, pid, heartbeat FROM workers WHERE id != ?", (worker.id,))
    for worker_id, host, pid, heartbeat in rows.fetchall():
        gone_here = host == worker.host and (
            (pid == worker.pid and worker_id not in _live_here) or (pid != worker.pid and not _alive(pid))
        )
        if heartbeat < now - lease or gone_here:
            dead.append(worker_id)
    return dead


def claim(
    connection: sqlite3.Connection,
    worker: Worker,
    now: float,
    lease: float,
    *,
    dead: list[str],
    limit: int,
    max_attempts: int,
) -> tuple[list[ClaimedTask], list[ClaimedTask]]:
    """Claim up to `limit` tasks free to run: `(claimed, given_up)`, the second
    those already claimed `max_attempts` times, now marked failed."""
    if limit <= 0:
        return [], []
    marks = ",".join("?" * len(dead))
    held_by_dead = f" OR worker IN ({marks})" if dead else ""
    rows = connection.execute(
        "SELECT id, reference, arguments, name, task_key, timeout, retries, retry_delay, attempts "
        "FROM tasks WHERE state = 'pending' "
        f"OR (state = 'running' AND worker != ? AND (lease_until < ?{held_by_dead})) "
        "ORDER BY id LIMIT ?",
        (worker.id, now, *dead, limit),
    ).fetchall()
    claimed: list[ClaimedTask] = []
    given_up: list[ClaimedTask] = []
    for row in rows:
        task = ClaimedTask(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8] + 1)
        if row[8] >= max_attempts:
            connection.execute(
                "UPDATE tasks SET state = 'failed', worker = NULL, lease_until = NULL, updated = ?, "
                "error = ? WHERE id = ?",
                (
                    now,
                    f"gave up: started {row[8]} times without ending (max_attempts={max_attempts})",
                    task.id,
                ),
            )
            given_up.append(task)
            continue
        connection.execute(
            "UPDATE tasks SET state = 'running', worker = ?, lease_until = ?, attempts = attempts + 1, "
            "updated = ? WHERE id = ?",
            (worker.id, now + lease, now, task.id),
        )
        claimed.append(task)
    return claimed, given_up


def forget_dead(connection: sqlite3.Connection, dead: list[str]) -> None:
    """Remove the rows of dead workers that hold no task any more."""
    for worker_id in dead:
        connection.execute(
            "DELETE FROM workers WHERE id = ? AND NOT EXISTS "
            "(SELECT 1 FROM tasks WHERE worker = ? AND state = 'running')",
            (worker_id, worker_id),
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def now() -> float:
    """The journal's clock: wall time, shared by the processes of one host."""
    return time.time()
