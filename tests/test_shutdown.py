"""Graceful shutdown under a real uvicorn: running tasks are waited for, up to the drain timeout.

uvicorn (0.29 and later) re-raises SIGTERM after its own graceful shutdown, so
the process always ends "killed by SIGTERM" (exit status 143, or -15 here);
what these tests check is what happened before that.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from tests.support.servers import uvicorn_server


def _start_export_then_sigterm(tmp_path: Path, drain: float) -> tuple[int, str]:
    env = {"EXPORT_DIR": str(tmp_path), "EXPORT_SECONDS": "3", "DRAIN_SECONDS": str(drain)}
    with uvicorn_server("tests.shutdown_app:app", env=env) as server:
        response = httpx.post(f"{server.url}/exports", json={"batch": "b1"}, timeout=10)
        assert response.status_code == 201
        deadline = time.monotonic() + 10
        while not (tmp_path / "b1.started").exists():
            assert time.monotonic() < deadline, "the export task never started"
            time.sleep(0.02)
        server.process.send_signal(signal.SIGTERM)
        returncode = server.process.wait(timeout=20)
    return returncode, server.output


def test_sigterm_waits_for_a_running_task(tmp_path: Path) -> None:
    returncode, output = _start_export_then_sigterm(tmp_path, drain=10)
    assert (tmp_path / "b1.done").exists(), output
    assert "lost" not in output
    assert "Application shutdown complete" in output
    assert returncode in (0, -signal.SIGTERM), output


def test_a_task_outliving_the_drain_timeout_is_logged_as_lost(tmp_path: Path) -> None:
    returncode, output = _start_export_then_sigterm(tmp_path, drain=1.0)
    # had the drain waited, uvicorn would have let the 3 s task write its file
    assert not (tmp_path / "b1.done").exists()
    assert "Background task export_orders('b1') lost: cancelled at shutdown" in output
    assert "1 background task(s) lost at shutdown" in output
    assert returncode in (0, -signal.SIGTERM), output
