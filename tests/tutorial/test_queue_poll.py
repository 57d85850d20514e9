"""A queue lesson whose response points at the job's status: the tutorial
polls it as a client would, and the timeline shows the states read."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ravyn_tutorial.cli import app
from ravyn_tutorial.runner import poll_status
from ravyn_tutorial.timeline import Event, RequestView


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_run_queue_job_status_follows_the_job_to_its_final_state(cli: CliRunner, in_checkout: Path) -> None:
    result = cli.invoke(app, ["run", "queue_job_status"])

    said = _flat(result.output)
    assert result.exit_code == 0, result.output
    assert "⟳ GET /jobs/" in said
    assert "→ 200 success" in said
    assert said.index("← 202 Accepted") < said.index("⟳ GET /jobs/")
    assert "The client followed it at the address the response gave (/jobs/" in said


class _States(BaseHTTPRequestHandler):
    answers = ["pending", "started", "success", "never read"]

    def do_GET(self) -> None:
        state = self.answers.pop(0)
        body = f'{{"state": "{state}"}}'.encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def status_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _States)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_polling_stops_at_the_first_final_state(status_server: int) -> None:
    events: queue.Queue[Event] = queue.Queue()

    poll_status(events, "127.0.0.1", status_server, "/jobs/7", label="lesson")

    polls = [events.get_nowait() for _ in range(events.qsize())]
    assert [event.get("state") for event in polls] == ["pending", "started", "success"]
    view = RequestView("lesson")
    for event in polls:
        view.apply(event)
    assert view.polls == ["pending", "started", "success"]


def test_a_server_that_is_gone_ends_the_polling_with_one_event() -> None:
    events: queue.Queue[Event] = queue.Queue()
    closed = ThreadingHTTPServer(("127.0.0.1", 0), _States)
    port = int(closed.server_address[1])
    closed.server_close()

    poll_status(events, "127.0.0.1", port, "/jobs/7", label="lesson")

    assert events.qsize() == 1
    assert events.get_nowait().get("status") == 0
