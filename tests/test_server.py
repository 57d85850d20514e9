"""Under a real uvicorn, the client holds the whole response while the task is still running."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.support.servers import uvicorn_server


def test_the_response_arrives_before_a_one_second_task_ends(tmp_path: Path) -> None:
    receipts = tmp_path / "receipts.txt"
    with uvicorn_server("tests.server_app:app", env={"RECEIPTS_FILE": str(receipts)}) as server:
        response = httpx.post(f"{server.url}/orders", json={"order": 5}, timeout=10)
        received = time.time()
        assert (response.status_code, response.json()) == (201, {"order": 5})
        # the full body is here and the task, which sleeps a second, has not written yet
        assert not receipts.exists()
        deadline = time.monotonic() + 10
        while not receipts.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    order, written_at = receipts.read_text().split()
    assert order == "5"
    assert float(written_at) >= received


def test_a_500_arrives_before_its_one_second_error_task_ends(tmp_path: Path) -> None:
    receipts = tmp_path / "receipts.txt"
    with uvicorn_server("tests.server_app:app", env={"RECEIPTS_FILE": str(receipts)}) as server:
        response = httpx.post(f"{server.url}/refunds", json={"order": 7}, timeout=10)
        received = time.time()
        assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})
        # the whole 500 is here; the `when="error"` task, which sleeps a second, has not written yet
        assert not receipts.exists()
        deadline = time.monotonic() + 10
        while not receipts.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    order, written_at = receipts.read_text().split()
    assert order == "7"
    assert float(written_at) >= received
