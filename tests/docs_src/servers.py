"""An example app under a real uvicorn, in a subprocess on a free loopback port, with its output live."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerOutput:
    """The lines a server process prints, collected as they come by a reader thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._lock:
                self._lines.append(line.rstrip("\n"))

    @property
    def lines(self) -> list[str]:
        """Everything printed so far."""
        with self._lock:
            return list(self._lines)

    def matching(self, text: str) -> list[str]:
        """The lines printed so far that contain `text`."""
        return [line for line in self.lines if text in line]

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        """Wait for a line containing `text` and return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.matching(text)
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(
            f"no line with {text!r} in {timeout}s; the server printed:\n" + "\n".join(self.lines)
        )

    def close(self) -> None:
        self._thread.join(timeout=10)


@contextmanager
def serve_example(
    name: str, *, env: Mapping[str, str] | None = None, ready_timeout: float = 30.0
) -> Iterator[tuple[str, ServerOutput]]:
    """Run `uvicorn docs_src.background_tasks.<name>:app` on 127.0.0.1; yield (base URL, output).

    Readiness is polled with requests to `/openapi.json`. The server is always
    stopped (terminated, then killed if it does not exit) when the block ends.
    """
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            f"docs_src.background_tasks.{name}:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "NO_PROXY": "127.0.0.1,localhost", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ServerOutput(process)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process, output, ready_timeout)
        yield base, output
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()


def wait_until_ready(base: str, process: subprocess.Popen[str], output: ServerOutput, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError("uvicorn exited early:\n" + "\n".join(output.lines))
        try:
            httpx.get(f"{base}/openapi.json", timeout=1.0, trust_env=False)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"uvicorn did not answer on {base} in {timeout}s") from None
            time.sleep(0.1)
