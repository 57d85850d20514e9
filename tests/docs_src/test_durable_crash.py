"""The durable example under a real uvicorn: killed with SIGKILL after its 201,
while the invoice is being sent, the server started again sends it."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

from docs_src.catalogue import EXAMPLES
from tests.docs_src.servers import serve_example
from tests.docs_src.test_real_server import post_catalogue_request


def test_a_durable_task_killed_mid_run_runs_when_the_server_starts_again(tmp_path: Path) -> None:
    example = EXAMPLES["durable_tasks"]
    journal = tmp_path / "tasks.sqlite3"
    with serve_example("durable_tasks", env={"TASK_JOURNAL_DIR": str(tmp_path), "INVOICE_SECONDS": "60"}) as (
        base,
        output,
    ):
        response = post_catalogue_request(base, "durable_tasks")
        assert (response.status_code, response.json()) == (example.status, example.body)
        with sqlite3.connect(journal) as connection:  # committed before the 201 reached us
            assert connection.execute("SELECT name, state FROM tasks").fetchall() == [
                ("send_invoice(42, 'ada@example.com')", "running")
            ]
        process = output.server.process
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert output.matching("Invoice for order 42") == []
    with serve_example(
        "durable_tasks", env={"TASK_JOURNAL_DIR": str(tmp_path), "INVOICE_SECONDS": "0.1"}
    ) as (
        _,
        output,
    ):
        output.wait_for(example.effects[0])
        assert output.matching(
            "Running durable task send_invoice(42, 'ada@example.com') (#1) again: attempt 2"
        )
    with sqlite3.connect(journal) as connection:
        assert connection.execute("SELECT state, attempts FROM tasks").fetchall() == [("done", 2)]
