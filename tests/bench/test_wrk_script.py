"""wrk's script sends each scenario's request as `bench.load.wrk_env` describes it.

A small HTTP server on 127.0.0.1 records what wrk sends for one second.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bench.apps.shapes import ORIGIN, SHAPES
from bench.load import WRK_SCRIPT, wrk_env

pytestmark = pytest.mark.skipif(
    shutil.which("wrk") is None and os.environ.get("CI") != "true",
    reason="wrk is not installed (apt-get install wrk)",
)


def test_each_scenarios_wrk_environment_is_its_request() -> None:
    assert wrk_env("R") == {
        "BENCH_METHOD": "POST",
        "BENCH_PATH": "/teams/42/signup",
        "BENCH_BODY": '{"name": "ada", "email": "ada@example.com"}',
        "BENCH_HEADERS": f"Origin: {ORIGIN}",
    }
    assert wrk_env("M")["BENCH_PATH"] == "/register" and wrk_env("M")["BENCH_HEADERS"] == f"Origin: {ORIGIN}"
    assert wrk_env("P")["BENCH_HEADERS"] == "" and wrk_env("G")["BENCH_HEADERS"] == ""


class Recorder(BaseHTTPRequestHandler):
    """Answers 200 to anything, keeping the connection, and records the requests."""

    protocol_version = "HTTP/1.1"
    seen: list[dict[str, Any]] = []

    def do_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if len(Recorder.seen) < 5:
            Recorder.seen.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET = do_any

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[ThreadingHTTPServer]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def wrk(server: ThreadingHTTPServer, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    url = f"http://127.0.0.1:{server.server_address[1]}"
    command = ["wrk", "-t1", "-c1", "-d1s", "-s", str(WRK_SCRIPT), url]
    return subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("scenario", ["R", "P", "G"])
def test_wrk_sends_the_scenarios_method_path_body_and_origin(
    recorder: ThreadingHTTPServer, scenario: str
) -> None:
    done = wrk(recorder, wrk_env(scenario))
    assert done.returncode == 0, done.stderr
    assert "BENCH_RESULT " in done.stdout
    shape = SHAPES[scenario]
    first = Recorder.seen[0]
    assert (first["method"], first["path"], first["body"]) == (shape.method, shape.path, shape.body)
    assert first["headers"]["Content-Type"] == "application/json"
    assert first["headers"].get("Origin") == (ORIGIN if shape.headers else None)


def test_a_header_line_that_is_not_name_colon_value_leaves_no_result_and_says_why(
    recorder: ThreadingHTTPServer,
) -> None:
    # wrk goes on without a script that fails to load (GET /, no summary line): with no
    # BENCH_RESULT line, bench.load.run_wrk stops the bench and shows this message
    done = wrk(recorder, {**wrk_env("R"), "BENCH_HEADERS": "Origin https://example.com"})
    assert "BENCH_HEADERS: not a 'Name: value' line: Origin https://example.com" in done.stderr
    assert "BENCH_RESULT " not in done.stdout
