"""An example app under a real uvicorn (`ravyn.testing.serve`), with the server's output read live."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from ravyn.testing import serve

ROOT = Path(__file__).resolve().parents[2]


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
        printed = "\n".join(self.lines)
        raise AssertionError(f"no line with {text!r} in {timeout}s; the server printed:\n{printed}")


@contextmanager
def serve_example(name: str, *, env: Mapping[str, str] | None = None) -> Iterator[tuple[str, ServerOutput]]:
    """Run `uvicorn docs_src.background_tasks.<name>:app` on a free 127.0.0.1 port; yield
    (base URL, live output). The server is stopped when the block ends."""
    app = f"docs_src.background_tasks.{name}:app"
    env = {"NO_PROXY": "127.0.0.1,localhost", **(env or {})}  # loopback calls must not go to a proxy
    with serve(app, env=env, cwd=ROOT, ready_timeout=30) as (base, process):
        yield base, ServerOutput(process)
