"""Which contender serves which scenario, and which ravyn each one's processes import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import cli
from bench.apps.shapes import RAVYN_ONLY, REALISTIC, SHAPES
from bench.contenders import APPS_DIR, all_contenders

ROOT = Path(__file__).resolve().parents[2]


def test_the_bare_app_serves_the_realistic_scenarios_only_and_the_frameworks_all_but_ours_alone() -> None:
    contenders = all_contenders()
    assert {s for s in SHAPES if contenders["bare"].serves(s)} == set(REALISTIC)
    assert all(contenders["ravyn"].serves(s) for s in SHAPES)
    for name in ("lilya", "starlette", "fastapi", "pypi-ravyn"):
        assert {s for s in SHAPES if contenders[name].serves(s)} == set(SHAPES) - set(RAVYN_ONLY), name


def test_the_durable_scenario_is_measured_for_our_ravyn_only_and_the_others_are_skipped_saying_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    kept = cli.serving(list(all_contenders().values()), "D")
    assert [c.name for c in kept] == ["ravyn"]
    out = capsys.readouterr().out
    assert "skipping Starlette" in out and "does not serve scenario D" in out


def test_scenario_d_runs_a_durable_task_recorded_in_its_journal_before_the_answer() -> None:
    """One call of D's request: a 200, its task ran, and the app's journal counted it as durable."""
    env = {"BENCH_SCENARIO": "D", "PYTHONPATH": f"{ROOT}:{APPS_DIR}"}
    script = (
        "import asyncio, sqlite3\n"
        "import ravyn_app, scenario\n"
        "from bench import asgi_calls\n"
        "async def main():\n"
        "    async with ravyn_app.app.router.lifespan_context(ravyn_app.app):\n"
        "        sent = await asgi_calls.call(ravyn_app.app, 'D')\n"
        "    print(sent[0]['status'], len(scenario.runs), ravyn_app.app.task_stats()['durable_recorded'])\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["200", "1", "1"]


def test_a_contender_that_does_not_serve_a_scenario_is_skipped_with_a_line_saying_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    contenders = list(all_contenders().values())
    kept = cli.serving(contenders, "G")
    assert [c.name for c in kept] == ["ravyn", "lilya", "starlette", "fastapi", "pypi-ravyn"]
    assert capsys.readouterr().out == (
        "    scenario G: skipping bare ASGI app, whose app does not serve scenario G\n"
    )
    assert [c.name for c in cli.serving(contenders, "R")] == [c.name for c in contenders]
    assert capsys.readouterr().out == ""
    assert cli.serving(contenders[-1:], "S", "the quick start") == []
    assert "the quick start: skipping bare ASGI app" in capsys.readouterr().out


def test_the_default_run_has_every_scenario_and_the_bare_contender() -> None:
    args = cli.parse_args([])
    assert args.scenarios == ["A", "B", "C", "G", "Y", "R", "M", "P"]
    assert "bare" in args.contenders and not args.fresh
    assert cli.parse_args(["--scenarios", "r, m,p,g", "--fresh"]).scenarios == ["R", "M", "P", "G"]


@pytest.mark.parametrize("scenarios", ["Q", "R,X", ","])
def test_an_unknown_scenario_is_an_error_naming_the_choices(
    scenarios: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.parse_args(["--scenarios", scenarios])
    assert exited.value.code == 2
    assert "--scenarios takes A, B, C, G, Y, R, M, P" in capsys.readouterr().err


def test_our_ravyn_is_imported_from_this_checkout_and_no_other_contender_sees_it() -> None:
    # the venv's editable install may point at another checkout of the repository
    code = "import importlib.util; print(importlib.util.find_spec('ravyn').origin)"
    ours = all_contenders()["ravyn"].env("R")
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=APPS_DIR, env=ours, capture_output=True, text=True, timeout=60
    )
    assert Path(done.stdout.strip()) == ROOT / "ravyn" / "__init__.py"
    assert ours["BENCH_SCENARIO"] == "R"
    for name in ("lilya", "starlette", "fastapi", "pypi-ravyn", "bare"):
        assert "PYTHONPATH" not in all_contenders()[name].env("R"), name


def test_a_run_where_no_contender_serves_any_scenario_stops_saying_what_to_do(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "wrk_version", lambda: "wrk (not run)")
    assert cli.main(["--quick", "--contenders", "bare", "--scenarios", "A,G", "--no-chart"]) == 1
    err = capsys.readouterr().err
    assert "nothing to measure: none of bare serves scenario(s) A, G" in err
    assert "add a framework to --contenders or choose other --scenarios" in err


# pypi_ravyn_app imports PyPI's ravyn, which only its own venv (made by the first full run) has
@pytest.mark.parametrize("module", ["lilya_app", "starlette_app", "fastapi_app"])
def test_another_frameworks_app_asked_for_the_durable_scenario_refuses_it_by_name(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=APPS_DIR,
        env={"BENCH_SCENARIO": "D", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert f"{module} does not serve scenario D (a durable task): only ravyn_app does" in done.stderr
