"""The exercise commands around the checker: the time limit, the working
folder (from inside it, read-only, backups), the current exercise, a pass
that lapses, hints again, and the reference solution."""

from __future__ import annotations

import errno
import json
import os
import pathlib
import re
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ravyn_tutorial.checking import run_check
from ravyn_tutorial.cli import app
from ravyn_tutorial.exercises import EXERCISES, solution_text
from ravyn_tutorial.progress import PROGRESS_FILE

FOLDER = Path("ravyn-exercises")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _put(workdir: Path, name: str, text: str) -> Path:
    path = workdir / FOLDER / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    return path


SLOW_SYNC = """
import time
from ravyn import Ravyn, post

@post("/cart/total")
def cart_total(prices: list[float]) -> dict[str, float]:
    time.sleep(60)
    return {"total": sum(prices)}

def add_up(prices: list[float]) -> float: ...
def audit_total(total: float) -> None: ...

app = Ravyn(routes=[cart_total])
"""


@pytest.mark.parametrize(
    "handler",
    [
        pytest.param(SLOW_SYNC, id="a blocking sync handler"),
        pytest.param(
            SLOW_SYNC.replace("def cart_total", "async def cart_total"),
            id="an async handler blocking the loop",
        ),
        pytest.param(
            SLOW_SYNC.replace("def cart_total", "async def cart_total").replace(
                "time.sleep(60)", "import anyio\n    await anyio.sleep(60)"
            ),
            id="an async handler waiting forever",
        ),
    ],
)
def test_an_app_slower_than_the_limit_gets_one_friendly_sentence(
    cli: CliRunner, workdir: Path, handler: str
) -> None:
    cli.invoke(app, ["start", "cart_total"])
    _put(workdir, "cart_total", handler)

    began = time.monotonic()
    result = cli.invoke(app, ["check", "cart_total", "--timeout", "2"])
    took = time.monotonic() - began

    assert result.exit_code == 1
    assert "your app was still busy after 2 s, so the check stopped it" in _flat(result.output)
    assert "Traceback" not in result.output
    assert "cancel scope" not in result.output
    assert len(result.output.splitlines()) < 12
    assert took < 30, "the limit landed"


def test_check_works_from_inside_the_working_folder(
    cli: CliRunner, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.invoke(app, ["start", "cart_total"])
    _put(workdir, "cart_total", solution_text(EXERCISES["cart_total"]))
    monkeypatch.chdir(workdir / FOLDER)

    result = cli.invoke(app, ["check", "cart_total"])

    assert result.exit_code == 0, result.output
    assert "Passed!" in result.output
    assert not (workdir / FOLDER / FOLDER).exists(), "no folder inside the folder"
    assert json.loads((workdir / FOLDER / PROGRESS_FILE).read_text())["exercises"]["cart_total"]["passed"]


def test_without_a_name_start_check_and_hint_mean_the_current_exercise(cli: CliRunner, workdir: Path) -> None:
    first = next(iter(EXERCISES))

    started = cli.invoke(app, ["start"])
    hinted = cli.invoke(app, ["hint"])
    checked = cli.invoke(app, ["check", "--timeout", "20"])

    assert (workdir / FOLDER / f"{first}.py").is_file()
    assert f"hint 1 of {len(EXERCISES[first].hints)} · {first}" in hinted.output
    assert f"check {first}" in checked.output
    assert started.exit_code == 0 and checked.exit_code == 1


def _read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write in this process fails as on a read-only file system (the
    tests run as root, for whom permission bits do not stop writes)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(pathlib.Path, "write_text", refuse)
    monkeypatch.setattr(pathlib.Path, "mkdir", refuse)
    monkeypatch.setattr(os, "replace", refuse)
    monkeypatch.setattr(shutil, "copy2", refuse)


def test_a_read_only_folder_gets_one_line_that_says_what_to_do(
    cli: CliRunner, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.invoke(app, ["start", "cart_total"])
    _read_only(monkeypatch)

    results = {command: cli.invoke(app, [command, "cart_total"]) for command in ("start", "hint", "check")}
    fresh = cli.invoke(app, ["start", "order_jobs"])

    for command, result in {**results, "start order_jobs": fresh}.items():
        assert "Traceback" not in result.output, command
        assert result.exception is None or isinstance(result.exception, SystemExit), command
    said = _flat(fresh.output)
    assert fresh.exit_code == 1
    assert (
        "Cannot write in ravyn-exercises (Read-only file system): run the tutorial from a folder "
        "you can write to, or pick one with --dir." in said
    )
    assert len(fresh.output.strip().splitlines()) <= 2
    assert "hint 1 of" in results["hint"].output
    assert "Your progress was not saved. Cannot write in" in _flat(results["hint"].output)
    assert "Your progress was not saved" in _flat(results["check"].output)


def test_a_pass_lapses_when_the_file_changes(cli: CliRunner, workdir: Path) -> None:
    cli.invoke(app, ["start", "cart_total"])
    learner_file = _put(workdir, "cart_total", solution_text(EXERCISES["cart_total"]))
    assert cli.invoke(app, ["check", "cart_total"]).exit_code == 0
    assert re.search(r"✔\s+cart_total", cli.invoke(app, ["exercises"]).output)

    learner_file.write_text(learner_file.read_text().replace('{"total": total}', "{}"))
    listed = cli.invoke(app, ["exercises"]).output

    assert re.search(r"\?\s+cart_total", listed)
    assert "changed since it passed" in _flat(listed)
    assert f"0 of {len(EXERCISES)} done" in listed
    assert cli.invoke(app, ["check", "cart_total"]).exit_code == 1
    progress = json.loads((workdir / FOLDER / PROGRESS_FILE).read_text())["exercises"]["cart_total"]
    assert "passed" not in progress


def test_hint_n_shows_a_hint_again_without_moving_on(cli: CliRunner, workdir: Path) -> None:
    hints = EXERCISES["order_jobs"].hints
    cli.invoke(app, ["hint", "order_jobs"])
    cli.invoke(app, ["hint", "order_jobs"])

    again = cli.invoke(app, ["hint", "order_jobs", "1"])
    seen = json.loads((workdir / FOLDER / PROGRESS_FILE).read_text())["exercises"]["order_jobs"]["hints"]
    following = cli.invoke(app, ["hint", "order_jobs", "3"])

    assert again.exit_code == 0
    assert f"hint 1 of {len(hints)}" in again.output
    assert hints[0].split()[0] in again.output
    assert seen == 2
    assert following.exit_code == 0, "the next one is fine"
    assert f"hint 3 of {len(hints)}" in following.output
    assert cli.invoke(app, ["hint", "slow_signup", "2"]).exit_code == 2, "not before hint 1"
    assert cli.invoke(app, ["hint", "order_jobs", "9"]).exit_code == 2


def test_the_solution_opens_after_a_pass_with_what_differs(cli: CliRunner, workdir: Path) -> None:
    cli.invoke(app, ["start", "cart_total"])
    closed = cli.invoke(app, ["solution", "cart_total"])
    assert closed.exit_code == 1
    assert "opens once your own version passes" in _flat(closed.output)

    mine = solution_text(EXERCISES["cart_total"]).replace(
        "    total = add_up(prices)\n", "    total = add_up(prices)  # my way\n"
    )
    _put(workdir, "cart_total", mine)
    assert cli.invoke(app, ["check", "cart_total"]).exit_code == 0
    shown = cli.invoke(app, ["solution", "cart_total"])

    assert shown.exit_code == 0
    assert "def cart_total(prices: list[float])" in shown.output
    assert "-    total = add_up(prices)  # my way" in shown.output
    assert "+    total = add_up(prices)" in shown.output


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_first_failure_does_not_give_the_last_hint_away(workdir: Path, name: str) -> None:
    from ravyn_tutorial.exercises import template_text

    exercise = EXERCISES[name]
    path = workdir / f"{name}.py"
    path.write_text(template_text(exercise))

    report = run_check(exercise, path, seed=7)

    said = " ".join(f.text for f in report.findings if not f.ok)
    assert said, "the broken app fails"
    code = [fragment for fragment in re.findall(r"`([^`]+)`", exercise.hints[-1]) if len(fragment) > 6]
    assert code, "the last hint shows code"
    for fragment in code:
        assert fragment not in said


def test_hint_with_only_a_number_means_that_hint_of_the_current_exercise(
    cli: CliRunner, workdir: Path
) -> None:
    current = next(iter(EXERCISES.values()))
    cli.invoke(app, ["hint"])

    again = cli.invoke(app, ["hint", "1"])
    too_far = cli.invoke(app, ["hint", "3"])

    assert again.exit_code == 0, again.output
    assert f"hint 1 of {len(current.hints)} · {current.name}" in again.output
    assert too_far.exit_code == 2
    assert "they come in order" in _flat(too_far.output)


def test_check_all_checks_every_started_exercise_one_line_each(cli: CliRunner, workdir: Path) -> None:
    cli.invoke(app, ["start", "slow_signup"])
    cli.invoke(app, ["start", "cart_total"])
    _put(workdir, "cart_total", solution_text(EXERCISES["cart_total"]))

    result = cli.invoke(app, ["check", "--all"])

    said = _flat(result.output)
    assert result.exit_code == 1, "one of them fails"
    assert "✔ cart_total passed" in said
    assert "✘ slow_signup send_welcome_email ran in the handler, before the response" in said
    assert f"1 of 2 checked passed; {len(EXERCISES) - 2} not started yet." in said
    assert "Traceback" not in result.output


def test_check_all_in_an_empty_folder_and_with_a_name_says_what_to_do(cli: CliRunner, workdir: Path) -> None:
    empty = cli.invoke(app, ["check", "--all"])
    both = cli.invoke(app, ["check", "slow_signup", "--all"])

    assert empty.exit_code == 1
    assert "There is no exercise in ravyn-exercises yet" in _flat(empty.output)
    assert both.exit_code == 2
    assert "Either name an exercise or give --all, not both" in _flat(both.output)


def test_the_solution_diff_shows_code_not_the_docstrings(cli: CliRunner, workdir: Path) -> None:
    cli.invoke(app, ["start", "slow_signup"])
    template = (workdir / FOLDER / "slow_signup.py").read_text()
    docstring_end = template.index('"""', 3) + 3
    fixed = template[:docstring_end] + solution_text(EXERCISES["slow_signup"]).split('"""', 2)[2]
    _put(workdir, "slow_signup", fixed.replace("    time.sleep(0.5)\n", "    time.sleep(0.5)  # slow\n"))
    assert cli.invoke(app, ["check", "slow_signup"]).exit_code == 0

    shown = cli.invoke(app, ["solution", "slow_signup"])

    diff = shown.output[shown.output.index("does differently") :]
    assert "-    time.sleep(0.5)  # slow" in diff
    assert "Check your work" not in diff, "the exercise's docstring is left out"
    assert "A solution of the slow_signup exercise" not in diff
    assert len([line for line in diff.splitlines() if line.startswith(("-", "+"))]) <= 4


@pytest.mark.parametrize(
    ("option", "says"),
    [
        (["--port", "99999"], "Invalid value for '--port'"),
        (["--port", "-1"], "Invalid value for '--port'"),
        (["--svg", "no/such/folder/picture.svg"], "the folder no/such/folder does not exist"),
    ],
)
def test_a_bad_port_or_svg_path_gets_one_message_not_a_traceback(
    cli: CliRunner, in_checkout: Path, option: list[str], says: str
) -> None:
    result = cli.invoke(app, ["run", "quick_start", *option])

    assert result.exit_code == 2
    assert says in _flat(result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
