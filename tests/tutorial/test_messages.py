"""The checker's messages are true: a hang while loading the file is called
that, a `sys.exit` in the learner's code is blamed on it (at its line), and
a failure of the check itself is never blamed on the learner."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from ravyn_tutorial import checking
from ravyn_tutorial.checking import Report, check_isolated, run_check
from ravyn_tutorial.cli import app
from ravyn_tutorial.exercises import EXERCISES, Lab, solution_text, template_text
from ravyn_tutorial.views import show_report

FOLDER = Path("ravyn-exercises")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "at_import",
    [
        pytest.param("import uvicorn\nuvicorn.run(app, host='127.0.0.1', port=0)\n", id="a server"),
        pytest.param("while True:\n    pass\n", id="an endless loop"),
    ],
)
def test_a_hang_while_loading_the_file_is_reported_as_such(
    cli: CliRunner, workdir: Path, at_import: str
) -> None:
    cli.invoke(app, ["start", "slow_signup"])
    source = solution_text(EXERCISES["slow_signup"]) + at_import
    (workdir / FOLDER / "slow_signup.py").write_text(source, encoding="utf-8")

    result = cli.invoke(app, ["check", "slow_signup", "--timeout", "4"])

    said = _flat(result.output)
    assert result.exit_code == 1
    assert "loading your file did not finish in 4 s" in said
    assert "start a server or a loop at import" in said
    assert "still busy" not in said
    assert "Traceback" not in result.output


def test_sys_exit_in_a_handler_is_blamed_on_the_learners_line(tmp_path: Path) -> None:
    source = solution_text(EXERCISES["slow_signup"]).replace(
        "    tasks.add_task(send_welcome_email, email)\n",
        "    import sys\n    sys.exit(3)\n",
    )
    path = _write(tmp_path, "slow_signup", source)

    report = run_check(EXERCISES["slow_signup"], path, seed=1)

    assert report.error is not None
    assert not report.internal
    assert "your file ended the process (SystemExit: 3)" in report.error.summary
    assert report.error.source.strip() == "sys.exit(3)"


def test_os_exit_at_import_is_reported_while_loading(tmp_path: Path) -> None:
    source = "import os\nos._exit(4)\n"
    path = _write(tmp_path, "slow_signup", source)

    report = check_isolated(EXERCISES["slow_signup"], path, seed=1, timeout=30)

    assert report.error is not None
    assert report.error.when == "loading it"
    assert "exit code 4" in report.error.summary
    assert "os._exit" in report.error.summary


async def _a_check_with_a_bug(lab: Lab) -> list[checking.Finding]:
    await lab.request("POST", "/signup", json={"email": "ada@example.com"})
    return [checking.Finding(True, "unreachable")] if {}["missing"] else []


@pytest.fixture
def buggy(monkeypatch: pytest.MonkeyPatch) -> str:
    """An exercise whose own check raises a KeyError (a bug of ours)."""
    exercise = dataclasses.replace(EXERCISES["slow_signup"], name="buggy", check=_a_check_with_a_bug)
    monkeypatch.setitem(EXERCISES, "buggy", exercise)
    return "buggy"


def test_a_failure_of_the_check_itself_is_not_blamed_on_the_learner(tmp_path: Path, buggy: str) -> None:
    path = _write(tmp_path, "slow_signup", solution_text(EXERCISES["slow_signup"]))

    report = run_check(EXERCISES[buggy], path, seed=1)

    assert report.error is None
    assert report.internal == "KeyError: 'missing'"
    assert not report.passed
    screen = Console(file=io.StringIO(), width=100)
    show_report(screen, report)
    shown = _flat(screen.file.getvalue())  # type: ignore[attr-defined]
    assert "The check itself failed; this is not a problem in your file." in shown
    assert "sys.exit" not in shown
    assert "Your file has a problem" not in shown


def test_the_check_process_reports_what_escaped_it_instead_of_dying(
    tmp_path: Path, buggy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, "slow_signup", solution_text(EXERCISES["slow_signup"]))
    out = tmp_path / "report.json"

    def explode(*args: object, **kwargs: object) -> Report:
        raise RuntimeError("the checker broke")

    monkeypatch.setattr(checking, "run_check", explode)

    assert checking.main([buggy, str(path), "1", str(out)]) == 0
    report = Report.from_json(out.read_text(encoding="utf-8"))
    assert report.internal == "RuntimeError: the checker broke"
    assert report.error is None


def test_a_handlers_warning_is_not_taken_for_the_tasks_and_the_levels_do_not_contradict(
    tmp_path: Path,
) -> None:
    source = template_text(EXERCISES["loyalty_points"])
    source = source.replace(
        "    tasks.add_task(add_loyalty_points, customer, amount)\n",
        "    if customer not in POINTS:\n"
        '        logger.warning("no loyalty account for %s", customer)\n'
        "    tasks.add_task(add_loyalty_points, customer, amount)\n",
    ).replace(
        "    except Exception:\n        pass\n", '    except Exception:\n        logger.info("no points")\n'
    )
    path = _write(tmp_path, "loyalty_points", source)

    report = run_check(EXERCISES["loyalty_points"], path, seed=3)

    said = " ".join(f.text for f in report.findings if not f.ok)
    assert not report.passed
    assert "it logged the failure at INFO only ('no points')" in said
    assert "A warning was logged outside the task ('no loyalty account for" in said
    assert "below WARNING" not in said


def test_a_keyboard_interrupt_raised_by_the_learners_handler_is_theirs_not_the_checks(tmp_path: Path) -> None:
    source = solution_text(EXERCISES["slow_signup"]).replace(
        "    tasks.add_task(send_welcome_email, email)\n", "    raise KeyboardInterrupt\n"
    )
    path = _write(tmp_path, "slow_signup", source)

    report = check_isolated(EXERCISES["slow_signup"], path, seed=1, timeout=30)

    assert not report.internal
    assert report.error is not None
    assert report.error.summary == "KeyboardInterrupt"
    assert report.error.source.strip() == "raise KeyboardInterrupt"


def test_a_process_killed_while_answering_is_reported_while_checking(tmp_path: Path) -> None:
    source = solution_text(EXERCISES["slow_signup"]).replace(
        "    tasks.add_task(send_welcome_email, email)\n",
        "    import os\n    import signal\n\n    os.kill(os.getpid(), signal.SIGKILL)\n",
    )
    path = _write(tmp_path, "slow_signup", source)

    report = check_isolated(EXERCISES["slow_signup"], path, seed=1, timeout=30)

    assert report.error is not None
    assert report.error.when == "checking it"
    assert "killed by the signal SIGKILL" in report.error.summary
