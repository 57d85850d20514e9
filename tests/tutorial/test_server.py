"""The lesson server: the launcher, its events, ports, and always stopping it."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import anyio
import pytest

from ravyn import BackgroundTasks, Ravyn, post
from ravyn.testing import record
from ravyn_tutorial.runner import ServerFailed, send, serve_lesson
from ravyn_tutorial.serve import EventStream, TutorialApp
from tests.support.queues import take_until

from .conftest import ROOT

QUICK_START = "docs_src.background_tasks.quick_start:app"


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_lesson_server_reports_its_events_and_is_always_stopped() -> None:
    with serve_lesson(QUICK_START, ROOT) as (server, output):
        port = server.port
        assert server.url == f"http://127.0.0.1:{port}"
        send(output.events, "127.0.0.1", port, "POST", "/accounts", {"email": "a@b.c"}, label="one")
        kinds = [
            e.kind
            for e in take_until(output.events, lambda e: e.kind == "call_complete")
            if e.request == "one"
        ]
    assert not server.alive
    assert _refused(port)
    assert kinds.index("response_sent") < kinds.index("task_started") < kinds.index("task_finished")
    assert "log" in kinds
    assert "response" in kinds


def test_a_lesson_that_cannot_be_imported_explains_why(tmp_path: Path) -> None:
    (tmp_path / "broken_lesson.py").write_text("import not_a_module_anywhere\n")

    with pytest.raises(ServerFailed) as failure, serve_lesson("broken_lesson:app", tmp_path):
        pass

    assert "could not be imported" in str(failure.value)
    assert "No module named 'not_a_module_anywhere'" in failure.value.details


def test_a_lesson_that_ends_its_process_at_import_is_reported_with_its_last_words(tmp_path: Path) -> None:
    (tmp_path / "quitting_lesson.py").write_text(
        "import os, sys\nprint('giving up now', file=sys.stderr, flush=True)\nos._exit(3)\n"
    )

    with pytest.raises(ServerFailed) as failure, serve_lesson("quitting_lesson:app", tmp_path):
        pass

    assert str(failure.value) == "the server for quitting_lesson:app stopped"
    assert "giving up now" in failure.value.details


def test_a_lesson_that_prints_at_import_has_its_lines_as_events(tmp_path: Path) -> None:
    (tmp_path / "chatty_lesson.py").write_text(
        "import sys\nfrom ravyn import Ravyn\nprint('hello at import')\n"
        "print('to stderr', file=sys.stderr)\napp = Ravyn(routes=[])\n"
    )

    with serve_lesson("chatty_lesson:app", tmp_path) as (_, output):
        printed = take_until(output.events, lambda e: e.kind == "output")

    assert printed[-1].get("text") == "hello at import"
    assert "to stderr" in output.tail


def test_a_lesson_on_a_busy_port_is_served_on_a_free_one() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with serve_lesson(QUICK_START, ROOT, port=taken) as (server, _):
            assert server.port != taken
            assert not _refused(server.port)


class Sink:
    """A stream that keeps what the tutorial writes to it."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        self.lines.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_inline_mode_holds_the_response_until_the_tasks_are_done() -> None:
    def slow_note(text: str) -> None:
        time.sleep(0.05)

    @post("/notes")
    def create_note(text: str, tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(slow_note, text)
        return {"text": text}

    wrapped = TutorialApp(Ravyn(routes=[create_note]), EventStream(Sink()), observe=True)  # type: ignore[arg-type]

    async def both() -> tuple[list[str], list[str]]:
        inline = await record(
            wrapped, "POST", "/notes", json={"text": "hi"}, headers={"x-tutorial-mode": "inline"}
        )
        background = await record(wrapped, "POST", "/notes", json={"text": "hi"})
        return inline.kinds, background.kinds

    inline, background = anyio.run(both)
    assert inline.index("task_finished") < inline.index("response_complete")
    assert background.index("response_complete") < background.index("task_started")


def test_inline_mode_answers_500_when_a_task_fails_as_the_handler_would() -> None:
    def refund(payment: str) -> None:
        raise KeyError("amount")

    @post("/refunds", status_code=202)
    def request_refund(payment: str, tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(refund, payment)
        return {"status": "refund requested"}

    sink = Sink()
    wrapped = TutorialApp(Ravyn(routes=[request_refund]), EventStream(sink), observe=True)  # type: ignore[arg-type]

    async def both() -> tuple[int | None, int | None]:
        inline = await record(
            wrapped, "POST", "/refunds", json={"payment": "p1"}, headers={"x-tutorial-mode": "inline"}
        )
        background = await record(wrapped, "POST", "/refunds", json={"payment": "p1"})
        return inline.status, background.status

    assert anyio.run(both) == (500, 202)
    sent = [json.loads(line) for line in "".join(sink.lines).splitlines() if '"response_sent"' in line]
    assert sent[0]["status"] == 500 and sent[0]["failed"].endswith("refund")


def _read_lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def _wait_for(lines: queue.Queue[str], pattern: str, seen: list[str], timeout: float = 20.0) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found
    raise AssertionError(f"{pattern!r} never came:\n{''.join(seen)}")


def test_serve_keeps_the_server_up_until_ctrl_c() -> None:
    env = {**os.environ, "COLUMNS": "100", "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "ravyn_tutorial", "run", "quick_start", "--serve"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        port = int(_wait_for(lines, r"serving quick_start at http://127\.0\.0\.1:(\d+)", seen).group(1))
        _wait_for(lines, r"curl -i -X POST 'http://127\.0\.0\.1:\d+/accounts'", seen)

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(
            "POST",
            "/accounts",
            body=b'{"email": "curl@example.com"}',
            headers={"content-type": "application/json"},
        )
        assert connection.getresponse().status == 201
        connection.close()
        _wait_for(lines, r"send_welcome_email finished", seen)

        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0
        _wait_for(lines, r"Server stopped\.", seen)
        assert _refused(port)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
