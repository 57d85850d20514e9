"""On start, the plain tasks a dead process had in flight are logged at WARNING,
by name with escaped arguments, one line each up to a bound, and counted."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import pytest

from ravyn import Ravyn
from ravyn._journal.crash_report import LISTED
from ravyn._journal.store import open_journal
from ravyn.testing import Recorder
from tests.journal.support import rows

pytestmark = pytest.mark.anyio


def leave_in_flight(path: Path, worker: str, descriptions: list[str], *, heartbeat: float = 0.0) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO workers (id, host, pid, started, heartbeat) VALUES (?, 'elsewhere', 1, 0, ?)",
            (worker, heartbeat),
        )
        connection.executemany(
            "INSERT INTO in_flight (worker, seq, description, created) VALUES (?, ?, ?, 0)",
            [(worker, seq, text) for seq, text in enumerate(descriptions)],
        )


def lost_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "ravyn.journal" and r.levelno == logging.WARNING
    ]


async def test_the_plain_tasks_a_dead_process_lost_are_logged_escaped_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "tasks.sqlite3"
    open_journal(path).close()
    leave_in_flight(path, "deadbeef" * 4, ["send_email('a@b.c')", "audit('x\nERROR forged line')"])
    app = Ravyn(task_journal=path)
    with caplog.at_level(logging.WARNING, logger="ravyn.journal"):
        async with Recorder(app):
            pass
    lines = lost_lines(caplog)
    assert lines[0] == (
        "Background task send_email('a@b.c') lost: its process (worker deadbeef) ended without finishing it"
    )
    assert lines[1].startswith("Background task audit('x\\nERROR forged line') lost")
    assert "\n" not in "".join(lines)
    assert lines[2].startswith("2 plain background task(s) lost by a process that ended without its shutdown")
    assert app.task_stats()["reported_lost"] == 2
    assert rows(path, "SELECT count(*) FROM in_flight") == [(0,)]


async def test_a_long_report_names_a_bounded_number_of_tasks_and_counts_the_rest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "tasks.sqlite3"
    open_journal(path).close()
    leave_in_flight(path, "dead", [f"job({n})" for n in range(LISTED + 5)])
    app = Ravyn(task_journal=path)
    with caplog.at_level(logging.WARNING, logger="ravyn.journal"):
        async with Recorder(app):
            pass
    lines = lost_lines(caplog)
    named = [line for line in lines if line.startswith("Background task job(")]
    assert len(named) == LISTED
    assert "... and 5 more background task(s) of worker dead lost (not listed)" in lines
    assert app.task_stats()["reported_lost"] == LISTED + 5


async def test_a_live_workers_tasks_in_flight_are_not_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:

    path = tmp_path / "tasks.sqlite3"
    open_journal(path).close()
    leave_in_flight(path, "alive", ["busy()"], heartbeat=time.time() + 3600)
    app = Ravyn(task_journal=path)
    with caplog.at_level(logging.WARNING, logger="ravyn.journal"):
        async with Recorder(app):
            pass
    assert lost_lines(caplog) == []
    assert rows(path, "SELECT description FROM in_flight") == [("busy()",)]
