"""`exercises`, `start`, `check` and `hint`: each exercise fails as shipped and passes once fixed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ravyn_tutorial.cli import app
from ravyn_tutorial.exercises import EXERCISES
from ravyn_tutorial.progress import PROGRESS_FILE

from .conftest import SOLUTIONS

FOLDER = Path("ravyn-exercises")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _progress(workdir: Path) -> dict[str, dict[str, object]]:
    data = json.loads((workdir / FOLDER / PROGRESS_FILE).read_text())
    exercises: dict[str, dict[str, object]] = data["exercises"]
    return exercises


def test_there_is_a_solution_for_every_exercise() -> None:
    assert len(EXERCISES) >= 5
    assert {path.stem for path in SOLUTIONS.glob("*.py")} - {"__init__"} == set(EXERCISES)


@pytest.mark.parametrize("name", list(EXERCISES))
def test_start_then_check_fails_then_a_fix_passes(cli: CliRunner, workdir: Path, name: str) -> None:
    started = cli.invoke(app, ["start", name])
    assert started.exit_code == 0, started.output
    learner_file = workdir / FOLDER / f"{name}.py"
    assert learner_file.is_file()

    broken = cli.invoke(app, ["check", name])
    assert broken.exit_code == 1, broken.output
    assert "✘" in broken.output
    assert "Not there yet" in broken.output
    assert "Traceback" not in broken.output
    assert _progress(workdir)[name].get("passed") is None

    shutil.copy(SOLUTIONS / f"{name}.py", learner_file)
    fixed = cli.invoke(app, ["check", name])
    assert fixed.exit_code == 0, fixed.output
    assert "✘" not in fixed.output
    assert "Passed!" in fixed.output
    assert _progress(workdir)[name]["passed"]
    assert _progress(workdir)[name]["checks"] == 2


def test_the_broken_apps_say_what_is_wrong_in_plain_words(cli: CliRunner, workdir: Path) -> None:
    expected = {
        "slow_signup": "send_welcome_email ran in the handler, before the response",
        "order_jobs": "None of the three jobs ran",
        "thumbnails": "the server was frozen for",
        "loyalty_points": "the task logged nothing at WARNING or above",
        "visit_log": "record_visit is handed the whole Request",
        "cart_total": "a background task cannot answer the client",
    }
    for name, words in expected.items():
        cli.invoke(app, ["start", name])
        result = cli.invoke(app, ["check", name])
        assert words in _flat(result.output), result.output


def test_start_never_overwrites_the_learners_edits(cli: CliRunner, workdir: Path) -> None:
    cli.invoke(app, ["start", "slow_signup"])
    learner_file = workdir / FOLDER / "slow_signup.py"
    learner_file.write_text("# my own work\n")

    again = cli.invoke(app, ["start", "slow_signup"])

    assert again.exit_code == 0
    assert "keeping your version" in again.output
    assert "reset slow_signup" in again.output
    assert learner_file.read_text() == "# my own work\n"


def test_every_fresh_start_and_reset_keeps_its_own_numbered_backup(cli: CliRunner, workdir: Path) -> None:
    cli.invoke(app, ["start", "slow_signup"])
    learner_file = workdir / FOLDER / "slow_signup.py"
    versions = ["# a passing solution\n", "# a second try\n", "# a third try\n"]
    commands = [
        ["start", "slow_signup", "--fresh"],
        ["reset", "slow_signup"],
        ["start", "slow_signup", "--fresh"],
    ]

    for number, (version, command) in enumerate(zip(versions, commands, strict=True), 1):
        learner_file.write_text(version)
        result = cli.invoke(app, command)
        assert result.exit_code == 0, result.output
        assert f"slow_signup.py.{number}.bak" in _flat(result.output)

    for number, version in enumerate(versions, 1):
        assert (workdir / FOLDER / f"slow_signup.py.{number}.bak").read_text() == version
    assert "send_welcome_email" in learner_file.read_text()


def test_hints_come_one_at_a_time_and_are_remembered(cli: CliRunner, workdir: Path) -> None:
    hints = EXERCISES["order_jobs"].hints
    seen = [cli.invoke(app, ["hint", "order_jobs"]).output for _ in range(len(hints) + 1)]

    for number, output in enumerate(seen[: len(hints)], 1):
        assert f"hint {number} of {len(hints)}" in output
        assert hints[number - 1].split()[0] in output
    assert f"hint {len(hints)} of {len(hints)}" in seen[-1], "after the last, the last again"
    assert "last hint" in seen[-1]
    assert _progress(workdir)["order_jobs"]["hints"] == len(hints)


def test_exercises_lists_progress(cli: CliRunner, workdir: Path) -> None:
    cli.invoke(app, ["start", "cart_total"])
    shutil.copy(SOLUTIONS / "cart_total.py", workdir / FOLDER / "cart_total.py")
    cli.invoke(app, ["check", "cart_total"])
    cli.invoke(app, ["start", "slow_signup"])

    result = cli.invoke(app, ["exercises"])

    assert result.exit_code == 0
    lines = {line.split()[1]: line.split()[0] for line in result.output.splitlines() if line.split()[1:2]}
    assert lines["cart_total"] == "✔"
    assert lines["slow_signup"] == "…"
    assert lines["order_jobs"] == "·"
    assert f"1 of {len(EXERCISES)} done" in result.output


def test_another_working_folder(cli: CliRunner, workdir: Path) -> None:
    result = cli.invoke(app, ["start", "visit_log", "--dir", "elsewhere"])

    assert result.exit_code == 0
    assert (workdir / "elsewhere" / "visit_log.py").is_file()
    assert "check visit_log --dir elsewhere" in result.output


def test_an_unknown_exercise_lists_the_exercises(cli: CliRunner, workdir: Path) -> None:
    for command in ("start", "check", "hint"):
        result = cli.invoke(app, [command, "slow_sign_up"])
        assert result.exit_code == 2
        assert "There is no exercise called 'slow_sign_up'. Did you mean slow_signup?" in result.output
        for name in EXERCISES:
            assert name in result.output


def test_check_before_start_says_how_to_start(cli: CliRunner, workdir: Path) -> None:
    result = cli.invoke(app, ["check", "thumbnails"])

    assert result.exit_code == 1
    assert "ravyn-tutorial start thumbnails" in result.output


def _edit(workdir: Path, name: str, old: str, new: str) -> None:
    path = workdir / FOLDER / f"{name}.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _line_of(workdir: Path, name: str, fragment: str) -> int:
    lines = (workdir / FOLDER / f"{name}.py").read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if fragment in line)


def test_a_syntax_error_is_shown_at_its_line(cli: CliRunner, workdir: Path) -> None:
    cli.invoke(app, ["start", "slow_signup"])
    _edit(workdir, "slow_signup", "def signup(email: str) -> dict[str, str]:", "def signup(email: str)")
    line = _line_of(workdir, "slow_signup", "def signup(")

    result = cli.invoke(app, ["check", "slow_signup"])

    assert result.exit_code == 1
    assert "SyntaxError" in result.output
    assert f"line {line}" in result.output
    assert "def signup(email: str)" in result.output
    assert "Traceback" not in result.output


def test_an_import_error_is_shown_at_its_line(cli: CliRunner, workdir: Path) -> None:
    cli.invoke(app, ["start", "order_jobs"])
    _edit(workdir, "order_jobs", "from ravyn import BackgroundTasks,", "from ravyn import BackgroundTask5,")
    line = _line_of(workdir, "order_jobs", "BackgroundTask5")

    result = cli.invoke(app, ["check", "order_jobs"])

    assert result.exit_code == 1
    assert "ImportError: cannot import name 'BackgroundTask5'" in _flat(result.output)
    assert f"line {line}" in result.output
    assert "Traceback" not in result.output


def test_an_error_in_the_handler_is_shown_at_its_line(cli: CliRunner, workdir: Path) -> None:
    cli.invoke(app, ["start", "slow_signup"])
    _edit(workdir, "slow_signup", "    send_welcome_email(email)", "    send_welcome_email(emial)")
    line = _line_of(workdir, "slow_signup", "emial")

    result = cli.invoke(app, ["check", "slow_signup"])

    assert result.exit_code == 1
    assert "answering POST /signup" in result.output
    assert "NameError: name 'emial' is not defined" in result.output
    assert f"line {line}" in result.output
    assert "Traceback" not in result.output


def test_a_file_without_app_is_explained(cli: CliRunner, workdir: Path) -> None:
    cli.invoke(app, ["start", "cart_total"])
    _edit(workdir, "cart_total", "app = Ravyn()\napp.add_route(cart_total)", "api = Ravyn()")

    result = cli.invoke(app, ["check", "cart_total"])

    assert result.exit_code == 1
    assert "there is no `app` in this file" in result.output


def test_a_check_leaves_logging_and_modules_as_they_were(cli: CliRunner, workdir: Path) -> None:
    import logging
    import sys

    from ravyn_tutorial.checking import run_check

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    cli.invoke(app, ["start", "loyalty_points"])
    run_check(EXERCISES["loyalty_points"], workdir / FOLDER / "loyalty_points.py", seed=3)

    assert root.handlers == handlers
    assert root.level == level
    assert not [name for name in sys.modules if name.startswith("ravyn_tutorial_exercise_")]


def test_each_exercise_points_at_lessons_that_exist() -> None:
    from ravyn_tutorial.lessons import load_lessons

    from .conftest import ROOT

    lessons = load_lessons(ROOT)
    for exercise in EXERCISES.values():
        named = [name.strip() for name in exercise.covers.split(",")]
        assert named and all(name in lessons for name in named), exercise.name


def test_check_can_show_the_recorded_timeline(cli: CliRunner, workdir: Path) -> None:
    cli.invoke(app, ["start", "order_jobs"])
    shutil.copy(SOLUTIONS / "order_jobs.py", workdir / FOLDER / "order_jobs.py")

    result = cli.invoke(app, ["check", "order_jobs", "--timeline"])

    assert result.exit_code == 0, result.output
    assert "response_complete" in result.output
    assert "task_started       reserve_stock" in result.output
