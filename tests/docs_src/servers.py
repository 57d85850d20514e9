"""An example app under a real uvicorn (`ravyn.testing.serve`), with helpers to watch its output."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from ravyn.testing import Server, serve

ROOT = Path(__file__).resolve().parents[2]


class ServerOutput:
    """What a running server has printed, read from its log as it grows."""

    def __init__(self, server: Server) -> None:
        self.server = server

    @property
    def lines(self) -> list[str]:
        """Everything printed so far."""
        return self.server.output.splitlines()

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


@contextmanager
def serve_example(name: str, *, env: Mapping[str, str] | None = None) -> Iterator[tuple[str, ServerOutput]]:
    """Run `uvicorn docs_src.background_tasks.<name>:app` on 127.0.0.1; yield (base URL, output)."""
    app = f"docs_src.background_tasks.{name}:app"
    with serve(app, env={"NO_PROXY": "127.0.0.1,localhost", **(env or {})}, cwd=ROOT) as server:
        yield server.url, ServerOutput(server)
