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
    "R": "Scenario R: a realistic app, CORS middleware, four routes, "
    "POST /teams/{team_id:int}/signup with a model body, the guide's style",
    "M": "Scenario M: middleware only, CORS around the guide's POST /register",
    "P": "Scenario P: path parameters only, POST /teams/{team_id:int}/signup with a model body",
    "D": "Scenario D: scenario G's request with a durable task (durable=True, a journal in a temp folder)",
}
REALISTIC = ("R", "M", "P")
"""Shaped like a user's app; shown in a table of their own, against Starlette and a bare ASGI app."""
SHORT_TITLES = {
    "A": "one task",
    "B": "three tasks",
    "C": "no task",
    "G": "the guide's style",
    "Y": "one sync task",
    "R": "realistic app",
    "M": "middleware only",
    "P": "path parameter only",
    "D": "a durable task",
}
"""Each scenario in a few words: the realistic table's first column and the chart's labels."""
DOCS_START = "<!-- bench:results:start -->"
DOCS_END = "<!-- bench:results:end -->"


def _num(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def shown_scenarios(results: dict[str, Any]) -> list[str]:
    """The scenarios with figures in `results` (this run's and those kept from earlier), in page order."""
    present = {row["scenario"] for row in results["load"]}
    return [scenario for scenario in SCENARIO_TITLES if scenario in present]


def _row(results: dict[str, Any], scenario: str, contender: str) -> dict[str, Any] | None:
    return next(
        (r for r in results["load"] if r["scenario"] == scenario and r["contender"] == contender), None
    )


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """One scenario's rows get their ratios: req/s to Lilya's and Starlette's, p99 to Starlette's,
    and req/s as a share of the bare ASGI app's (None where that contender did not run)."""
    by_name = {row["contender"]: row for row in rows}
    lilya, starlette, bare = by_name.get("lilya"), by_name.get("starlette"), by_name.get("bare")
    for row in rows:
        rps, p99 = _best_rps(row), _p99(row)
        row["ratio_to_lilya"] = rps / _best_rps(lilya) if lilya else None
        row["ratio_to_starlette"] = rps / _best_rps(starlette) if starlette else None
        row["p99_to_starlette"] = p99 / _p99(starlette) if starlette and _p99(starlette) else None
        row["share_of_bare"] = rps / _best_rps(bare) if bare else None


def _ratios(results: dict[str, Any], scenario: str) -> list[dict[str, Any]]:
    """The scenario's rows with their ratios (computed here too: older results lack some)."""
    rows = [dict(row) for row in results["load"] if row["scenario"] == scenario]
    add_ratios(rows)
    return rows


def _task_runs(row: dict[str, Any]) -> str:
    runs = sum(r["task_runs"] for r in row["rounds"])
    expected = sum(r["expected_task_runs"] for r in row["rounds"])
    return f"{runs:,} / {expected:,}"


def realistic_table(results: dict[str, Any]) -> str:
    """Scenarios R, M and P: each contender against Starlette, and against the bare ASGI app."""
    scenarios = [s for s in shown_scenarios(results) if s in REALISTIC]
    if not scenarios:
        return ""
    rounds = results["settings"]["rounds"]
    lines = [
        "**Apps shaped like yours: the realistic app (R), its middleware only (M), its path "
        "parameter only (P)** (the ratios to Starlette are this contender's over Starlette's, so "
        "above 1 is more requests per second and below 1 a lower p99; *of bare* is the contender's "
        "requests per second as a share of a bare ASGI app's doing the same work)",
        "",
        f"| scenario | contender | req/s (best of {rounds}) | spread | p50 ms | p99 ms "
        "| server CPU µs/req | req/s to Starlette | p99 to Starlette | of bare | task runs / expected |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scenario in scenarios:
        for row in _ratios(results, scenario):
            best = row["best"]
            share = row["share_of_bare"]
            lines.append(
                f"| {scenario}: {SHORT_TITLES[scenario]} | {row['label']} | {best['rps']:,.0f} "
                f"| {row['spread_pct']:.0f}% | {best['p50_ms']:.1f} | {best['p99_ms']:.1f} | {_cpu(row):.0f} "
                f"| {_num(row['ratio_to_starlette'], 2)} | {_num(row['p99_to_starlette'], 2)} "
                f"| {'n/a' if share is None else f'{share:.0%}'} | {_task_runs(row)} |"
            )
    lines.append("")
    return "\n".join(lines)


def load_tables(results: dict[str, Any]) -> str:
    rounds = results["settings"]["rounds"]
    lines: list[str] = []
    for scenario in shown_scenarios(results):
        if scenario in REALISTIC:
            continue  # realistic_table
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
            lines.append(
                f"| {row['label']} | {best['rps']:,.0f} | {row['spread_pct']:.0f}% | {best['p50_ms']:.1f} "
                f"| {best['p99_ms']:.1f} | {min(r['cpu_us'] for r in row['rounds']):.0f} "
                f"| {_num(row['ratio_to_lilya'], 2)} | {_task_runs(row)} |"
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
    for run, kept in kept_runs(results):
        earlier = run.get("commit") or {}
        on = f"on commit `{earlier['short']}`" if earlier.get("short") else "on an unrecorded commit"
        what, plural = _what_was_kept(kept)
        text += (
            f" {what} {'come' if plural else 'comes'} from an earlier run (`{run.get('command')}`, "
            f"{run.get('date')}, {on}), kept because this run did not measure them again."
        )
    return text + "\n"


def _listed(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _what_was_kept(kept: dict[str, list[str]]) -> tuple[str, bool]:
    """What an earlier run fills, as the subject of a sentence, and whether it is plural."""
    parts: list[tuple[str, bool]] = []  # (words, plural)
    load, inprocess = kept["load"], kept["inprocess"]
    if load:
        many = len(load) > 1
        both = f" (with {'their' if many else 'its'} in-process figures)" if inprocess == load else ""
        parts.append((f"{'Scenarios' if many else 'Scenario'} {_listed(load)}{both}", many))
    if inprocess and inprocess != load:
        parts.append((f"the in-process figures of {_listed(inprocess)}", True))
    parts += [
        (name, name.endswith("figures"))
        for name in ("the quick start's figures", "the layer table")
        if kept.get(name)
    ]
    text = _listed([words for words, _ in parts])
    return text[0].upper() + text[1:], len(parts) > 1 or parts[0][1]


def kept_runs(results: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, list[str]]]]:
    """Each earlier run whose figures `results` carries (`bench.merge`), with what they fill:
    `{"load": [scenarios], "inprocess": [scenarios], "the quick start's figures": [...], ...}`."""
    runs: dict[str, tuple[dict[str, Any], dict[str, list[str]]]] = {}
    parts = [(row, "load", row["scenario"]) for row in results.get("load", [])]
    parts += [(row, "inprocess", row["scenario"]) for row in results.get("inprocess") or []]
    parts += [(row, "the quick start's figures", "") for row in results.get("quickstart") or []]
    parts += [(row, "the layer table", "") for row in results.get("layers") or []]
    for row, kind, scenario in parts:
        run = row.get("measured")
        if not run:
            continue
        key = json.dumps([run.get("date"), run.get("commit"), run.get("command")], sort_keys=True)
        entry = runs.setdefault(key, (run, {"load": [], "inprocess": []}))
        found = entry[1].setdefault(kind, [])
        if scenario not in found:
            found.append(scenario)
    return list(runs.values())


def _cpu(row: dict[str, Any]) -> float:
    return float(min(r["cpu_us"] for r in row["rounds"]))


def _best_rps(row: dict[str, Any]) -> float:
    return float(row["best"]["rps"])


def _p99(row: dict[str, Any]) -> float:
    """The p99 of the best round, as the tables show it."""
    return float(row["best"]["p99_ms"])


def best_case(results: dict[str, Any]) -> tuple[str, float] | None:
    """The same handler in the shape the bench first drew, against Starlette: (scenario, req/s ratio).

    Scenario G (the guide's style, one async task, a static path, no middleware)
    is scenario R without its middleware and path parameter; scenario A stands
    in when G was not measured. The sync-task scenarios are left out: their
    ratios measure how each framework's thread pool keeps pace, not its shape.
    """
    for scenario in ("G", "A"):
        ours, theirs = _row(results, scenario, "ravyn"), _row(results, scenario, "starlette")
        if ours and theirs:
            return scenario, _best_rps(ours) / _best_rps(theirs)
    return None


def _against_starlette(ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    return (
        f"{_best_rps(ours):,.0f} requests per second, {_best_rps(ours) / _best_rps(theirs):.2f}x "
        f"Starlette's {_best_rps(theirs):,.0f}, p99 {_p99(ours):.1f} ms against {_p99(theirs):.1f} ms"
    )


def typical_app(results: dict[str, Any]) -> list[str]:
    """How an app shaped like a user's (R, then M and P) fares, next to the best case."""
    ours, starlette = _row(results, "R", "ravyn"), _row(results, "R", "starlette")
    if not (ours and starlette):
        return []
    text = (
        "**A typical app** (scenario R: a CORS middleware, four routes, a path parameter, a pydantic "
        "model body, the guide's `JSONResponse(..., background=BackgroundTask(...))`): this Ravyn served "
        + _against_starlette(ours, starlette)
    )
    bare = _row(results, "R", "bare")
    if bare:
        text += (
            f"; that is {_best_rps(ours) / _best_rps(bare):.0%} of the {_best_rps(bare):,.0f} a bare ASGI "
            "app doing the same work by hand served"
        )
    text += "."
    best = best_case(results)
    if best:
        title = SCENARIO_TITLES[best[0]].split(": ", 1)[1]
        text += (
            f" In the best case, scenario {best[0]} ({title}: a static path, no middleware), "
            f"it served {best[1]:.2f}x Starlette's requests per second."
        )
    points = [text]
    variants = []
    for scenario, what in (("M", "middleware only"), ("P", "a path parameter only")):
        mine, theirs = _row(results, scenario, "ravyn"), _row(results, scenario, "starlette")
        if mine and theirs:
            variants.append(f"with {what} (scenario {scenario}), {_against_starlette(mine, theirs)}")
    if variants:
        points.append(f"**Its parts alone**: {'; '.join(variants)}.")
    return points


def summary(results: dict[str, Any]) -> str:
    """What the numbers mean for someone choosing a framework, computed from the results."""
    load = {(row["scenario"], row["contender"]): row for row in results["load"]}
    ours, lilya = load.get(("A", "ravyn")), load.get(("A", "lilya"))
    points = typical_app(results)
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
                "CPU per request with one task, task machinery included: it builds the middleware "
                "stack itself around a compiled route table, validates the body in one pass and runs "
                "a quick async task in the request's own asyncio task "
                "(see [internals](internals.md#dispatch))."
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
        realistic_table(results),
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
    scenarios = shown_scenarios(results)
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
            ratios.append(row.get("ratio_to_lilya"))
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
    ticks = [f"{s}: {SHORT_TITLES[s]}" for s in scenarios]
    ax.set_xticks(range(len(scenarios)), ticks, fontsize=8, rotation=20, ha="right")
    ax.set_ylabel("requests per second (best round)")
    machine = results["machine"]
    ax.set_title(
        f"Each scenario's request under uvicorn, wrk -c{results['settings']['connections']}; "
        "labels: ratio to plain Lilya\n"
        f"{machine['cpu']}, {machine['nproc']} cores, {machine['python']}, {machine['date']}"
        + "".join(
            f"\n(scenario(s) {', '.join(kept['load'])}: kept from the run of {run.get('date')})"
            for run, kept in kept_runs(results)
            if kept["load"]
        ),
        fontsize=9,
    )
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(fig)
