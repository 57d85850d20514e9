"""Run an app under a real uvicorn, in a process of its own on a free loopback port.

Re-exported by [`ravyn.testing`][ravyn.testing].
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from ravyn.testing.forked import check_forkable, fork_uvicorn

__all__ = ["Server", "ServerProcess", "free_port", "serve"]

HOST = "127.0.0.1"


def free_port(preferred: int = 0) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now: `preferred`
    if it is free, any free one otherwise (and when `preferred` is 0)."""
    with socket.socket() as sock:
        try:
            sock.bind((HOST, preferred))
        except OSError:
            sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class ServerProcess(Protocol):
    """The part of `subprocess.Popen` a server's process offers, forked or not."""

    pid: int

    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def send_signal(self, sig: int) -> None: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...


@dataclass
class Server:
    """A uvicorn process started by `serve()`."""

    url: str
    """The base URL, e.g. `http://127.0.0.1:41234`."""
    process: ServerProcess
    """A `subprocess.Popen`, or a `ForkedProcess` for a forked server."""
    log_path: Path
    _final_output: str | None = None
    _reader: _LineReader | None = None

    @property
    def port(self) -> int:
        """The port it listens on, on 127.0.0.1."""
        return int(self.url.rsplit(":", 1)[1])

    @property
    def alive(self) -> bool:
        """Whether its process is still running."""
        return self.process.poll() is None

    @property
    def output(self) -> str:
        """Everything the server printed so far (stdout and stderr together)."""
        if self._final_output is not None:
            return self._final_output
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> int:
        """Send SIGTERM, wait (SIGKILL after `timeout` s), return the exit status.

        Interrupted while it waits (a second Ctrl-C), it kills the server
        before passing the interruption on, rather than leave it running.
        """
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            except BaseException:
                self.process.kill()
                self.process.wait()
                raise
        if self._reader is not None:
            self._reader.finish()
        return int(self.process.wait())


class _LineReader:
    """Drains the server's output pipe on a thread: each line goes to the log
    file and to `on_line`, so the pipe never fills up and blocks the server."""

    def __init__(self, pipe: IO[bytes], log: IO[bytes], on_line: Callable[[str], None]) -> None:
        self.pipe = pipe
        self.log = log
        self.on_line = on_line
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="ravyn-serve-output", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with self.pipe, self.log:
            for raw in self.pipe:
                self.log.write(raw)
                self.log.flush()
                if self.error is None:
                    try:
                        self.on_line(raw.decode("utf-8", "replace").rstrip("\r\n"))
                    except Exception as exc:  # re-raised by serve(); the pipe keeps draining
                        self.error = exc

    def finish(self, timeout: float = 5.0) -> None:
        """Wait for the last line (the pipe closes when the server ends)."""
        # a grandchild that inherited the pipe may hold it open: do not wait forever
        self.thread.join(timeout)


@contextmanager
def serve(
    app: str | Any,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    uvicorn_args: Sequence[str] = ("--no-access-log",),
    ready_timeout: float = 20.0,
    port: int = 0,
    on_output: Callable[[str], None] | None = None,
    fork: bool = False,
) -> Iterator[Server]:
    """Run uvicorn on `app` in a process of its own, on 127.0.0.1.

    Yields a `Server` once the port accepts connections, and stops it on exit
    (SIGTERM, then SIGKILL after 10 s). The server's output goes to a file (or,
    with `on_output`, through a pipe that a thread keeps draining), never to a
    pipe that could fill up and block it; read it with `server.output`, during
    the block or after it.

    Args:
        app: an import string, `"module:attribute"`, run as `python -m uvicorn app`
            in a fresh interpreter; or the ASGI app object itself (or, with
            `--factory` in `uvicorn_args`, a callable that returns one), which is
            served from a fork of this process.
        env: variables added to the server's environment.
        cwd: the server's working directory, where it imports `app` from.
        uvicorn_args: more of uvicorn's command-line options. A forked server
            runs in one process: `--workers` and `--reload` are refused.
        ready_timeout: seconds to wait for the port to accept connections;
            then the server is killed and `TimeoutError` raised. One that exits first raises
            `RuntimeError` with everything it printed.
        port: the port to listen on; 0 (the default) for any free one. A port
            in use raises `OSError` (`free_port(port)` swaps it for a free one).
        on_output: called with each line the server prints (stdout and stderr,
            without the line ending) as soon as it is printed, from a thread of
            its own: keep it quick. An exception it raises is re-raised when the
            block ends; the output is still kept.
        fork: serve a string `app` from a fork of this process too (POSIX only):
            every module the caller has imported is already there, so it starts
            faster. The fork keeps only the calling thread (Python 3.12+ warns
            when the caller runs others). Always so for an app object.

    Example:
        ```python
        import httpx
        from ravyn.testing import serve

        with serve("myproject.main:app") as server:
            response = httpx.post(f"{server.url}/register", json={"email": "a@b.c"})
        print(server.output)
        ```

        An app built in the test itself, its lines followed as they come:

        ```python
        lines: list[str] = []
        with serve(app, on_output=lines.append) as server:
            httpx.get(f"{server.url}/")
        ```
    """
    fork = fork or not isinstance(app, str)
    if fork:
        check_forkable(uvicorn_args)
    if port and free_port(port) != port:  # else the ready check would take the other server for ours
        raise OSError(
            errno.EADDRINUSE, f"port {port} on {HOST} is already in use: pick another, or 0 for any"
        )
    port = port or free_port()
    options = ["--host", HOST, "--port", str(port), *uvicorn_args]
    handle, log_name = tempfile.mkstemp(prefix="ravyn-serve-", suffix=".log")
    log = os.fdopen(handle, "wb")
    reader: _LineReader | None = None
    if on_output is None:
        out_fd = log.fileno()
    else:
        read_fd, out_fd = os.pipe()
        reader = _LineReader(os.fdopen(read_fd, "rb"), log, on_output)
    try:
        if fork:
            process: ServerProcess = fork_uvicorn(app, options, out_fd, cwd, env or {})
        else:
            process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", app, *options],
                cwd=cwd,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=out_fd,
                stderr=subprocess.STDOUT,
            )
    except BaseException:
        Path(log_name).unlink(missing_ok=True)
        raise
    finally:  # the server has its own copy now, or failed to start
        if reader is None:
            log.close()
        else:
            os.close(out_fd)
    server = Server(f"http://{HOST}:{port}", process, Path(log_name), _reader=reader)
    try:
        try:
            _wait_until_listening(server, ready_timeout)
        except TimeoutError:
            server.process.kill()  # it never served: nothing to drain, and SIGTERM may go unheard
            raise
        yield server
    finally:
        server.stop()
        server._final_output = server.output
        server.log_path.unlink(missing_ok=True)
    if reader is not None and reader.error is not None:
        raise reader.error


def _wait_until_listening(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            if server._reader is not None:
                server._reader.finish()  # every line it printed, before quoting them
            raise RuntimeError(f"uvicorn exited before it was ready:\n{server.output}")
        try:
            socket.create_connection((HOST, server.port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"uvicorn did not listen on port {server.port} in {timeout}s") from None
            time.sleep(0.05)
