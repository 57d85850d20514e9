"""Fixtures for the terminal tutorial's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "ravyn_tutorial" / "exercises" / "solutions"


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


@pytest.fixture
def in_checkout(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run from the repository's root, where docs_src/ is, as the docs say."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "80")
    yield ROOT


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder to run the exercises in, like a learner's."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    return tmp_path
