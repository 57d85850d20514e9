"""Constants of the documentation tests (the site fixtures live in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Build

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "docs_src" / "background_tasks"


__all__ = ["DOCS", "EXAMPLES", "ROOT", "Build"]
