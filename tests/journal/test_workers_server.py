"""Several workers, one journal, under a real `uvicorn --workers 2` on 127.0.0.1:
a worker killed with SIGKILL in the middle of a durable task has it re-run by a
live one, exactly once, never two at the same time."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ravyn.testing import serve

pytestmark = [pytest.mark.server, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def wait_for(log: Path, prefix: str, count: int = 1, deadline: float = 30.0) -> list[list[str]]:
    """The lines of `log` starting with `prefix`, once there are `count` of them."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        lines = [line.split() for line in (log.read_text() if log.exists() else "").splitlines()]
        found = [line for line in lines if " ".join(line).startswith(prefix)]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(
        f"no {count} line(s) {prefix!r} in {deadline}s: {log.read_text() if log.exists() else ''}"
    )


def started(server: Any, workers: int) -> None:
    """Wait until `workers` workers of `server` said their startup is complete."""
    end = time.monotonic() + 60
    while server.output.count("Application startup complete") < workers and time.monotonic() < end:
        time.sleep(0.05)
    assert server.output.count("Application startup complete") == workers, server.output


def test_a_killed_workers_durable_task_is_run_again_by_another_exactly_once(tmp_path: Path) -> None:
    log, journal = tmp_path / "jobs.log", tmp_path / "tasks.sqlite3"
    env = {"JOB_LOG": str(log), "TASK_JOURNAL": str(journal), "JOB_SECONDS": "2", "NO_PROXY": "127.0.0.1"}
    with serve(
        "tests.journal.worker_app:app", env=env, cwd=ROOT, uvicorn_args=("--no-access-log", "--workers", "2")
    ) as server:
        started(server, 2)
        request = urllib.request.Request(f"{server.url}/jobs/7", method="POST", data=b"{}")
        request.add_header("content-type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert (response.status, json.loads(response.read())) == (201, {"job": 7})
        ((_, _, killed_pid, _),) = wait_for(log, "start 7")
        killed_at = time.time()
        os.kill(int(killed_pid), signal.SIGKILL)
        ((_, _, done_pid, _),) = wait_for(log, "done 7")
        time.sleep(1.0)  # room for a second run to show up, if there were one
        output = server.output
    lines = [line.split() for line in log.read_text().splitlines()]
    starts = [line for line in lines if line[:2] == ["start", "7"]]
    dones = [line for line in lines if line[:2] == ["done", "7"]]
    assert len(starts) == 2 and len(dones) == 1, log.read_text()
    assert done_pid != killed_pid
    assert float(starts[1][3]) >= killed_at  # the second run began after the first was killed
    with sqlite3.connect(journal) as connection:
        assert connection.execute("SELECT state, attempts FROM tasks").fetchall() == [("done", 2)]
    assert "Running durable task slow_job(7) (#1) again: attempt 2" in output, output


def test_a_restarted_worker_leaves_a_live_workers_task_alone(tmp_path: Path) -> None:
    log, journal, gate = tmp_path / "jobs.log", tmp_path / "tasks.sqlite3", tmp_path / "gate"
    # the job runs until the test opens the gate: however slowly the new worker starts, it is still running
    env = {"JOB_LOG": str(log), "TASK_JOURNAL": str(journal), "JOB_GATE": str(gate), "NO_PROXY": "127.0.0.1"}
    args = ("--no-access-log", "--workers", "2")
    with serve("tests.journal.worker_app:app", env=env, cwd=ROOT, uvicorn_args=args) as server:
        started(server, 2)  # both workers up: the one killed below must be one that had started
        request = urllib.request.Request(f"{server.url}/jobs/8", method="POST", data=b"{}")
        request.add_header("content-type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        ((_, _, busy_pid, _),) = wait_for(log, "start 8")
        children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
        workers = [pid for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        (idle_pid,) = [pid for pid in workers if pid != busy_pid]  # not the resource tracker
        os.kill(int(idle_pid), signal.SIGKILL)  # uvicorn starts a new worker in its place
        # the new worker claimed what it could before it said so (the journal starts first)
        started(server, 3)
        time.sleep(1.0)  # a lease and more: room for the new worker to take the job, if it would
        assert "done 8" not in log.read_text() and log.read_text().count("start 8") == 1, log.read_text()
        gate.touch()
        wait_for(log, "done 8", deadline=30.0)
    lines = [line.split() for line in log.read_text().splitlines()]
    assert [line[:3] for line in lines] == [["start", "8", busy_pid], ["done", "8", busy_pid]]
    with sqlite3.connect(journal) as connection:
        assert connection.execute("SELECT state, attempts FROM tasks").fetchall() == [("done", 1)]


def test_a_plain_task_killed_mid_run_is_reported_lost_at_the_next_start(tmp_path: Path) -> None:
    log, journal = tmp_path / "jobs.log", tmp_path / "tasks.sqlite3"
    env = {"JOB_LOG": str(log), "TASK_JOURNAL": str(journal), "JOB_SECONDS": "60", "NO_PROXY": "127.0.0.1"}
    with serve("tests.journal.worker_app:app", env=env, cwd=ROOT) as server:
        request = urllib.request.Request(f"{server.url}/plain-jobs/9", method="POST", data=b"{}")
        request.add_header("content-type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        wait_for(log, "start 9")
        # the crash report's window: the writer commits in-flight rows in batches, a kill before
        # that commit is the loss it documents; this test is about a kill after it
        end = time.monotonic() + 20
        while time.monotonic() < end:
            with sqlite3.connect(journal) as connection:
                if connection.execute("SELECT count(*) FROM in_flight").fetchone()[0]:
                    break
            time.sleep(0.05)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
    with serve("tests.journal.worker_app:app", env=env, cwd=ROOT) as server:
        end = time.monotonic() + 20
        while "plain background task(s) lost" not in server.output and time.monotonic() < end:
            time.sleep(0.05)
        output = server.output
    assert "WARNING" in output and "Background task slow_job(9) lost: its process (worker " in output, output
    assert "1 plain background task(s) lost by a process that ended without its shutdown" in output
    assert [line.split()[:2] for line in log.read_text().splitlines()] == [["start", "9"]]  # not run again
