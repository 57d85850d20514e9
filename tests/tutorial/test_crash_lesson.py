"""`run LESSON --crash`: the server gets SIGKILL while a task runs and is started again;
a durable task comes back and finishes, a plain one never does."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ravyn_tutorial.cli import app
from ravyn_tutorial.crash import crash_takeaway
from ravyn_tutorial.timeline import Event, RequestView


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_a_durable_task_killed_with_its_server_runs_again_after_the_restart(
    cli: CliRunner, in_checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a second of work, so that the kill lands while it runs even on a busy machine
    monkeypatch.setenv("INVOICE_SECONDS", "1")

    result = cli.invoke(app, ["run", "durable_tasks", "--crash"])

    said = _flat(result.output)
    assert result.exit_code == 0, result.output
    # the order as recorded: started, killed, started again, replayed, finished
    started = said.index("▶ send_invoice started")
    killed = said.index("☠ SIGKILL sent to the server")
    restarted = said.index("the same app started again")
    replayed = said.index("▶ send_invoice started", restarted)
    finished = said.index("✔ send_invoice finished")
    assert started < killed < restarted < replayed < finished
    assert "ran it again to the end: a durable task runs at least once" in said
    assert "Traceback" not in result.output


def test_a_plain_task_killed_with_its_server_never_comes_back(cli: CliRunner, in_checkout: Path) -> None:
    result = cli.invoke(app, ["run", "quick_start", "--crash"])

    said = _flat(result.output)
    assert result.exit_code == 0, result.output
    assert "☠ SIGKILL sent to the server" in said
    assert "✔ send_welcome_email finished" not in said
    assert "the restarted app never ran it again: a plain task lives in the memory of its process" in said


def test_crash_goes_alone(cli: CliRunner, in_checkout: Path) -> None:
    for other in ("--interrupt", "--compare", "--serve", "--predict"):
        result = cli.invoke(app, ["run", "quick_start", "--crash", other])
        assert result.exit_code == 2
        assert "--crash goes alone" in result.output


def test_a_task_that_ended_before_the_kill_is_not_called_lost() -> None:
    view = RequestView("lesson")
    view.apply(Event("request_sent", 100.0, "lesson", {"method": "POST", "path": "/x"}))
    view.apply(Event("task_started", 100.01, "lesson", {"name": "send"}))
    view.apply(Event("task_finished", 100.02, "lesson", {"name": "send", "duration": 0.01}))
    view.apply(Event("kill", 100.03, "lesson"))

    said = str(crash_takeaway(view))

    assert said.startswith("The tasks had ended before the kill landed")
