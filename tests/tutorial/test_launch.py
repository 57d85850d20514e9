"""`ravyn-tutorial` installed without its extra says in one line what to
install, instead of a `ModuleNotFoundError` traceback. The optional packages
are hidden from a child interpreter (a `None` in `sys.modules`), so no
network and no second environment are needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ravyn_tutorial import launch

ROOT = Path(__file__).resolve().parents[2]


def _run_hiding(*modules: str) -> subprocess.CompletedProcess[str]:
    hide = "".join(f"sys.modules[{name!r}] = None\n" for name in modules)
    code = (
        f"import sys\n{hide}from ravyn_tutorial.launch import main\nsys.argv = ['ravyn-tutorial']\nmain()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, cwd=ROOT
    )


@pytest.mark.parametrize("hidden", [("typer",), ("rich",), ("typer", "rich")])
def test_without_the_extra_the_command_says_in_one_line_what_to_install(hidden: tuple[str, ...]) -> None:
    result = _run_hiding(*hidden)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ravyn-tutorial needs the Python package")
    assert "pip install" in lines[0]
    assert any(f"'{name}'" in lines[0] for name in hidden)


def test_with_the_extra_the_command_runs() -> None:
    result = _run_hiding()

    assert result.returncode == 0, result.stderr
    assert "the terminal tutorial" in result.stdout


def test_the_install_line_names_the_extras_requirements_when_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    declared = [
        "anyio>=4.15",
        "uvicorn>=0.30",
        "rich>=13; extra == 'tutorial'",
        "typer>=0.12; extra == 'tutorial'",
    ]
    declared.append("pytest>=8; extra == 'test'")
    monkeypatch.setattr(launch.metadata, "requires", lambda name: declared)

    assert launch.missing_message("typer.core").endswith("pip install 'rich>=13' 'typer>=0.12'")
    assert launch.missing_message("uvicorn").endswith("pip install 'anyio>=4.15' 'uvicorn>=0.30'")


def test_from_a_checkout_without_the_project_installed_it_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def absent(name: str) -> list[str]:
        raise launch.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(launch.metadata, "requires", absent)

    assert "pip install -e '.[tutorial]'" in launch.missing_message("typer")


def test_a_missing_module_of_ours_is_not_passed_off_as_a_missing_extra() -> None:
    result = _run_hiding("ravyn_tutorial.cli")

    assert result.returncode == 1
    assert "ModuleNotFoundError" in result.stderr
    assert "needs the Python package" not in result.stderr
