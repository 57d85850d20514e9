"""Leases shared by workers: a claim is exclusive, a live worker keeps its tasks,
a dead one's are taken, the heartbeat extends what a worker holds."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from ravyn._journal import leases
from ravyn._journal.leases import Worker
from ravyn._journal.store import open_journal
from tests.journal import jobs
from tests.journal.support import leave_unfinished, rows

LEASE = 30.0


def journal(tmp_path: Path) -> Path:
    path = tmp_path / "tasks.sqlite3"
    open_journal(path).close()
    return path


def claim_all(path: Path, worker: Worker, claimed: list[int], limit: int = 3) -> None:
    connection = open_journal(path)
    try:
        while True:
            connection.execute("BEGIN IMMEDIATE")
            now = leases.now()
            dead = leases.dead_workers(connection, worker, now, LEASE)
            got, _ = leases.claim(connection, worker, now, LEASE, dead=dead, limit=limit, max_attempts=5)
            connection.execute("COMMIT")
            if not got:
                return
            claimed.extend(task.id for task in got)
    finally:
        connection.close()


def test_two_workers_claiming_at_once_never_take_the_same_task(tmp_path: Path) -> None:
    path = journal(tmp_path)
    ids = {leave_unfinished(path, jobs.remember, str(n), state="pending", worker=None) for n in range(60)}
    first: list[int] = []
    second: list[int] = []
    threads = [
        threading.Thread(target=claim_all, args=(path, Worker(host="h"), first)),
        threading.Thread(target=claim_all, args=(path, Worker(host="h"), second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not set(first) & set(second)
    assert set(first) | set(second) == ids
    assert len(first) + len(second) == len(ids)


def test_a_worker_whose_heartbeat_is_older_than_the_lease_is_dead(tmp_path: Path) -> None:
    path = journal(tmp_path)
    me = Worker(host="here")
    connection = open_journal(path)
    leases.register(connection, Worker(id="stale", host="elsewhere"), leases.now() - LEASE - 1)
    leases.register(connection, Worker(id="fresh", host="elsewhere"), leases.now())
    assert leases.dead_workers(connection, me, leases.now(), LEASE) == ["stale"]
    connection.close()


def test_a_worker_of_this_host_whose_process_is_gone_is_dead_at_once(tmp_path: Path) -> None:
    path = journal(tmp_path)
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    gone_pid = int(ended.stdout)
    me = Worker()
    connection = open_journal(path)
    leases.register(connection, Worker(id="gone", pid=gone_pid), leases.now())
    leases.register(connection, Worker(id="parent", pid=os.getppid()), leases.now())
    assert leases.dead_workers(connection, me, leases.now(), LEASE) == ["gone"]
    connection.close()


def test_a_fresh_lease_is_kept_and_an_expired_one_is_taken(tmp_path: Path) -> None:
    path = journal(tmp_path)
    kept = leave_unfinished(path, jobs.remember, "kept", worker="other")
    expired = leave_unfinished(path, jobs.remember, "expired", worker="other")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE workers SET heartbeat = ?, host = 'elsewhere'", (leases.now(),))
        connection.execute("UPDATE tasks SET lease_until = ? WHERE id = ?", (leases.now() + LEASE, kept))
        connection.execute("UPDATE tasks SET lease_until = ? WHERE id = ?", (leases.now() - 1, expired))
    me = Worker()
    connection = open_journal(path)
    got, _ = leases.claim(connection, me, leases.now(), LEASE, dead=[], limit=10, max_attempts=5)
    assert [task.id for task in got] == [expired]
    connection.close()


def test_the_heartbeat_extends_the_leases_of_the_tasks_a_worker_holds(tmp_path: Path) -> None:
    path = journal(tmp_path)
    me = Worker()
    task_id = leave_unfinished(path, jobs.remember, "mine", worker=me.id)
    connection = open_journal(path)
    now = leases.now()
    leases.beat(connection, me, now, LEASE)
    assert rows(path, "SELECT lease_until FROM tasks WHERE id = ?", task_id) == [(now + LEASE,)]
    assert rows(path, "SELECT heartbeat FROM workers WHERE id = ?", me.id) == [(now,)]
    connection.close()
