"""Real servers for tests: `ravyn.testing.serve`, run from the repository root."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from ravyn.testing import Server, serve

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def uvicorn_server(app: str, *, env: Mapping[str, str] | None = None) -> Iterator[Server]:
    """`serve(app)` with the repository root as working directory, so test apps import."""
    with serve(app, env=env, cwd=ROOT) as server:
        yield server
