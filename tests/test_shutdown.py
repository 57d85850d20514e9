"""Graceful shutdown under a real uvicorn: running tasks are waited for, up to the drain timeout.

uvicorn (0.29 and later) re-raises SIGTERM after its own graceful shutdown, so
the process always ends "killed by SIGTERM" (exit status 143, or -15 here);
what these tests check is what happened before that.
"""

from __future__ import annotations

import contextlib
import signal
import threading
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


def _wait_for(path: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def _misbehave_then_signal(
    tmp_path: Path, drain: float, signals: list[signal.Signals], handler_seconds: float = 1
) -> tuple[float, str]:
    """Start the stubborn and the stuck task, put a request in its handler, send
    `signals` 0.3 s apart; return how long the process took to exit, and its log."""
    env = {"EXPORT_DIR": str(tmp_path), "DRAIN_SECONDS": str(drain), "HANDLER_SECONDS": str(handler_seconds)}
    with uvicorn_server("tests.shutdown_app:app", env=env) as server:
        assert httpx.post(f"{server.url}/misbehaving", timeout=10).status_code == 201
        _wait_for(tmp_path / "stubborn.started")
        _wait_for(tmp_path / "stuck.started")
        in_handler = threading.Thread(
            target=lambda: _post_quietly(f"{server.url}/slow-checkout", {"order": "o-7"}), daemon=True
        )
        in_handler.start()
        _wait_for(tmp_path / "handler.started")
        first = time.monotonic()
        for number, sig in enumerate(signals):
            if number:
                time.sleep(0.3)
            server.process.send_signal(sig)
        server.process.wait(timeout=drain + 30)
        exited_after = time.monotonic() - first
    return exited_after, server.output


def _post_quietly(url: str, body: dict[str, str]) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(url, json=body, timeout=30)


def test_sigterm_ends_within_the_drain_whatever_the_tasks_do(tmp_path: Path) -> None:
    exited_after, output = _misbehave_then_signal(tmp_path, drain=2.0, signals=[signal.SIGTERM])
    assert exited_after < 2.0 + 2, output
    # the request still in its handler ran its task within the drain
    assert (tmp_path / "receipt-o-7").exists(), output
    assert "stubborn_sync_of_crm('ada') lost: cancelled at shutdown" in output
    assert "wait_for_a_reply_that_never_comes('t-1') lost: cancelled at shutdown" in output
    assert "2 background task(s) lost at shutdown" in output
    # cancelled once: no loop of cancellations, no flood of log lines
    assert output.count("ignoring a cancellation") <= 2, output


def test_sigterm_then_sigint_stops_at_once_and_names_every_lost_task(tmp_path: Path) -> None:
    exited_after, output = _misbehave_then_signal(
        tmp_path, drain=2.0, signals=[signal.SIGTERM, signal.SIGINT]
    )
    assert exited_after < 2.0 + 2, output
    assert "stubborn_sync_of_crm('ada') lost: cancelled at once by a second signal" in output
    assert "wait_for_a_reply_that_never_comes('t-1') lost: cancelled at once by a second signal" in output
    assert "2 background task(s) lost at shutdown (stopped at once)" in output
    # the handler was still running when the process ended: its task never started
    assert not (tmp_path / "receipt-o-7").exists()
    assert output.count("ignoring a cancellation") <= 3, output


def test_a_handler_outliving_the_drain_cannot_hold_the_process(tmp_path: Path) -> None:
    """The handler sleeps 20 s: uvicorn would wait for it; the watchdog ends the
    process `task_drain_timeout + SHUTDOWN_MARGIN` after the signal."""
    exited_after, output = _misbehave_then_signal(
        tmp_path, drain=1.0, signals=[signal.SIGTERM], handler_seconds=20
    )
    assert exited_after < 1.0 + 2, output
    assert "2 background task(s) lost at shutdown" in output
    assert "ending the process now" in output
    assert not (tmp_path / "receipt-o-7").exists()
