"""One uvicorn server per contender and scenario, on a free port of 127.0.0.1, always stopped."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.apps.shapes import ORIGIN, SHAPES, Shape
from bench.contenders import APPS_DIR, BenchError, Contender


def uvicorn_args(fast_server: bool) -> list[str]:
    """The server settings every contender gets: one process, no access log."""
    loop, http_impl = ("uvloop", "httptools") if fast_server else ("asyncio", "h11")
    return ["--loop", loop, "--http", http_impl, "--no-access-log", "--log-level", "warning"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """One request over a fresh connection; returns (status, decoded JSON body)."""
    status, answer, _ = exchange(port, method, path, body, headers)
    return status, answer


def exchange(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    """One request over a fresh connection; returns (status, decoded JSON body, lower-cased headers)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        sent = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers={**sent, **(headers or {})})
        response = connection.getresponse()
        raw = response.read()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        try:
            answer = json.loads(raw or b"null")
        except ValueError:
            answer = raw.decode("utf-8", "replace")
        return response.status, answer, answer_headers
    finally:
        connection.close()


def check_answer(name: str, shape: Shape, status: int, body: Any, headers: dict[str, str]) -> None:
    """Fail loudly unless a scenario's request got the answer it must get (CORS header included)."""
    if not 200 <= status < 300 or body != shape.answer:
        raise BenchError(
            f"{name}: {shape.method} {shape.path} answered {status} {body!r}, not {shape.answer!r}"
        )
    allowed = headers.get("access-control-allow-origin")
    if shape.cors and allowed != ORIGIN:
        raise BenchError(
            f"{name}: {shape.method} {shape.path} from {ORIGIN} answered without "
            f"access-control-allow-origin: {ORIGIN} (got {allowed!r}): the CORS middleware did not run"
        )


@dataclass
class Server:
    contender: Contender
    scenario: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """CPU time (user + system, all threads) the server process has used so far."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def count(self) -> int:
        status, body = request(self.port, "GET", "/count")
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("count"), int):
            raise BenchError(f"{self.contender.name}: GET /count answered {status} {body!r}")
        return int(body["count"])

    def wait_for_count(self, expected: int, timeout: float = 15.0) -> int:
        """Wait until the task runs reach `expected`; fail loudly if they don't, or pass it."""
        deadline = time.monotonic() + timeout
        while True:
            count = self.count()
            if count == expected:
                return count
            if count > expected:
                raise BenchError(
                    f"{self.contender.name} scenario {self.scenario}: {count} task runs, "
                    f"more than the {expected} expected: tasks ran twice"
                )
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{self.contender.name} scenario {self.scenario}: {count} task runs after "
                    f"{timeout:.0f}s, {expected} expected: tasks were lost"
                )
            time.sleep(0.05)

    @property
    def shape(self) -> Shape:
        """The request this server's scenario is loaded with."""
        return SHAPES[self.scenario]

    def check_register(self) -> None:
        """The scenario's request by hand: the right answer (and CORS header), its tasks counted.

        Scenario R's app also has its other routes checked, so a contender
        cannot serve the POST alone.
        """
        shape, name = self.shape, f"{self.contender.name} scenario {self.scenario}"
        before = self.count()
        status, body, headers = exchange(self.port, shape.method, shape.path, shape.body, dict(shape.headers))
        check_answer(name, shape, status, body, headers)
        self.wait_for_count(before + shape.tasks)
        if self.scenario == "R":
            for path, expected in (("/health", {"status": "ok"}), ("/teams/7", {"team": 7})):
                status, body = request(self.port, "GET", path, headers=dict(shape.headers))
                if status != 200 or body != expected:
                    raise BenchError(f"{name}: GET {path} answered {status} {body!r}, not {expected!r}")

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()[-4000:]


@contextmanager
def serve(
    contender: Contender, scenario: str, fast_server: bool, ready_timeout: float = 60.0
) -> Iterator[Server]:
    """Run the contender's app for `scenario` under uvicorn; stop it on exit."""
    port = free_port()
    command = [
        str(contender.python),
        "-m",
        "uvicorn",
        f"{contender.module}:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *uvicorn_args(fast_server),
    ]
    log_fd, log_path = tempfile.mkstemp(prefix=f"bench-{contender.name}-{scenario}-", suffix=".log")
    env = contender.env(scenario)  # which ravyn `import ravyn` finds: see Contender.env
    try:
        process = subprocess.Popen(command, cwd=APPS_DIR, env=env, stdout=log_fd, stderr=subprocess.STDOUT)
    finally:
        os.close(log_fd)
    server = Server(contender, scenario, port, process, log_path)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise BenchError(f"{contender.name} ({scenario}) exited before serving:\n{server.log()}")
            try:
                server.count()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError(
                        f"{contender.name} did not answer on {server.url} in {ready_timeout}s"
                    ) from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        os.unlink(log_path)
