"""`list` and `run`: every lesson of the catalogue, under a real uvicorn."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ravyn_tutorial.cli import app
from ravyn_tutorial.lessons import load_lessons

from .conftest import ROOT

LESSONS = load_lessons(ROOT)


def test_list_shows_every_lesson_in_the_catalogues_order(cli: CliRunner, in_checkout: Path) -> None:
    result = cli.invoke(app, ["list"])

    assert result.exit_code == 0, result.output
    positions = [result.output.index(f" {name} ") for name in LESSONS]
    assert positions == sorted(positions)
    for lesson in LESSONS.values():
        assert lesson.title.split()[0] in result.output
    assert "docs_src/background_tasks/<lesson>.py" in result.output


@pytest.mark.parametrize(
    "name",
    [name for name in LESSONS],
)
def test_run_draws_the_lessons_timeline(cli: CliRunner, in_checkout: Path, name: str) -> None:
    lesson = LESSONS[name]
    example = lesson.example

    result = cli.invoke(app, ["run", name])

    output = result.output
    assert result.exit_code == 0, output
    assert f"{example.method} {example.path}" in output
    assert f"← {example.status} " in output, "the client's response, with its status"
    for task in example.tasks:
        ending = "failed" if task in lesson.failing else "finished"
        assert re.search(rf"[✔✘] {task} {ending}", output), f"{task} did not {ending}:\n{output}"
    assert "Takeaway:" in output
    assert "Traceback" not in output
    assert max(len(line) for line in output.splitlines()) <= 80
    assert "for another -" not in output
    if name.startswith("pitfall_") and name.endswith("_wrong"):
        lines = [line for line in output.splitlines() if line.strip()]
        assert "What went wrong:" in output
        assert lines[-1].startswith("The fix: ravyn-tutorial run "), "a pitfall ends on what went wrong"


def _times(output: str, label: str) -> tuple[float, float]:
    row = next(line for line in output.splitlines() if line.startswith(label))
    values = re.findall(r"([\d.]+) (ms|s)\b", row)
    inline, background = (float(n) / (1000 if unit == "ms" else 1) for n, unit in values)
    return inline, background


def test_compare_shows_the_same_work_inline_and_in_the_background(cli: CliRunner, in_checkout: Path) -> None:
    result = cli.invoke(app, ["run", "quick_start", "--compare"])

    assert result.exit_code == 0, result.output
    assert "inline: the client waits" in result.output
    assert "as a background task" in result.output
    inline, background = _times(result.output, "client had its response after")
    inline_work, background_work = _times(result.output, "the work was done after")
    assert inline >= inline_work * 0.95, "inline, the response waits for the work"
    assert background < background_work, "in the background, the response comes first"
    assert background < inline
    assert "Same work both times" in result.output  # "n times sooner" depends on the load


def test_compare_of_a_lesson_with_several_tasks(cli: CliRunner, in_checkout: Path) -> None:
    result = cli.invoke(app, ["run", "registration_flow", "--compare"])

    assert result.exit_code == 0, result.output
    inline, background = _times(result.output, "client had its response after")
    assert background < inline


def test_an_unknown_lesson_lists_the_lessons(cli: CliRunner, in_checkout: Path) -> None:
    result = cli.invoke(app, ["run", "quick_strat"])

    assert result.exit_code == 2
    assert "There is no lesson called 'quick_strat'. Did you mean quick_start?" in result.output
    for name in LESSONS:
        assert name in result.output.replace("\n", " ")


def test_outside_a_checkout_it_says_where_to_run_from(cli: CliRunner, workdir: Path) -> None:
    result = cli.invoke(app, ["list"])

    assert result.exit_code == 1
    assert "root of a checkout" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_a_busy_port_is_swapped_for_a_free_one(cli: CliRunner, in_checkout: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = cli.invoke(app, ["run", "decorator_single_task", "--port", str(port)])

    assert result.exit_code == 0, result.output
    assert f"port {port} was in use: using" in result.output
    assert "Takeaway:" in result.output


def test_compare_and_serve_do_not_go_together(cli: CliRunner, in_checkout: Path) -> None:
    result = cli.invoke(app, ["run", "quick_start", "--compare", "--serve"])

    assert result.exit_code == 2


def test_svg_saves_what_was_drawn(cli: CliRunner, in_checkout: Path, tmp_path: Path) -> None:
    picture = tmp_path / "run.svg"

    result = cli.invoke(app, ["run", "decorator_single_task", "--svg", str(picture)])

    assert result.exit_code == 0, result.output
    svg = picture.read_text()
    assert svg.startswith("<svg")
    text = svg.replace("&#160;", " ")
    assert "ravyn-tutorial run decorator_single_task" in text
    assert text.count("Takeaway") == 1, "the final drawing, once, not every frame"
    assert text.count("record_audit_entry started") == 1


def test_without_a_command_it_says_where_to_begin(cli: CliRunner, in_checkout: Path) -> None:
    result = cli.invoke(app, [])

    assert result.exit_code == 0
    assert "ravyn-tutorial run quick_start" in result.output
    assert "ravyn-tutorial watch" in result.output


def test_compare_shows_the_500_a_handler_calling_the_failing_task_would_answer(
    cli: CliRunner, in_checkout: Path
) -> None:
    result = cli.invoke(app, ["run", "pitfall_silent_error_wrong", "--compare"])

    assert result.exit_code == 0, result.output
    status = next(line for line in result.output.splitlines() if line.startswith("status"))
    assert status.split()[1:] == ["500", "202"]
    assert "← 500 in" in result.output
    assert "issue_refund failing fails the request" in " ".join(result.output.split())
