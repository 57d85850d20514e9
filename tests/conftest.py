"""Fixtures shared by every test module."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def anyio_backend() -> str:
    """Run `@pytest.mark.anyio` tests on asyncio, the loop uvicorn uses."""
    return "asyncio"


@dataclass(frozen=True)
class Build:
    """One `mkdocs build --strict` run: where it wrote, what it said, how long it took."""

    site: Path
    returncode: int
    output: str
    seconds: float


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Build]:
    """Build the site once per test session, strictly, into a temporary folder
    (the docs and the playground tests share it)."""
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    yield Build(site, done.returncode, done.stdout + done.stderr, time.perf_counter() - started)


@pytest.fixture(scope="session")
def site(built_site: Build) -> Path:
    """The built site's folder; fails (rather than errors) when the build did."""
    if built_site.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{built_site.output}")
    return built_site.site
