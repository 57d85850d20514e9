"""Signals as operators send them, under a real uvicorn in a process group of its own.

Ctrl+C in a terminal and systemd (by default) signal the whole process group:
under `--workers N` and `--reload`, each worker gets the signal itself, then
its supervisor passes the stop on as a SIGTERM. These tests send every signal
to the whole group (`os.killpg`) while two-second export tasks run, and read
the server's log: each task finishes once and nothing is lost; a real second
signal, a second after the first, still stops at once and names each lost
task; SIGHUP drains like SIGTERM. Every wait is bounded; the whole group is
killed when a test ends, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ravyn.testing import free_port

ROOT = Path(__file__).resolve().parents[1]
EXPORT_SECONDS = 2.0
DRAIN_SECONDS = 20.0
UVICORN = (sys.executable, "-m", "uvicorn", "tests.shutdown_app:app", "--host", "127.0.0.1")


@dataclass
class Group:
    """A uvicorn started in a new session: its pid is also its process group's."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    out: Path

    @property
    def output(self) -> str:
        """Everything the supervisor and its workers printed so far."""
        return self.log.read_text(errors="replace")

    def signal_group(self, sig: signal.Signals) -> None:
        """Signal every process of the group, as a terminal's Ctrl+C or systemd does."""
        os.killpg(self.process.pid, sig)

    def wait_exit(self, timeout: float) -> float:
        """Wait (at most `timeout` s) for the supervisor to exit; return how long it took."""
        started = time.monotonic()
        self.process.wait(timeout=timeout)
        return time.monotonic() - started


def _until(condition: object, what: str, timeout: float = 30) -> None:
    """Poll `condition()` until it is true, failing after `timeout` seconds."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(0.05)


@contextlib.contextmanager
def group_server(tmp_path: Path, *uvicorn_args: str, workers: int = 1, **env: str) -> Iterator[Group]:
    """`uvicorn tests.shutdown_app:app` on a free 127.0.0.1 port, in its own
    session, ready once each of its `workers` has started its app."""
    out = tmp_path / "out"
    out.mkdir()
    log = tmp_path / "server.log"
    port = free_port()
    settings = {"EXPORT_SECONDS": str(EXPORT_SECONDS), "DRAIN_SECONDS": str(DRAIN_SECONDS), **env}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*UVICORN, "--port", str(port), "--no-access-log", *uvicorn_args],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "EXPORT_DIR": str(out), **settings},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    group = Group(f"http://127.0.0.1:{port}", process, log, out)
    try:
        _until(
            lambda: (
                process.poll() is not None or group.output.count("Application startup complete.") >= workers
            ),
            "the workers never started",
        )
        assert process.poll() is None, group.output
        yield group
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _started(group: Group) -> int:
    return group.output.count("Application startup complete.")


def start_exports(group: Group, workers: int, count: int = 2) -> list[str]:
    """Start exports, `count` at a time on connections of their own (the workers
    share out the connections), until `workers` processes run one, in at most
    six rounds; return the batch names once each export has started."""
    batches: list[str] = []
    pids: set[str] = set()
    for _ in range(6):
        round_ = [f"b{len(batches) + n}" for n in range(count)]
        statuses: dict[str, int] = {}
        posts = [
            threading.Thread(target=_post_export, args=(group.url, batch, statuses), daemon=True)
            for batch in round_
        ]
        for post in posts:
            post.start()
        for post in posts:
            post.join(timeout=15)
        assert statuses == dict.fromkeys(round_, 201), group.output
        for batch in round_:
            started = group.out / f"{batch}.started"
            _until(lambda started=started: _written(started), f"{batch} started", 10)
            pids.add(started.read_text())
        batches += round_
        if len(pids) >= workers:
            return batches
    raise AssertionError(f"every export went to the same worker: {pids}")


def _post_export(url: str, batch: str, statuses: dict[str, int]) -> None:
    with contextlib.suppress(httpx.HTTPError):
        statuses[batch] = httpx.post(f"{url}/exports", json={"batch": batch}, timeout=10).status_code


def _written(path: Path) -> bool:
    return path.exists() and path.read_text() != ""


def assert_each_finished_once(group: Group, batches: list[str]) -> None:
    output = group.output
    for batch in batches:
        assert output.count(f"export {batch} done in process") == 1, output
    assert "lost" not in output, output
    assert "Traceback" not in output, output


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_workers_drain_each_task_once_when_the_whole_group_gets_the_signal(
    tmp_path: Path, sig: signal.Signals
) -> None:
    with group_server(tmp_path, "--workers", "2", workers=2) as group:
        batches = start_exports(group, workers=2)
        group.signal_group(sig)
        group.wait_exit(timeout=DRAIN_SECONDS)
        assert_each_finished_once(group, batches)
        # each worker heard the supervisor pass the stop on, and went on draining
        assert group.output.count("SIGTERM from the supervisor passing the stop on") == 2, group.output


def test_ctrl_c_under_reload_lets_the_running_tasks_finish(tmp_path: Path) -> None:
    with group_server(tmp_path, "--reload") as group:
        batches = start_exports(group, workers=1)
        group.signal_group(signal.SIGINT)
        group.wait_exit(timeout=DRAIN_SECONDS)
        assert_each_finished_once(group, batches)
        assert "SIGTERM from the supervisor passing the stop on" in group.output


@pytest.mark.parametrize(
    ("uvicorn_args", "workers", "sig"),
    [(("--workers", "2"), 2, signal.SIGTERM), (("--reload",), 1, signal.SIGINT)],
    ids=["workers-SIGTERM-twice", "reload-Ctrl+C-twice"],
)
def test_a_real_second_signal_a_second_later_stops_at_once_and_names_each_lost_task(
    tmp_path: Path, uvicorn_args: tuple[str, ...], workers: int, sig: signal.Signals
) -> None:
    with group_server(tmp_path, *uvicorn_args, workers=workers, EXPORT_SECONDS="60") as group:
        batches = start_exports(group, workers=workers)
        group.signal_group(sig)
        time.sleep(1)  # the operator, not the supervisor: well after the relay
        group.signal_group(sig)
        exited_after = group.wait_exit(timeout=DRAIN_SECONDS)
        output = group.output
        # far sooner than the 60 s exports or the 20 s drain (generous for a loaded machine)
        assert exited_after < 10, output
        for batch in batches:
            assert (
                f"Background task export_orders('{batch}') lost: cancelled at once by a second signal"
                in output
            )
            assert f"export {batch} done" not in output
        assert "Traceback" not in output, output


def test_sighup_drains_a_single_server_like_sigterm(tmp_path: Path) -> None:
    with group_server(tmp_path) as group:
        batches = start_exports(group, workers=1)
        group.signal_group(signal.SIGHUP)
        group.wait_exit(timeout=DRAIN_SECONDS)
        assert_each_finished_once(group, batches)
        assert "Application shutdown complete." in group.output
        # the process ends as SIGHUP says, once the drain is over
        assert group.process.returncode in (0, -signal.SIGHUP), group.output


def test_sighup_under_workers_restarts_them_without_losing_a_task(tmp_path: Path) -> None:
    with group_server(tmp_path, "--workers", "2", workers=2) as group:
        batches = start_exports(group, workers=2)
        group.signal_group(signal.SIGHUP)
        # uvicorn's supervisor starts a fresh worker for each old one, which drains and ends
        _until(lambda: _started(group) >= 4, "two fresh workers", 40)
        _until(lambda: group.output.count("Finished server process") >= 2, "the old workers' drains", 40)
        assert group.process.poll() is None, "the supervisor itself must keep running"
        assert httpx.post(f"{group.url}/exports", json={"batch": "after"}, timeout=10).status_code == 201
        _until(lambda: "export after done" in group.output, "an export on a fresh worker", 20)
        assert_each_finished_once(group, batches)


def _post_quietly(url: str, body: dict[str, str]) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(url, json=body, timeout=30)


def test_a_second_signal_closes_the_yield_dependencies_of_requests_in_their_handler_in_one_line(
    tmp_path: Path,
) -> None:
    with group_server(tmp_path, HANDLER_SECONDS="60") as group:
        clients = [
            threading.Thread(
                target=_post_quietly, args=(f"{group.url}/slow-report", {"report": f"r{n}"}), daemon=True
            )
            for n in range(3)
        ]
        for client in clients:
            client.start()
        _until(lambda: len(list(group.out.glob("*.handler"))) == 3, "three requests in their handler", 10)
        group.signal_group(signal.SIGTERM)
        time.sleep(1)
        group.signal_group(signal.SIGINT)
        exited_after = group.wait_exit(timeout=DRAIN_SECONDS)
        output = group.output
        assert exited_after < 10, output
        # each dependency's `finally` ran, once per request
        assert (group.out / "session.closed").read_text().count("closed") == 3, output
        assert (group.out / "audit.closed").read_text().count("closed") == 3, output
        assert output.count("3 request(s) still in their handler cancelled at once: 3 closed") == 1, output
        assert "Traceback" not in output, output
        assert "Exception in ASGI application" not in output, output


def test_a_clean_ctrl_c_under_reload_logs_nothing_lost(tmp_path: Path) -> None:
    with group_server(tmp_path, "--reload") as group:
        group.signal_group(signal.SIGINT)
        group.wait_exit(timeout=DRAIN_SECONDS)
        output = group.output
        assert "Application shutdown complete." in output
        assert "lost" not in output, output
        assert "Traceback" not in output, output


def test_a_handler_ignoring_its_cancellation_at_a_second_signal_ends_with_the_process_in_one_line(
    tmp_path: Path,
) -> None:
    """Ctrl+C twice under --reload while two handlers swallow every cancellation:
    the server has to be told to quit, and the process still ends within
    `SHUTDOWN_MARGIN` of the second signal, without a traceback."""
    with group_server(tmp_path, "--reload") as group:
        clients = [
            threading.Thread(
                target=_post_quietly, args=(f"{group.url}/stubborn-report", {"report": f"r{n}"}), daemon=True
            )
            for n in range(2)
        ]
        for client in clients:
            client.start()
        _until(lambda: len(list(group.out.glob("*.handler"))) == 2, "two requests in their handler", 10)
        group.signal_group(signal.SIGINT)
        time.sleep(1)
        group.signal_group(signal.SIGINT)
        exited_after = group.wait_exit(timeout=DRAIN_SECONDS)
        output = group.output
        assert exited_after < 10, output
        line = "2 request(s) still in their handler cancelled at once: 0 closed their `yield` dependencies"
        assert output.count(line) == 1, output
        assert "2 ignored the cancellation" in output, output
        assert "Traceback" not in output, output
        assert "Exception in ASGI application" not in output, output


def test_sighup_under_reload_drains_the_worker_its_supervisor_left_behind(tmp_path: Path) -> None:
    """uvicorn's reloader does not handle SIGHUP and dies of it at once; the
    worker, which got the SIGHUP too, drains on its own and then ends."""
    with group_server(tmp_path, "--reload") as group:
        batches = start_exports(group, workers=1)
        group.signal_group(signal.SIGHUP)
        group.wait_exit(timeout=10)  # the reloader
        _until(lambda: "Finished server process" in group.output, "the worker's drain", DRAIN_SECONDS)
        assert_each_finished_once(group, batches)


def test_misbehaving_tasks_under_workers_are_lost_once_within_the_drain_after_a_group_sigterm(
    tmp_path: Path,
) -> None:
    """A task that swallows its cancellation and one that never returns, in a
    worker that also gets its supervisor's relay: the drain still ends on time,
    and each task is logged lost once, not once per signal."""
    with group_server(tmp_path, "--workers", "2", workers=2, DRAIN_SECONDS="2") as group:
        assert httpx.post(f"{group.url}/misbehaving", timeout=10).status_code == 201
        _until(lambda: (group.out / "stuck.started").exists(), "the stuck task started", 10)
        group.signal_group(signal.SIGTERM)
        exited_after = group.wait_exit(timeout=DRAIN_SECONDS)
        output = group.output
        # the drain (2 s) and its margin, with room for a loaded machine
        assert exited_after < 2 + 5, output
        for task in ("stubborn_sync_of_crm('ada')", "wait_for_a_reply_that_never_comes('t-1')"):
            assert output.count(f"{task} lost: cancelled at shutdown") == 1, output
        assert "second signal" not in output, output
        assert "Traceback" not in output, output
