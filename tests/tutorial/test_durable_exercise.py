"""The lost_invoice exercise: its check crashes a real server, and what it says when that cannot be done."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from ravyn_tutorial.checking import run_check
from ravyn_tutorial.exercises import EXERCISES, solution_text
from ravyn_tutorial.exercises.base import Lab
from ravyn_tutorial.exercises.crash import Crash, Reply, _why
from ravyn_tutorial.exercises.lost_invoice import _verdict

EXERCISE = EXERCISES["lost_invoice"]
FIRST = {"order_id": 4711, "email": "ada123@example.com"}
SECOND = {"order_id": 4712, "email": "alan456@example.org"}
PLACED = Reply(201, {"order_id": 4711, "status": "placed"})
JOURNAL_LINE = 'app = Ravyn(routes=[place_order], task_journal="invoices.sqlite3")'


def _failures(lab: Lab | None, crash: Crash) -> str:
    findings = _verdict(cast(Lab, lab), crash, FIRST, SECOND)
    return " ".join(finding.text for finding in findings if not finding.ok)


def test_the_check_leaves_no_journal_in_the_learners_folder(tmp_path: Path) -> None:
    path = tmp_path / "lost_invoice.py"
    path.write_text(solution_text(EXERCISE), encoding="utf-8")

    report = run_check(EXERCISE, path, seed=5)

    assert report.passed, [f.text for f in report.findings if not f.ok]
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["lost_invoice.py"]


def test_a_file_whose_name_is_no_module_name_is_served_from_a_copy_and_passes(tmp_path: Path) -> None:
    path = tmp_path / "my invoice (v2).py"
    path.write_text(solution_text(EXERCISE), encoding="utf-8")

    report = run_check(EXERCISE, path, seed=6)

    assert report.passed, [f.text for f in report.findings if not f.ok]


def test_an_app_whose_startup_fails_under_uvicorn_is_told_with_its_own_error(tmp_path: Path) -> None:
    source = solution_text(EXERCISE).replace(
        JOURNAL_LINE,
        "def connect_mail_server() -> None:\n"
        '    raise ConnectionError("no mail server at smtp.invalid")\n\n\n'
        + JOURNAL_LINE.replace(")", ", on_startup=[connect_mail_server])"),
    )
    path = tmp_path / "lost_invoice.py"
    path.write_text(source, encoding="utf-8")

    report = run_check(EXERCISE, path, seed=7)

    said = " ".join(f.text for f in report.findings if not f.ok)
    assert not report.passed
    assert "uvicorn exited before it was ready (ConnectionError: no mail server at smtp.invalid)" in said


def test_an_invoice_sent_twice_by_the_restarted_app_alone_is_refused_as_twice() -> None:
    crash = Crash(
        PLACED,
        Reply(201, {}),
        after_restart=[
            "invoice for order 4711 sent to ada123@example.com",
            "invoice for order 4711 sent to ada123@example.com",
            "invoice for order 4712 sent to alan456@example.org",
        ],
    )

    said = _failures(None, crash)

    assert "was sent 2 times: 0 by the server before it was killed, 2 after the restart" in said
    assert "The restarted app ran it more than once" in said
    assert "handler still call" not in said


def test_an_invoice_missing_after_the_restart_for_a_request_not_killed_is_refused() -> None:
    crash = Crash(PLACED, Reply(201, {}), after_restart=["invoice for order 4711 sent to ada123@example.com"])

    said = _failures(None, crash)

    assert (
        "the invoice for order 4712 was sent 0 times; a server that is not killed must send it once" in said
    )


def test_a_server_that_never_answers_is_told_as_a_hang_not_as_a_failure_to_start() -> None:
    said = _why(TimeoutError("timed out"), "/orders")

    assert said.startswith("the server did not answer POST /orders within")
    assert "does the handler wait for something?" in said


def test_a_server_that_never_listens_is_told_so() -> None:
    said = _why(TimeoutError("uvicorn did not listen on port 5 in 8.0s"), "/orders")

    assert said == "uvicorn did not listen on port 5 in 8.0s"
