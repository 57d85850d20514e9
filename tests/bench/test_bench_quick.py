"""The benchmark's quick mode, on two contenders with 1 s runs, so its code cannot rot.

It starts real uvicorn servers on 127.0.0.1 and loads them with wrk, checks
that every request's tasks ran, and writes the JSON results and the chart into
a temporary folder. PyPI's ravyn (which needs a venv of its own), Starlette
and FastAPI are left out; the full run is `python -m bench`, never run here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest

from bench.cli import main

# CI installs wrk (scripts/test): there a missing wrk fails the test instead of skipping it
pytestmark = pytest.mark.skipif(
    shutil.which("wrk") is None and os.environ.get("CI") != "true",
    reason="wrk is not installed (apt-get install wrk)",
)


def test_quick_mode_measures_and_counts_every_task(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fast = importlib.util.find_spec("uvloop") and importlib.util.find_spec("httptools")
    chart = importlib.util.find_spec("matplotlib") is not None
    argv = ["--quick", "--contenders", "ravyn,lilya", "--scenarios", "A,G,C"]
    argv += ["--rounds", "1", "--warmup", "0"]
    argv += ["--probe-requests", "5", "--inprocess-requests", "200"]
    argv += ["--out", str(tmp_path), "--server", "fast" if fast else "plain"]
    argv += [] if chart else ["--no-chart"]
    assert main(argv) == 0, capsys.readouterr().err

    results = json.loads((tmp_path / "performance.json").read_text())
    assert results["mode"] == "quick"
    assert [(row["scenario"], row["contender"]) for row in results["load"]] == [
        ("A", "ravyn"),
        ("A", "lilya"),
        ("G", "ravyn"),
        ("G", "lilya"),
        ("C", "ravyn"),
        ("C", "lilya"),
    ]
    for row in results["load"]:
        (run,) = row["rounds"]
        assert run["rps"] > 0 and 0 < run["p50_ms"] <= run["p99_ms"]
        tasks_per_request = 1 if row["scenario"] in ("A", "G") else 0
        assert run["task_runs"] == run["expected_task_runs"] == run["sent"] * tasks_per_request
        assert run["completed"] <= run["sent"] <= run["completed"] + results["settings"]["connections"]
        if row["contender"] == "lilya":
            assert row["ratio_to_lilya"] == 1.0
    for row in results["quickstart"]:
        assert row["task_runs"] == row["expected_task_runs"] > 0
        # the one-second task is not on the client's path
        assert row["one_second_task"]["p50_ms"] < 500
    out = capsys.readouterr().out
    assert "Scenario A: POST /register, one background task" in out
    assert "Scenario G: the guide's style" in out
    assert "| ravyn (this repo) |" in out
    if chart:
        assert (tmp_path / "performance.svg").read_text().lstrip().startswith("<?xml")

    # the docs block is redrawn from the results file, the rest of the page kept
    page = tmp_path / "performance.md"
    page.write_text(
        "# Performance\n\n<!-- bench:results:start -->\nold\n<!-- bench:results:end -->\n\nProse.\n"
    )
    assert main(["--render", str(tmp_path / "performance.json"), "--docs", str(page), "--no-chart"]) == 0
    text = page.read_text()
    assert "old" not in text and text.endswith("<!-- bench:results:end -->\n\nProse.\n")
    assert "| ravyn (this repo) |" in text and "ravyn (this repo) " in text.split("| packages |")[1]


def test_quick_mode_loads_a_realistic_scenario_and_skips_who_does_not_serve_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fast = importlib.util.find_spec("uvloop") and importlib.util.find_spec("httptools")
    argv = ["--quick", "--contenders", "ravyn,bare", "--scenarios", "C,R", "--rounds", "1", "--warmup", "0"]
    argv += ["--no-quickstart", "--inprocess-requests", "200", "--no-chart"]
    argv += ["--out", str(tmp_path), "--server", "fast" if fast else "plain"]
    assert main(argv) == 0, capsys.readouterr().err

    results = json.loads((tmp_path / "performance.json").read_text())
    assert [(row["scenario"], row["contender"]) for row in results["load"]] == [
        ("C", "ravyn"),
        ("R", "ravyn"),
        ("R", "bare"),
    ]
    for row in results["load"]:
        (run,) = row["rounds"]
        tasks_per_request = 0 if row["scenario"] == "C" else 1
        assert run["task_runs"] == run["expected_task_runs"] == run["sent"] * tasks_per_request
    bare = next(row for row in results["load"] if row["contender"] == "bare")
    assert bare["share_of_bare"] == 1.0 and bare["ratio_to_starlette"] is None
    assert [(row["scenario"], row["contender"]) for row in results["inprocess"]] == [
        ("C", "ravyn"),
        ("R", "ravyn"),
        ("R", "bare"),
    ]
    out = capsys.readouterr().out
    assert "scenario C: skipping bare ASGI app, whose app does not serve scenario C" in out
    assert "in-process C: skipping bare ASGI app" in out
    assert "| R: realistic app | bare ASGI app |" in out
