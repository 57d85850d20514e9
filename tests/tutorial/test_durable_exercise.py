"""The lost_invoice exercise: its check crashes a real server, and what it says when that cannot be done."""

from __future__ import annotations

import ast
import subprocess
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from ravyn_tutorial.checking import Cancelled, check_isolated, run_check
from ravyn_tutorial.exercises import EXERCISES, solution_text
from ravyn_tutorial.exercises.base import Lab
from ravyn_tutorial.exercises.lost_invoice import _verdict
from ravyn_tutorial.exercises.restart import Crash, Reply, _why

EXERCISE = EXERCISES["lost_invoice"]
FIRST = {"order_id": 4711, "email": "ada123@example.com"}
SECOND = {"order_id": 4712, "email": "alan456@example.org"}
PLACED = Reply(201, {"order_id": 4711, "status": "placed"})
JOURNAL_LINE = 'app = Ravyn(routes=[place_order], task_journal="invoices.sqlite3")'


def _failures(crash: Crash) -> str:
    # the verdict reads the code only to explain a failure: the reference solution's code
    lab = SimpleNamespace(tree=ast.parse(solution_text(EXERCISE)))
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

    said = _failures(crash)

    assert "was sent 2 times: 0 by the server before it was killed, 2 after the restart" in said
    assert "The restarted app ran it more than once" in said
    assert "handler still call" not in said


def test_an_invoice_missing_after_the_restart_for_a_request_not_killed_is_refused() -> None:
    crash = Crash(PLACED, Reply(201, {}), after_restart=["invoice for order 4711 sent to ada123@example.com"])

    said = _failures(crash)

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


def _servers_of(target: str) -> int:
    # -ww: unlimited width (piped, ps cuts lines at 80 columns, and a venv's long path pushes the app off)
    listing = subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return sum(target in line for line in listing.splitlines())


def test_a_check_called_off_while_its_server_runs_leaves_no_server_behind(tmp_path: Path) -> None:
    module = f"lost_invoice_called_off_{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{module}.py"
    path.write_text(solution_text(EXERCISE), encoding="utf-8")
    cancel = threading.Event()
    outcome: list[Any] = []

    def check() -> None:
        try:
            # a long limit: this test is about calling the check off, not about a slow machine's time
            outcome.append(check_isolated(EXERCISE, path, seed=8, cancel=cancel, timeout=120))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=check)
    worker.start()
    deadline = time.monotonic() + 60  # a busy CI machine, a fresh venv compiling every import
    while _servers_of(f"{module}:app") == 0 and time.monotonic() < deadline and worker.is_alive():
        time.sleep(0.05)
    seen = _servers_of(f"{module}:app")
    cancel.set()
    worker.join(30)

    assert seen >= 1, f"the check's uvicorn was never seen running (the check ended with {outcome!r})"
    assert [type(exc) for exc in outcome] == [Cancelled]
    gone = time.monotonic() + 10
    while _servers_of(f"{module}:app") and time.monotonic() < gone:
        time.sleep(0.05)
    assert _servers_of(f"{module}:app") == 0
