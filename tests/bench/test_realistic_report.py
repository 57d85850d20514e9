"""The report's realistic table and summary, and a partial run kept next to an earlier one.

From recorded results: `data/quick-rmpg.json` is a quick run
(`python -m bench --quick --scenarios R,M,P,G`) taken on a loaded, shared
machine: its figures mean nothing, its shape is a real run's. The Performance
page's results file stands for the earlier full run.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench import cli, merge, report

ROOT = Path(__file__).resolve().parents[2]
# a full run before scenarios R, M and P existed (the page's results file at b96d485), for the merges
PAGE_RESULTS: dict[str, Any] = json.loads((Path(__file__).parent / "data" / "full-b96d485.json").read_text())
QUICK: dict[str, Any] = json.loads((Path(__file__).parent / "data" / "quick-rmpg.json").read_text())


def row(results: dict[str, Any], scenario: str, contender: str) -> dict[str, Any]:
    return next(r for r in results["load"] if r["scenario"] == scenario and r["contender"] == contender)


def rps(results: dict[str, Any], scenario: str, contender: str) -> float:
    return float(row(results, scenario, contender)["best"]["rps"])


def test_the_realistic_table_puts_every_contender_against_starlette_and_the_bare_app() -> None:
    table = report.realistic_table(QUICK)
    lines = table.splitlines()
    assert "| req/s to Starlette | p99 to Starlette | of bare |" in lines[2]
    for scenario, title in (("R", "realistic app"), ("M", "middleware only"), ("P", "path parameter only")):
        starlette, bare = rps(QUICK, scenario, "starlette"), rps(QUICK, scenario, "bare")
        p99 = row(QUICK, scenario, "starlette")["best"]["p99_ms"]
        for measured in (r for r in QUICK["load"] if r["scenario"] == scenario):
            best = measured["best"]
            cells = (
                f"| {scenario}: {title} | {measured['label']} | {best['rps']:,.0f} |",
                f"| {best['rps'] / starlette:.2f} | {best['p99_ms'] / p99:.2f} | {best['rps'] / bare:.0%} |",
            )
            assert any(all(cell in line for cell in cells) for line in lines), cells
    assert "| G" not in table  # the /register scenarios keep their own tables
    assert "**Scenario G" in report.load_tables(QUICK) and "**Scenario R" not in report.load_tables(QUICK)


def test_the_table_says_n_a_where_starlette_or_the_bare_app_did_not_run() -> None:
    alone = copy.deepcopy(QUICK)
    alone["load"] = [r for r in alone["load"] if r["contender"] not in ("starlette", "bare")]
    line = next(ln for ln in report.realistic_table(alone).splitlines() if "| R: realistic app | ravyn" in ln)
    assert line.count("| n/a ") == 3


def test_the_summary_leads_with_the_typical_app_next_to_the_best_case() -> None:
    results = merge.keep_earlier(QUICK, PAGE_RESULTS)
    text = report.summary(results)
    first = text.splitlines()[2]
    ours, theirs, bare = (rps(results, "R", c) for c in ("ravyn", "starlette", "bare"))
    assert first.startswith("- **A typical app** (scenario R: a CORS middleware, four routes")
    assert (
        f"this Ravyn served {ours:,.0f} requests per second, {ours / theirs:.2f}x Starlette's {theirs:,.0f}"
        in first
    )
    assert f"that is {ours / bare:.0%} of the {bare:,.0f} a bare ASGI app" in first
    # the best case: the same handler on a static path with no middleware (G), not the
    # sync-task scenario Y, whose ratio measures thread pools
    ratio = rps(results, "G", "ravyn") / rps(results, "G", "starlette")
    assert "In the best case, scenario G (the guide's style" in first
    assert f"it served {ratio:.2f}x Starlette's requests per second." in first
    without_g = copy.deepcopy(results)
    without_g["load"] = [r for r in without_g["load"] if r["scenario"] != "G"]
    ratio_a = rps(results, "A", "ravyn") / rps(results, "A", "starlette")
    text_a = report.summary(without_g)
    assert "In the best case, scenario A (POST /register, one background task: a static path" in text_a
    assert f"it served {ratio_a:.2f}x Starlette's" in text_a
    second = text.splitlines()[3]
    assert second.startswith("- **Its parts alone**: with middleware only (scenario M), ")
    assert "with a path parameter only (scenario P), " in second


def test_without_a_realistic_run_the_summary_has_no_typical_app_line() -> None:
    assert "typical app" not in report.summary(PAGE_RESULTS)
    assert report.realistic_table(PAGE_RESULTS) == ""


def test_a_partial_run_keeps_the_other_scenarios_and_names_the_run_they_come_from() -> None:
    merged = merge.keep_earlier(QUICK, PAGE_RESULTS)
    assert report.shown_scenarios(merged) == ["A", "B", "C", "G", "Y", "R", "M", "P"]
    for measured in merged["load"] + merged["inprocess"]:
        kept = measured["scenario"] not in QUICK["settings"]["scenarios"]
        assert ("measured" in measured) is kept
        if kept:
            assert measured["measured"]["commit"]["short"] == PAGE_RESULTS["commit"]["short"]
    # G was re-run: only the new figures remain
    assert [r["contender"] for r in merged["load"] if r["scenario"] == "G"] == [
        r["contender"] for r in QUICK["load"] if r["scenario"] == "G"
    ]
    assert merged["quickstart"] == QUICK["quickstart"]  # measured again, not kept
    text = report.provenance(merged)
    assert (
        f"Scenarios A, B, C and Y (with their in-process figures) come from an earlier run "
        f"(`python -m bench`, {PAGE_RESULTS['machine']['date']}, on commit "
        f"`{PAGE_RESULTS['commit']['short']}`), kept because this run did not measure them again."
    ) in text
    page = report.markdown(merged)
    assert "**Scenario A: POST /register, one background task**" in page and "| R: realistic app |" in page


def test_figures_kept_twice_still_name_the_run_that_measured_them() -> None:
    first = merge.keep_earlier(QUICK, PAGE_RESULTS)
    only_m = copy.deepcopy(QUICK)
    only_m["settings"]["scenarios"] = ["M"]
    only_m["load"] = [r for r in only_m["load"] if r["scenario"] == "M"]
    only_m["inprocess"] = [r for r in only_m["inprocess"] if r["scenario"] == "M"]
    only_m["machine"]["date"] = "2030-01-01 00:00 UTC"
    second = merge.keep_earlier(only_m, first)
    runs = {r["scenario"]: r.get("measured", {}).get("date") for r in second["load"]}
    assert runs["A"] == PAGE_RESULTS["machine"]["date"]
    assert runs["R"] == runs["P"] == runs["G"] == QUICK["machine"]["date"]
    assert runs["M"] is None
    assert len(report.kept_runs(second)) == 2


def test_a_run_of_every_scenario_keeps_nothing() -> None:
    merged = merge.keep_earlier(QUICK, QUICK)
    assert merged["load"] == QUICK["load"] and merged["inprocess"] == QUICK["inprocess"]
    assert "earlier run" not in report.provenance(merged)


@pytest.mark.parametrize("fresh", [False, True])
def test_the_cli_keeps_the_earlier_results_file_unless_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh: bool
) -> None:
    (tmp_path / "performance.json").write_text(json.dumps(PAGE_RESULTS))
    page = tmp_path / "performance.md"
    page.write_text(f"# Performance\n\n{report.DOCS_START}\nold\n{report.DOCS_END}\n")
    monkeypatch.setattr(cli, "run", lambda args: copy.deepcopy(QUICK))  # no measuring here
    argv = ["--scenarios", "R,M,P,G", "--out", str(tmp_path), "--docs", str(page), "--no-chart"]
    assert cli.main(argv + (["--fresh"] if fresh else [])) == 0
    written = json.loads((tmp_path / "performance.json").read_text())
    assert report.shown_scenarios(written) == (
        ["G", "R", "M", "P"] if fresh else ["A", "B", "C", "G", "Y", "R", "M", "P"]
    )
    assert ("come from an earlier run" in page.read_text()) is not fresh
    assert "**A typical app**" in page.read_text()


@pytest.mark.parametrize(
    "earlier",
    ["not json {", "[]", '{"load": "x"}', '{"load": [{"scenario": "Q"}]}', '{"machine": {}}'],
    ids=["not-json", "a-list", "load-not-rows", "unknown-scenario", "no-load"],
)
def test_an_earlier_file_that_is_not_results_is_left_out_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], earlier: str
) -> None:
    (tmp_path / "performance.json").write_text(earlier)
    monkeypatch.setattr(cli, "run", lambda args: copy.deepcopy(QUICK))
    assert cli.main(["--scenarios", "R,M,P,G", "--out", str(tmp_path), "--no-docs", "--no-chart"]) == 0
    assert "cannot be read as results" in capsys.readouterr().out
    assert json.loads((tmp_path / "performance.json").read_text())["load"] == QUICK["load"]


def test_the_chart_names_every_scenario_and_the_run_kept_scenarios_come_from(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    chart = tmp_path / "performance.svg"
    merged = merge.keep_earlier(QUICK, PAGE_RESULTS)
    report.write_chart(merged, chart)
    svg = chart.read_text()
    # every scenario with figures (the page's results may predate scenario D, measured apart)
    for scenario in report.shown_scenarios(merged):
        words = report.SHORT_TITLES[scenario]
        assert f"{scenario}: {words}".replace("'", "&#x27;") in svg or f"{scenario}: {words}" in svg
    assert f"(scenario(s) A, B, C, Y: kept from the run of {PAGE_RESULTS['machine']['date']})" in svg
    assert "bare ASGI app" in svg
