"""The Performance page's results are drawn from their JSON at build time, with what changed since."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import subprocess
import sys
from html import unescape
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from mkdocs.exceptions import PluginError

from bench import report
from tests.docs.conftest import DOCS


def load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_performance_hook", DOCS / "hooks" / "performance.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


hook = load_hook()
PAGE = (DOCS / "performance.md").read_text("utf-8")


def results() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DOCS / "assets" / "performance.json").read_text("utf-8"))
    return data


def run_git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A git repository with a `ravyn/` folder and one commit."""
    run_git(tmp_path, "init", "-q")
    (tmp_path / "ravyn").mkdir()
    (tmp_path / "ravyn" / "core.py").write_text("x = 1\n")
    (tmp_path / "README.md").write_text("hello\n")
    run_git(tmp_path, "add", ".")
    run_git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


def measured_at(folder: Path) -> dict[str, Any]:
    sha = run_git(folder, "rev-parse", "HEAD")
    return {"commit": {"sha": sha, "short": sha[:7], "dirty": False}, "machine": {"date": "today"}}


def test_unchanged_code_is_said_to_be_unchanged(repository: Path) -> None:
    data = measured_at(repository)
    (repository / "README.md").write_text("other files do not count\n")
    changes = hook.changes_since(data, repository)

    assert changes == hook.Changes(built_from=data["commit"]["short"], commits=0, uncommitted=False)
    assert "has not changed since the measurement" in hook.provenance(data, changes)


def test_commits_that_touch_the_framework_are_counted(repository: Path) -> None:
    data = measured_at(repository)
    for value in (2, 3):
        (repository / "ravyn" / "core.py").write_text(f"x = {value}\n")
        run_git(repository, "commit", "-q", "-am", f"x = {value}")
    changes = hook.changes_since(data, repository)

    assert (changes.commits, changes.uncommitted) == (2, False)
    text = hook.provenance(data, changes)
    assert "has changed since the measurement (2 commits)" in text
    assert f"built from commit `{run_git(repository, 'rev-parse', '--short', 'HEAD')}`" in text


def test_uncommitted_edits_to_the_framework_are_reported(repository: Path) -> None:
    data = measured_at(repository)
    (repository / "ravyn" / "core.py").write_text("x = 'edited'\n")
    changes = hook.changes_since(data, repository)

    assert (changes.commits, changes.uncommitted) == (0, True)
    assert "(uncommitted edits)" in hook.provenance(data, changes)


def test_a_commit_missing_from_the_history_is_said_to_be_unknown(repository: Path) -> None:
    data = {"commit": {"sha": "f" * 40, "short": "fffffff", "dirty": False}, "machine": {"date": "today"}}

    assert hook.changes_since(data, repository) is None  # a shallow clone, say
    assert "could not compare" in hook.provenance(data, None)


def test_no_git_at_all_is_said_to_be_unknown(tmp_path: Path) -> None:
    data = {"commit": {"sha": "a" * 40, "short": "aaaaaaa", "dirty": False}, "machine": {"date": "today"}}

    assert hook.changes_since(data, tmp_path) is None


def test_the_block_is_drawn_from_the_results_not_from_the_page() -> None:
    data = results()
    stale = PAGE.replace("| ravyn (this repo) | 15,051 |", "| ravyn (this repo) | 1 |")
    drawn = hook.render_page(stale, data, hook.Changes("abc1234", 0, False))

    [row] = [row for row in data["load"] if row["scenario"] == "A" and row["contender"] == "ravyn"]
    assert f"| ravyn (this repo) | {row['best']['rps']:,.0f} |" in drawn
    assert "| ravyn (this repo) | 1 |" not in drawn
    assert "This site was built from commit `abc1234`" in drawn
    assert "had not changed since when this page was generated" not in drawn  # the bench's own wording
    assert "how-it-works.md#the-short-way-to-a-handler" not in drawn  # moved to the Internals page


def test_a_new_scenario_shows_up_in_the_tables_and_in_what_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    data = copy.deepcopy(results())
    data["settings"]["scenarios"].append("Z")
    data["load"] += [{**row, "scenario": "Z"} for row in data["load"] if row["scenario"] == "A"]
    monkeypatch.setitem(report.SCENARIO_TITLES, "Z", "Scenario Z: a scenario added later")

    drawn = hook.render_page(PAGE, data, hook.Changes("abc1234", 0, False))

    assert "**Scenario Z: a scenario added later**" in drawn
    what_runs = drawn.split("## What runs", 1)[1].split("\n## ", 1)[0]
    assert "- **Z**: a scenario added later." in what_runs
    assert what_runs.index("- **The quick start**") < what_runs.index("- **Z**")


def test_a_scenario_the_bench_cannot_title_fails_the_build_with_its_name() -> None:
    data = copy.deepcopy(results())
    data["settings"]["scenarios"].append("Q")
    data["load"] += [{**row, "scenario": "Q"} for row in data["load"] if row["scenario"] == "A"]

    with pytest.raises(PluginError, match=r"no 'Q'.*SCENARIO_TITLES"):
        hook.render_page(PAGE, data, None)


def test_a_page_without_its_block_fails_the_build() -> None:
    with pytest.raises(PluginError, match="lost its"):
        hook.render_page("# Performance\n", results(), None)


def test_the_built_page_says_what_changed_since_the_measurement(site: Path) -> None:
    html = (site / "performance" / "index.html").read_text("utf-8")
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html)))
    measured = json.loads((DOCS / "assets" / "performance.json").read_text("utf-8"))["commit"]["sha"]
    # asked of git here, apart from the hook: what the page must say about this checkout
    count = subprocess.run(
        ["git", "rev-list", "--count", f"{measured}..HEAD", "--", "ravyn"],
        cwd=DOCS.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    edited = subprocess.run(
        ["git", "status", "--porcelain", "--", "ravyn"],
        cwd=DOCS.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if count.returncode != 0:  # a shallow clone without the measured commit
        assert "could not compare" in text
    elif count.stdout.strip() == "0" and not edited.stdout.strip():
        assert "has not changed since the measurement" in text
    else:
        commits = int(count.stdout)
        said = f"{commits} commit{'s' if commits != 1 else ''}" if commits else "uncommitted edits"
        assert f"has changed since the measurement ({said}" in text, text[:3000]
    assert "the-short-way-to-a-handler" not in html
