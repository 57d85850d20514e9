"""The durability harness's table, from its results (`docs/assets/durability.json`).

One renderer for the terminal and the docs: `bench.durability` prints it, and
the docs' hook (`docs/hooks/performance.py`) draws the durability-tiers
page's block from the JSON with it at every build.
"""

from __future__ import annotations

from typing import Any

COLUMNS = (
    "Tier",
    "Kills",
    "2xx answers",
    "Done once",
    "Re-run",
    "Lost",
    "Lost, named by the crash report",
    "Crash report's count",
)


def _cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    return "n/a" if value is None else f"{value:,}"


def table(results: dict[str, Any]) -> str:
    """The tiers as a Markdown table (also readable as plain text)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join(["---"] + ["--:"] * (len(COLUMNS) - 1)) + "|"]
    for row in results["tiers"]:
        reported = row["tier"] == "in-process"  # the only tier whose tasks have a crash report
        named = _cell(row, "lost_named") if reported else "n/a"
        counted = _cell(row, "reported_lost") if reported else "n/a"
        cells = [
            row["label"],
            _cell(row, "kills"),
            _cell(row, "acknowledged"),
            _cell(row, "done_once"),
            _cell(row, "rerun"),
            _cell(row, "lost"),
            named,
            counted,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def provenance(results: dict[str, Any]) -> str:
    """Where the figures come from: the command, the machine and its load, the run's shape."""
    machine = results["machine"]
    load = results.get("load_average_at_end")
    return (
        f"Measured {machine['date']} with `{results['command']}`, on {machine['nproc']} CPU(s) "
        f"({machine['cpu']}, {machine['os']}, {machine['python']}); load average "
        f"{machine['load_average_at_start']} at the start and {load} at the end (the machine was "
        f"shared). {results['clients']} clients, each task {results['task_ms'][0]}-"
        f"{results['task_ms'][1]} ms, a SIGKILL {results['kill_after_s'][0]}-"
        f"{results['kill_after_s'][1]} s after each start."
    )


def markdown(results: dict[str, Any]) -> str:
    """The page's generated block: the table, each tier's settings, and the provenance."""
    settings = "\n".join(f"- **{row['label']}**: {row['settings']}" for row in results["tiers"])
    waiting = [row for row in results["tiers"] if row.get("left_on_broker")]
    if waiting:  # the harness stopped waiting: those tasks are counted lost, but may still run
        settings += "\n\n" + " ".join(
            f"{row['label']}: {row['left_on_broker']:,} message(s) were still on the broker when the "
            "harness stopped waiting; they are counted as lost here."
            for row in waiting
        )
    return f"{table(results)}\n\n{settings}\n\n{provenance(results)}\n"
