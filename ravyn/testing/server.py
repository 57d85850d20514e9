"""Run an app under a real uvicorn, in a subprocess on a free loopback port.

Re-exported by [`ravyn.testing`][ravyn.testing].
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Server", "free_port", "serve"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A uvicorn subprocess started by `serve()`."""

    url: str
    """The base URL, e.g. `http://127.0.0.1:41234`."""
    process: subprocess.Popen[bytes]
    log_path: Path
    _final_output: str | None = None

    @property
    def output(self) -> str:
        """Everything the server printed so far (stdout and stderr together)."""
        if self._final_output is not None:
            return self._final_output
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> int:
        """Send SIGTERM, wait (SIGKILL after `timeout` s), return the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@contextmanager
def serve(
    app: str,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    uvicorn_args: Sequence[str] = ("--no-access-log",),
    ready_timeout: float = 20.0,
) -> Iterator[Server]:
    """Run `uvicorn <app>` in a subprocess on a free 127.0.0.1 port.

    Yields a `Server` once the port accepts connections, and stops it on exit
    (SIGTERM, then SIGKILL after 10 s). The server's output goes to a file, never
    to a pipe that could fill up and block it; read it with `server.output`,
    during the block or after it.

    Example:
        ```python
        import httpx
        from ravyn.testing import serve

        with serve("myproject.main:app") as server:
            response = httpx.post(f"{server.url}/register", json={"email": "a@b.c"})
        print(server.output)
        ```
    """
    port = free_port()
    handle, log_name = tempfile.mkstemp(prefix="ravyn-serve-", suffix=".log")
    with os.fdopen(handle, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), *uvicorn_args],
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, Path(log_name))
    try:
        _wait_until_listening(server, port, ready_timeout)
        yield server
    finally:
        server.stop()
        server._final_output = server.output
        server.log_path.unlink(missing_ok=True)


def _wait_until_listening(server: Server, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"uvicorn exited before it was ready:\n{server.output}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"uvicorn did not listen on port {port} in {timeout}s") from None
            time.sleep(0.05)
