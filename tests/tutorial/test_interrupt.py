"""`run LESSON --interrupt`: the server gets SIGINT while a task runs, and
the timeline shows the drain letting the task finish before the server ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ravyn_tutorial.cli import app
from ravyn_tutorial.interrupt import interrupt_takeaway
from ravyn_tutorial.lessons import load_lessons
from ravyn_tutorial.timeline import Event, RequestView

from .conftest import ROOT

LESSONS = load_lessons(ROOT)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_ctrl_c_during_a_task_lets_it_finish_before_the_server_ends(
    cli: CliRunner, in_checkout: Path
) -> None:
    result = cli.invoke(app, ["run", "quick_start", "--interrupt"])

    said = _flat(result.output)
    assert result.exit_code == 0, result.output
    # the order as recorded: the signal, the task's end, then the process's end
    signal = said.index("^C SIGINT sent to the server")
    finished = said.index("✔ send_welcome_email finished")
    ended = said.index("the server process has ended")
    assert said.index("▶ send_welcome_email started") < signal < finished < ended
    assert "Waiting up to" in said, "the drain says what it waits for"
    assert "Ctrl-C reached the server while send_welcome_email was running" in said
    assert "Traceback" not in result.output


def test_interrupt_goes_alone(cli: CliRunner, in_checkout: Path) -> None:
    for other in ("--compare", "--serve", "--predict"):
        result = cli.invoke(app, ["run", "quick_start", "--interrupt", other])
        assert result.exit_code == 2
        assert "--interrupt goes alone" in result.output


def test_a_lesson_without_a_task_has_nothing_to_interrupt(cli: CliRunner, in_checkout: Path) -> None:
    name = next((name for name, lesson in LESSONS.items() if not lesson.example.tasks), None)
    if name is None:
        pytest.skip("every lesson has a task")

    result = cli.invoke(app, ["run", name, "--interrupt"])

    assert result.exit_code == 1
    assert "has no background task to interrupt" in _flat(result.output)


def _view(*events: tuple[str, float, dict[str, object]]) -> RequestView:
    view = RequestView("lesson")
    view.apply(Event("request_sent", 100.0, "lesson", {"method": "POST", "path": "/x"}))
    for kind, t, fields in events:
        view.apply(Event(kind, 100.0 + t, "lesson", fields))
    return view


def test_the_takeaway_reads_a_lost_task_and_tasks_already_done() -> None:
    lost = _view(
        ("task_started", 0.01, {"name": "slow"}),
        ("interrupt", 0.02, {}),
        ("task_lost", 30.5, {"name": "slow"}),
        ("server_stopped", 31.0, {}),
    )
    done = _view(
        ("task_started", 0.01, {"name": "quick"}),
        ("task_finished", 0.02, {"name": "quick", "duration": 0.01}),
        ("interrupt", 0.03, {}),
        ("server_stopped", 0.5, {}),
    )

    assert "then cancelled it (slow lost at shutdown)" in interrupt_takeaway(lost, True).plain
    assert interrupt_takeaway(done, True).plain.startswith("The tasks had ended before the signal arrived")
    assert "still up" in interrupt_takeaway(done, False).plain
