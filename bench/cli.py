"""`python -m bench [--quick]`: run every contender through every scenario.

Full mode: 2 s warm-up, then 3 rounds of 5 s per scenario (the contenders
take turns within each round, so a noisy neighbour hurts them alike), the
quick start's latency probe, then results into docs/assets/performance.json,
docs/assets/performance.svg and the table of docs/performance.md.
Quick mode: 1 s runs, results into a temporary folder unless --out is given.

A contender whose app does not serve a scenario (the bare ASGI app serves the
realistic R, M and P only) is skipped there, with a line saying so. When the
results folder already holds a performance.json, the scenarios this run does
not measure keep their figures from it, scenario by scenario (the page says
which run they come from); `--fresh` drops them instead.

`python -m bench --durability [--quick] ...` runs the durability harness
instead (`bench.durability`, with its own options).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import machine, merge, report
from bench.contenders import BENCH_DIR, BenchError, Contender, prepare
from bench.load import Run, run_wrk, wrk_version
from bench.server import Server, serve, uvicorn_args

ROOT = BENCH_DIR.parent
CONTENDERS = ["ravyn", "lilya", "starlette", "fastapi", "pypi-ravyn", "bare"]
SCENARIOS = "A,B,C,G,Y,R,M,P"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 s runs, a few seconds per contender")
    parser.add_argument(
        "--durability",
        action="store_true",
        help="run the kill harness instead (python -m bench.durability; its options follow)",
    )
    parser.add_argument(
        "--contenders", default=",".join(CONTENDERS), help="comma-separated, from %(default)s"
    )
    parser.add_argument(
        "--scenarios",
        default=SCENARIOS,
        help="comma-separated, from %(default)s (G and Y: the guide's JSONResponse(background=...) style; "
        "R, M and P: a realistic app, its middleware only, its path parameter only)",
    )
    parser.add_argument("--duration", type=int, help="seconds per round (full 5, quick 1)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up per server (full 2, quick 1)")
    parser.add_argument("--rounds", type=int, help="rounds per scenario; the best is reported (default 3)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--no-quickstart", action="store_true", help="skip the one-second-task latency probe")
    parser.add_argument(
        "--no-inprocess", action="store_true", help="skip the in-process CPU and profile tables"
    )
    parser.add_argument(
        "--inprocess-requests", type=int, help="ASGI calls per in-process measure (full 10000)"
    )
    parser.add_argument(
        "--probe-requests", type=int, help="timed requests per probe round (full 40, quick 10)"
    )
    parser.add_argument("--probe-interval", type=float, default=0.05, help="seconds between probe requests")
    parser.add_argument(
        "--server",
        choices=["fast", "plain"],
        default="fast",
        help="fast: uvloop + httptools for every contender; plain: asyncio + h11 for every contender",
    )
    parser.add_argument("--out", type=Path, help="folder for performance.json and the chart")
    parser.add_argument("--docs", type=Path, help="the page whose results block is rewritten")
    parser.add_argument("--no-docs", action="store_true", help="leave the docs page alone")
    parser.add_argument("--no-chart", action="store_true")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="write only this run's scenarios, dropping the figures an earlier performance.json "
        "in the results folder holds for the others",
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="measure nothing: redraw the table, chart and docs block from a results file",
    )
    args = parser.parse_args(argv)
    args.command = " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
    quick = args.quick
    args.duration = args.duration or (1 if quick else 5)
    args.warmup = args.warmup if args.warmup is not None else (1 if quick else 2)
    args.rounds = args.rounds or 3
    args.probe_requests = args.probe_requests or (10 if quick else 40)
    args.inprocess_requests = args.inprocess_requests or (500 if quick else 10000)
    args.contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    args.scenarios = [s.strip().upper() for s in args.scenarios.split(",") if s.strip()]
    if not args.scenarios or not set(args.scenarios) <= set(report.SCENARIO_TITLES):
        parser.error(f"--scenarios takes {', '.join(report.SCENARIO_TITLES)}")
    if args.out is None:
        args.out = Path(tempfile.mkdtemp(prefix="bench-")) if quick else ROOT / "docs" / "assets"
    if args.docs is None and not quick and not args.no_docs:
        args.docs = ROOT / "docs" / "performance.md"
    if args.no_docs:
        args.docs = None
    return args


def say(message: str) -> None:
    print(message, flush=True)


def summarise(rounds: list[Run]) -> dict[str, Any]:
    best = max(rounds, key=lambda run: run.rps)
    slowest = min(run.rps for run in rounds)
    return {
        "best": best.as_dict(),
        "rounds": [run.as_dict() for run in rounds],
        "spread_pct": (best.rps - slowest) / best.rps * 100,
    }


def load_scenario(
    scenario: str, contenders: list[Contender], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Every contender that serves the scenario through it: warm-up, then rounds taken in turns."""
    fast = args.server == "fast"
    contenders = serving(contenders, scenario)
    if not contenders:
        return []
    runs: dict[str, list[Run]] = {c.name: [] for c in contenders}
    with ExitStack() as stack:
        servers: list[Server] = [stack.enter_context(serve(c, scenario, fast)) for c in contenders]
        for server in servers:
            server.check_register()
            if args.warmup:
                run_wrk(server, args.warmup, args.connections, args.wrk_threads)
        for round_index in range(args.rounds):
            shift = round_index % len(servers)
            for server in servers[shift:] + servers[:shift]:
                run = run_wrk(server, args.duration, args.connections, args.wrk_threads)
                runs[server.contender.name].append(run)
                say(
                    f"    {scenario} round {round_index + 1}: {server.contender.label:<22} "
                    f"{run.rps:>9,.0f} req/s  p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:7.2f} ms  "
                    f"cpu {run.cpu_us:4.0f} us/req  "
                    f"tasks {run.task_runs}/{run.expected_task_runs} "
                    f"(sent {run.sent}, completed {run.completed})"
                )
    rows = []
    for contender in contenders:
        rows.append(
            {
                "scenario": scenario,
                "contender": contender.name,
                "label": contender.label,
                **summarise(runs[contender.name]),
            }
        )
    report.add_ratios(rows)
    return rows


def serving(contenders: list[Contender], scenario: str, what: str = "") -> list[Contender]:
    """The contenders whose app serves `scenario`; a line for each one skipped."""
    chosen = []
    for contender in contenders:
        if contender.serves(scenario):
            chosen.append(contender)
        else:
            say(
                f"    {what or 'scenario ' + scenario}: skipping {contender.label}, "
                f"whose app does not serve scenario {scenario}"
            )
    return chosen


def probe(server: Server, args: argparse.Namespace) -> tuple[list[float], int]:
    command = [
        sys.executable,
        "-m",
        "bench.probe",
        "--port",
        str(server.port),
        "--requests",
        str(args.probe_requests),
        "--interval",
        str(args.probe_interval),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise BenchError(f"the probe failed against {server.contender.name}:\n{done.stderr}")
    result = json.loads(done.stdout)
    bad = [status for status in result["statuses"] if not 200 <= status < 300]
    if bad:
        raise BenchError(f"{server.contender.name}: the probe got statuses {bad}")
    return list(result["latencies_ms"]), int(result["sent"])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def quickstart(contender: Contender, args: argparse.Namespace) -> dict[str, Any]:
    """The quick start's latency with a one-second task (scenario S) against no task (C)."""
    fast = args.server == "fast"
    with serve(contender, "C", fast) as plain, serve(contender, "S", fast) as slow:
        samples: dict[str, list[float]] = {"C": [], "S": []}
        slow_before, plain_before, slow_sent = slow.count(), plain.count(), 0
        for _ in range(args.rounds):
            samples["C"] += probe(plain, args)[0]
            latencies, sent = probe(slow, args)
            samples["S"] += latencies
            slow_sent += sent
        plain.wait_for_count(plain_before)
        runs = slow.wait_for_count(slow_before + slow_sent, timeout=30) - slow_before

    def stats(values: list[float]) -> dict[str, Any]:
        return {"n": len(values), "p50_ms": statistics.median(values), "p99_ms": percentile(values, 99)}

    none, one_second = stats(samples["C"]), stats(samples["S"])
    return {
        "contender": contender.name,
        "label": contender.label,
        "no_task": none,
        "one_second_task": one_second,
        "ratio_p50": one_second["p50_ms"] / none["p50_ms"],
        "task_runs": runs,
        "expected_task_runs": slow_sent,
    }


def inprocess(contender: Contender, scenario: str, args: argparse.Namespace, layers: bool) -> dict[str, Any]:
    """CPU per in-process ASGI call (bench/asgi_calls.py, in the contender's venv), by layer if asked."""
    command = [str(contender.python), str(BENCH_DIR / "asgi_calls.py"), contender.module, scenario, "--json"]
    command += ["--requests", str(args.inprocess_requests), "--repeats", "1" if args.quick else "3"]
    command += ["--breakdown"] if layers else []
    done = subprocess.run(
        command,
        cwd=BENCH_DIR / "apps",
        env=contender.env(scenario),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise BenchError(f"in-process measure of {contender.name} {scenario} failed:\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    best = figures["us_per_request"]
    return {
        "contender": contender.name,
        "label": contender.label,
        "scenario": scenario,
        "us_per_request": best if layers else min(best),
        "layers": figures.get("layers"),
    }


def checkout() -> str:
    """The commit of this checkout, and whether ravyn/ differs from it, as a label."""
    commit = measured_commit()
    if commit is None:
        return "unknown"
    return f"{commit['short']}{' + uncommitted changes' if commit['dirty'] else ''}"


def measured_commit() -> dict[str, Any] | None:
    """The commit being measured (`git rev-parse HEAD`), and whether `ravyn/` differs from it."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "ravyn"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"sha": sha, "short": sha[:7], "dirty": bool(dirty)} if sha else None


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if "--durability" in given:
        # the kill harness has its own options: everything else given goes to it
        from bench import durability

        return durability.main([arg for arg in given if arg != "--durability"])
    args = parse_args(argv)
    started = time.monotonic()
    if args.render is not None:
        results = json.loads(args.render.read_text())
        args.out = args.render.parent
        args.docs = None if args.no_docs else (args.docs or ROOT / "docs" / "performance.md")
    else:
        try:
            results = run(args)
        except BenchError as exc:
            print(f"\nBENCH FAILED: {exc}", file=sys.stderr)
            return 1
        earlier_path = args.out / "performance.json"
        if not args.fresh and earlier_path.exists():
            results = keep_earlier(results, earlier_path)
    table = report.markdown(results)
    print("\n" + table)
    args.out.mkdir(parents=True, exist_ok=True)
    json_path = args.out / "performance.json"
    if args.render is None:
        report.write_json(results, json_path)
        say(f"==> results: {json_path}")
    chart = args.out / "performance.svg"
    if not args.no_chart:
        report.write_chart(results, chart)
        say(f"==> chart: {chart}")
    if args.docs is not None:
        report.update_docs(results, args.docs, chart.name)
        say(f"==> table: {args.docs}")
    say(f"==> done in {time.monotonic() - started:.0f} s")
    return 0


def keep_earlier(results: dict[str, Any], path: Path) -> dict[str, Any]:
    """This run's results with the figures `path` holds for the scenarios it did not measure.

    A file that cannot be read as results is left out with a line saying so:
    the run's own figures are never lost to an old file.
    """
    try:
        merged = merge.keep_earlier(results, json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        say(f"==> not keeping the figures of {path}: it cannot be read as results ({exc!r}); use --fresh")
        return results
    kept = [s for s in report.shown_scenarios(merged) if s not in results["settings"]["scenarios"]]
    if kept:
        say(f"==> kept from {path} (this run did not measure them): scenario(s) {', '.join(kept)}")
    return merged


def run(args: argparse.Namespace) -> dict[str, Any]:
    fast = args.server == "fast"
    wrk = wrk_version()
    say(f"==> contenders: {', '.join(args.contenders)}")
    contenders = prepare(args.contenders, fast)
    if not any(c.serves(s) for c in contenders for s in args.scenarios):
        raise BenchError(
            f"nothing to measure: none of {', '.join(args.contenders)} serves scenario(s) "
            f"{', '.join(args.scenarios)} (the bare ASGI app serves R, M and P only): "
            "add a framework to --contenders or choose other --scenarios"
        )
    results: dict[str, Any] = {
        "schema": 1,
        "mode": "quick" if args.quick else "full",
        "machine": machine.describe(),
        "settings": {
            "command": args.command,
            "scenarios": args.scenarios,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "connections": args.connections,
            "wrk_threads": args.wrk_threads,
            "wrk": wrk,
            "uvicorn_args": uvicorn_args(fast),
            "probe_requests": args.probe_requests,
            "probe_interval_s": args.probe_interval,
        },
        "contenders": {c.name: {"label": c.label, "versions": c.versions} for c in contenders},
        "commit": measured_commit(),
        "versions": {"ravyn (this repo)": checkout()},
        "load": [],
        "quickstart": [],
        "inprocess": [],
        "layers": [],
    }
    for contender in contenders:
        for package, version in contender.versions.items():
            if package == "ravyn-background-guide":
                continue
            key = "ravyn (PyPI)" if package == "ravyn" else package
            results["versions"][key] = version
    for scenario in args.scenarios:
        say(f"==> scenario {scenario}: {report.SCENARIO_TITLES[scenario]}")
        results["load"] += load_scenario(scenario, contenders, args)
    if not args.no_quickstart:
        say("==> the quick start: a one-second task vs no task")
        quick_start = serving(serving(contenders, "C", "the quick start"), "S", "the quick start")
        for contender in quick_start:
            row = quickstart(contender, args)
            results["quickstart"].append(row)
            say(
                f"    {contender.label:<22} p50 {row['no_task']['p50_ms']:.2f} ms without a task, "
                f"{row['one_second_task']['p50_ms']:.2f} ms with one (ratio {row['ratio_p50']:.2f}); "
                f"tasks {row['task_runs']}/{row['expected_task_runs']}"
            )
    if not args.no_inprocess:
        say("==> in-process: CPU per ASGI call, no server (bench/asgi_calls.py)")
        for scenario in args.scenarios:
            for contender in serving(contenders, scenario, f"in-process {scenario}"):
                row = inprocess(contender, scenario, args, layers=False)
                results["inprocess"].append(row)
                say(f"    {scenario}: {contender.label:<22} {row['us_per_request']:7.1f} us per call")
        scenario = "G" if "G" in args.scenarios else args.scenarios[0]  # the guide's own style
        for contender in contenders:
            # PyPI's ravyn: its venv has no profiler
            if contender.name != "pypi-ravyn" and contender.serves(scenario):
                results["layers"].append(inprocess(contender, scenario, args, layers=True))
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return results
