"""The Performance page's generated text: which commit was measured, and what the numbers say."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

from bench import report
from bench.cli import measured_commit

ROOT = Path(__file__).resolve().parents[2]
PAGE_RESULTS: dict[str, Any] = json.loads((ROOT / "docs" / "assets" / "performance.json").read_text())
"""The results the Performance page shows now."""
OLD_RUN = Path(__file__).parent / "data" / "performance-947e093.json"
RESULTS: dict[str, Any] = json.loads(OLD_RUN.read_text())
"""A full run of 947e093, kept as it was written: before results had a `commit` field."""


def head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()


def test_a_run_records_the_commit_it_measures() -> None:
    commit = measured_commit()
    assert commit is not None and commit["sha"] == head() and commit["short"] == head()[:7]


def test_the_page_names_the_commit_of_results_without_a_commit_field() -> None:
    assert "commit" not in RESULTS  # written before the field existed: read from the version label
    commit = report.measured_commit(RESULTS)
    assert commit == {"sha": "947e093", "short": "947e093", "dirty": False}
    assert "on commit `947e093` of this repository" in report.provenance(RESULTS)


def test_the_page_says_when_ravyn_has_changed_since_the_measured_commit() -> None:
    results = {**RESULTS, "commit": {"sha": head(), "short": head()[:7], "dirty": False}}
    assert "had not changed since" in report.provenance(results)
    changed = report.provenance(RESULTS)  # 947e093: ravyn/ has had commits since
    assert "had changed in" in changed and "python -m bench" in changed


def test_the_summary_is_computed_from_the_results() -> None:
    text = report.summary(RESULTS)
    assert "this Ravyn used 316 µs of server CPU per request" in text
    assert "Starlette 1.10.0 170 µs, Lilya 0.29.0 288 µs" in text  # cheapest first
    assert "it used 10% more CPU" in text
    assert "Every task ran" in text

    lost = copy.deepcopy(RESULTS)
    lost["load"][0]["rounds"][0]["task_runs"] -= 1
    assert "Every task ran" not in report.summary(lost)


def test_the_page_is_the_rendering_of_its_results_file() -> None:
    page = (ROOT / "docs" / "performance.md").read_text()
    block = page[page.index(report.DOCS_START) : page.index(report.DOCS_END)]
    assert report.summary(PAGE_RESULTS) in block
    commit = report.measured_commit(PAGE_RESULTS)
    assert commit is not None and f"on commit `{commit['short']}`" in block


def test_the_summary_says_less_when_ravyn_is_cheaper_and_compares_the_guides_style() -> None:
    cheaper = copy.deepcopy(RESULTS)
    for row in cheaper["load"]:
        if row["contender"] == "ravyn":
            for measured in row["rounds"]:
                measured["cpu_us"] = 100.0
    guide = [copy.deepcopy(row) for row in cheaper["load"] if row["scenario"] == "A"]
    for row in guide:
        row["scenario"] = "G"
    cheaper["load"] += guide
    text = report.summary(cheaper)
    assert "less CPU per request with one task" in text and "more CPU" not in text
    ours = next(row for row in guide if row["contender"] == "ravyn")
    lilya = next(row for row in guide if row["contender"] == "lilya")
    ratio = ours["best"]["rps"] / lilya["best"]["rps"]
    assert f"**The guide's style** (scenario G): {ours['best']['rps']:,.0f} requests per second" in text
    assert f"({ratio:.2f}x), p99 {ours['best']['p99_ms']:.1f} ms" in text
