"""The results as a table (stdout and the docs page), a JSON file and a chart."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

SCENARIO_TITLES = {
    "A": "Scenario A: POST /register, one background task",
    "B": "Scenario B: three background tasks, one of them sync",
    "C": "Scenario C: the same handler, no task",
    "G": "Scenario G: the guide's style, JSONResponse(background=BackgroundTask(...)), one async task",
    "Y": "Scenario Y: the guide's style, one sync task",
}
DOCS_START = "<!-- bench:results:start -->"
DOCS_END = "<!-- bench:results:end -->"


def _num(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def load_tables(results: dict[str, Any]) -> str:
    rounds = results["settings"]["rounds"]
    lines: list[str] = []
    for scenario in results["settings"]["scenarios"]:
        rows = [row for row in results["load"] if row["scenario"] == scenario]
        if not rows:
            continue
        lines += [
            f"**{SCENARIO_TITLES[scenario]}**",
            "",
            f"| contender | req/s (best of {rounds}) | spread | p50 ms | p99 ms | server CPU µs/req "
            "| ratio to Lilya | task runs / expected |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in rows:
            best = row["best"]
            runs = sum(r["task_runs"] for r in row["rounds"])
            expected = sum(r["expected_task_runs"] for r in row["rounds"])
            lines.append(
                f"| {row['label']} | {best['rps']:,.0f} | {row['spread_pct']:.0f}% | {best['p50_ms']:.1f} "
                f"| {best['p99_ms']:.1f} | {min(r['cpu_us'] for r in row['rounds']):.0f} "
                f"| {_num(row['ratio_to_lilya'], 2)} | {runs:,} / {expected:,} |"
            )
        lines.append("")
    return "\n".join(lines)


def quickstart_table(results: dict[str, Any]) -> str:
    rows = results.get("quickstart") or []
    if not rows:
        return ""
    lines = [
        "**The quick start's latency: a one-second task vs no task** "
        f"({rows[0]['no_task']['n']} requests each, one connection, one every "
        f"{results['settings']['probe_interval_s'] * 1000:.0f} ms)",
        "",
        "| contender | p50 ms, no task | p50 ms, 1 s task | ratio | p99 ms, no task | p99 ms, 1 s task "
        "| task runs / expected |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        none, slow = row["no_task"], row["one_second_task"]
        lines.append(
            f"| {row['label']} | {none['p50_ms']:.2f} | {slow['p50_ms']:.2f} | {row['ratio_p50']:.2f} "
            f"| {none['p99_ms']:.2f} | {slow['p99_ms']:.2f} "
            f"| {row['task_runs']} / {row['expected_task_runs']} |"
        )
    lines.append("")
    return "\n".join(lines)


def inprocess_table(results: dict[str, Any]) -> str:
    rows = results.get("inprocess") or []
    if not rows:
        return ""
    scenarios = list(dict.fromkeys(row["scenario"] for row in rows))
    labels = list(dict.fromkeys(row["label"] for row in rows))
    figure = {(row["label"], row["scenario"]): row["us_per_request"] for row in rows}
    lines = [
        "**The frameworks alone: CPU per in-process ASGI call, no server** "
        "(µs, best of the repeats; `bench/asgi_calls.py`)",
        "",
        "| contender | " + " | ".join(f"scenario {s}" for s in scenarios) + " |",
        "| --- |" + " ---: |" * len(scenarios),
    ]
    for label in labels:
        cells = [_num(figure.get((label, s))) for s in scenarios]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    profiled = [row for row in results.get("layers") or [] if row.get("layers")]
    if profiled:
        order = list(dict.fromkeys(layer for row in profiled for layer in row["layers"]))
        lines += [
            f"**Where the time goes, scenario {profiled[0]['scenario']}** (µs per call: the call's CPU "
            "time split by the share of pyinstrument samples in each layer's files; the standard "
            "library counts for its caller)",
            "",
            "| layer | " + " | ".join(row["label"] for row in profiled) + " |",
            "| --- |" + " ---: |" * len(profiled),
        ]
        for layer in order:
            cells = [_num(row["layers"].get(layer)) if layer in row["layers"] else "" for row in profiled]
            lines.append(f"| {layer} | " + " | ".join(cells) + " |")
        lines.append(
            "| **total** | " + " | ".join(f"**{row['us_per_request']:.1f}**" for row in profiled) + " |"
        )
        lines.append("")
    return "\n".join(lines)


def machine_table(results: dict[str, Any]) -> str:
    machine = results["machine"]
    settings = results["settings"]
    versions = ", ".join(f"{name} {version}" for name, version in sorted(results["versions"].items()))
    load_start = " / ".join(str(x) for x in machine["load_average_at_start"])
    load_end = " / ".join(str(x) for x in machine.get("load_average_at_end", []))
    return "\n".join(
        [
            "| | |",
            "| --- | --- |",
            f"| taken | {machine['date']}, `{settings['command']}` |",
            f"| CPU | {machine['cpu']}, {machine['nproc']} cores (nproc), {machine['memory_gib']} GiB |",
            f"| system | {machine['os']}, {machine['python']} |",
            f"| server | uvicorn `{' '.join(settings['uvicorn_args'])}`, one process, 127.0.0.1 |",
            f"| load | {settings['wrk']}, `-t{settings['wrk_threads']} -c{settings['connections']}`, "
            f"{settings['warmup_s']:g} s warm-up, "
            f"{settings['rounds']} rounds of {settings['duration_s']:g} s, "
            "contenders interleaved in each round |",
            f"| packages | {versions} |",
            f"| load average (1/5/15 min) | {load_start} at the start, {load_end} at the end |",
            "",
        ]
    )


def measured_commit(results: dict[str, Any]) -> dict[str, Any] | None:
    """The commit of this repository the results measured: `{"sha", "short", "dirty"}`.

    Results written before the commit had a field of its own carry it in the
    `ravyn (this repo)` version (`947e093`, `947e093 + uncommitted changes`).
    """
    commit = results.get("commit")
    if isinstance(commit, dict) and commit.get("sha"):
        return commit
    label = str(results.get("versions", {}).get("ravyn (this repo)", ""))
    short = label.split(" ", 1)[0]
    if not re.fullmatch(r"[0-9a-f]{7,40}", short):
        return None
    return {"sha": short, "short": short[:7], "dirty": "uncommitted" in label}


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def provenance(results: dict[str, Any]) -> str:
    """Which code was measured, and whether the framework has changed since."""
    commit = measured_commit(results)
    date = results["machine"]["date"]
    if commit is None:
        return f"Measured on {date}. These results do not record which commit they measured.\n"
    dirty = " with uncommitted changes to `ravyn/`" if commit.get("dirty") else ""
    text = f"Measured on {date}, on commit `{commit['short']}` of this repository{dirty}."
    changes = _git("rev-list", "--count", f"{commit['sha']}..HEAD", "--", "ravyn")
    if changes is not None and int(changes) > 0:
        text += (
            f" When this page was generated, the framework's code (`ravyn/`) had changed in {changes} "
            "commit(s) since: the figures for this Ravyn describe it as it was then. "
            "`python -m bench` measures it as it is now."
        )
    elif changes is not None:
        text += " The framework's code (`ravyn/`) had not changed since when this page was generated."
    return text + "\n"


def _cpu(row: dict[str, Any]) -> float:
    return float(min(r["cpu_us"] for r in row["rounds"]))


def _best_rps(row: dict[str, Any]) -> float:
    return float(row["best"]["rps"])


def _p99(row: dict[str, Any]) -> float:
    """The p99 of the best round, as the tables show it."""
    return float(row["best"]["p99_ms"])


def summary(results: dict[str, Any]) -> str:
    """What the numbers mean for someone choosing a framework, computed from the results."""
    load = {(row["scenario"], row["contender"]): row for row in results["load"]}
    ours, lilya = load.get(("A", "ravyn")), load.get(("A", "lilya"))
    points = []
    if ours:
        cpu = _cpu(ours)
        points.append(
            f"**The framework's cost is a fraction of a millisecond.** With one background task, this Ravyn "
            f"used {cpu:.0f} µs of server CPU per request, room for about {1e6 / cpu:,.0f} requests per "
            "second on one core before your handler does any work of its own. A handler that queries a "
            "database or calls another service usually spends longer than that on its own, so the "
            "differences below matter most for handlers that do very little."
        )
    scenario_a = sorted((row for row in results["load"] if row["scenario"] == "A"), key=_cpu)
    if len(scenario_a) > 1:
        ranking = ", ".join(f"{row['label']} {_cpu(row):.0f} µs" for row in scenario_a)
        points.append(f"**From cheapest to costliest** per request with one task, in this run: {ranking}.")
    if ours and lilya:
        extra = (_cpu(ours) / _cpu(lilya) - 1) * 100
        if extra >= 0:
            points.append(
                f"**Against Lilya**, the framework this Ravyn is built on, it used {extra:.0f}% more "
                "CPU per request with one task. What it runs on top is the task machinery this site "
                "describes: parameter binding, tasks run once each, failures logged by name, timeouts, "
                "retries, a drain at shutdown."
            )
        else:
            points.append(
                f"**Against Lilya**, the framework this Ravyn is built on, it used {-extra:.0f}% less "
                "CPU per request with one task, task machinery included: it serves its own routes "
                "without Lilya's middleware walk where that changes nothing, validates the body in one "
                "pass and runs a quick async task in the request's own asyncio task "
                "(see [how it works](how-it-works.md#the-short-way-to-a-handler))."
            )
    for scenario, what in (("G", "The guide's style"), ("Y", "A sync task")):
        mine, theirs = load.get((scenario, "ravyn")), load.get((scenario, "lilya"))
        if mine and theirs:
            ratio = _best_rps(mine) / _best_rps(theirs)
            points.append(
                f"**{what}** (scenario {scenario}): {_best_rps(mine):,.0f} requests per second against "
                f"Lilya's {_best_rps(theirs):,.0f} ({ratio:.2f}x), p99 {_p99(mine):.1f} ms against "
                f"{_p99(theirs):.1f} ms."
            )
    three = load.get(("B", "ravyn"))
    if ours and three:
        points.append(
            f"**More tasks cost more.** Three tasks instead of one, one of them a plain `def` run on a "
            f"worker thread, took this Ravyn from {_cpu(ours):.0f} to {_cpu(three):.0f} µs per request."
        )
    probe = next((row for row in results.get("quickstart") or [] if row["contender"] == "ravyn"), None)
    if probe:
        points.append(
            "**A slow task does not slow the client.** With a one-second task after each response, this "
            f"Ravyn's median latency was {probe['one_second_task']['p50_ms']:.2f} ms, against "
            f"{probe['no_task']['p50_ms']:.2f} ms with no task at all."
        )
    runs = [r for row in results["load"] for r in row["rounds"]]
    if runs and all(r["task_runs"] == r["expected_task_runs"] for r in runs):
        total = sum(r["task_runs"] for r in runs)
        points.append(
            f"**Every task ran.** Every contender ran every task of every request it was sent: "
            f"{total:,} task runs in all, each counted."
        )
    if not points:
        return ""
    return "\n".join(["**What the numbers say**", "", *(f"- {point}" for point in points), ""])


def markdown(results: dict[str, Any]) -> str:
    parts = (
        provenance(results),
        summary(results),
        machine_table(results),
        load_tables(results),
        quickstart_table(results),
        inprocess_table(results),
    )
    return "\n".join(part for part in parts if part)


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")


def update_docs(results: dict[str, Any], page: Path, chart_name: str) -> None:
    """Replace the generated block of the Performance page with these results."""
    text = page.read_text()
    if DOCS_START not in text or DOCS_END not in text:
        raise ValueError(f"{page} has no {DOCS_START} ... {DOCS_END} block to fill")
    block = (
        f"{DOCS_START}\n<!-- generated by `python -m bench` from assets/performance.json: do not edit -->\n\n"
    )
    block += markdown(results)
    block += f"\n![Requests per second by scenario and contender](assets/{chart_name})\n\n{DOCS_END}"
    pattern = re.compile(re.escape(DOCS_START) + ".*?" + re.escape(DOCS_END), re.S)
    page.write_text(pattern.sub(lambda _: block, text))


def write_chart(results: dict[str, Any], path: Path) -> None:
    """Grouped bars: best req/s per scenario and contender, whiskers down to the slowest round."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # keep text as text: smaller, searchable SVG
    plt.rcParams["svg.hashsalt"] = "ravyn-bench"  # stable ids, so a re-run diffs cleanly
    scenarios = [
        s for s in results["settings"]["scenarios"] if any(r["scenario"] == s for r in results["load"])
    ]
    contenders = list(dict.fromkeys(row["label"] for row in results["load"]))
    colours = ["#7b3fe4", "#3d8bd9", "#2aa876", "#e0a100", "#d9534f", "#777777"]
    fig, ax = plt.subplots(figsize=(9, 4.8))
    width = 0.8 / max(1, len(contenders))
    for index, label in enumerate(contenders):
        xs, heights, lows, ratios = [], [], [], []
        for position, scenario in enumerate(scenarios):
            row = next(
                (r for r in results["load"] if r["scenario"] == scenario and r["label"] == label), None
            )
            if row is None:
                continue
            xs.append(position + (index - (len(contenders) - 1) / 2) * width)
            heights.append(row["best"]["rps"])
            lows.append(row["best"]["rps"] - min(r["rps"] for r in row["rounds"]))
            ratios.append(row["ratio_to_lilya"])
        bars = ax.bar(
            xs,
            heights,
            width * 0.92,
            label=label,
            color=colours[index % len(colours)],
            yerr=[lows, [0] * len(lows)],
            capsize=2,
            error_kw={"elinewidth": 0.8, "ecolor": "#333333"},
        )
        for bar, ratio in zip(bars, ratios, strict=True):
            if ratio is not None:
                ax.annotate(
                    f"{ratio:.2f}x",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 3),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7,
                )
    ax.set_xticks(
        range(len(scenarios)), [SCENARIO_TITLES[s].split(": ", 1)[1] for s in scenarios], fontsize=8
    )
    ax.set_ylabel("requests per second (best round)")
    machine = results["machine"]
    ax.set_title(
        f"POST /register under uvicorn, wrk -c{results['settings']['connections']}; "
        "labels: ratio to plain Lilya\n"
        f"{machine['cpu']}, {machine['nproc']} cores, {machine['python']}, {machine['date']}",
        fontsize=9,
    )
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(fig)
