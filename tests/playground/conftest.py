"""Fixtures of the playground tests.

The site is the one built once per session by the fixtures of tests/conftest.py.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT
from tests.docs.test_docs_browser import unavailable

PLAYGROUND = ROOT / "playground"
PYODIDE = PLAYGROUND / "node_modules" / "pyodide"
SHIPPED = frozenset(
    {
        "ravyn",
        "lilya",
        "anyio",
        "monkay",
        "multidict",
        "idna",
        "typing_extensions",
        "pydantic",
        "pydantic_core",
        "annotated_types",
        "typing_inspection",
    }
)
"""The import names the playground's wheels provide (the hook reads them from the wheels)."""


def load(path: Path, name: str) -> ModuleType:
    """Import a module that is not in a package (the hook, the runner) from its file."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def hook() -> ModuleType:
    """docs/hooks/playground.py, the build hook."""
    return load(ROOT / "docs" / "hooks" / "playground.py", "playground_hook_under_test")


@pytest.fixture(scope="session")
def pyodide_installed() -> Path:
    """Pyodide from npm, which the playground is made of: skipped locally without it, failed under CI."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        unavailable("Node.js and npm are not installed: the playground's Pyodide comes from npm")
    if not (PYODIDE / "pyodide-lock.json").is_file():
        unavailable("Pyodide is not installed: run `npm ci` in playground/ (scripts/test does)")
    return PYODIDE
