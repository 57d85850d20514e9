"""The Where it runs page's table, written from the measured results."""

from __future__ import annotations

import platform
from typing import Any


def ms(seconds: float | None) -> str:
    """Seconds as milliseconds, for a reader: `58 ms`."""
    return "n/a" if seconds is None else f"{seconds * 1000:.0f} ms"


def s(seconds: float | None) -> str:
    """Seconds, one decimal: `3.1 s`."""
    return "n/a" if seconds is None else f"{seconds:.1f} s"


def concurrency_row(r: dict[str, Any]) -> str:
    answered = ", ".join(f"{status} in {ms(at)}" for status, at in r["answered"])
    return (
        f"| `--limit-concurrency {r['limit']}` | a request holds its slot until its tasks end, not until "
        f"its response | {r['limit']} requests with a {r['task_seconds']:.0f} s task: answered {answered}; "
        f"the next request got **503** {r['refused']} times, until {s(r['admitted_at'])}, when both tasks "
        f"had ended (then {r['admitted_status']}) |"
    )


def workers_row(r: dict[str, Any]) -> str:
    split = " and ".join(str(count) for count in sorted(r["answered_by"].values(), reverse=True))
    counted = " and ".join(str(count) for count in sorted(r["started_per_process"].values(), reverse=True))
    where = (
        "every task ran in the process that answered it"
        if r["ran_where_answered"]
        else ("**some tasks ran in another process than the one that answered**")
    )
    return (
        f"| `--workers {r['workers']}` | each process has its own tasks, runner, `task_stats()` and "
        f"`max_pending_tasks` | {r['requests']} requests, answered {split} by {len(r['answered_by'])} "
        f'processes; {where}; `task_stats()["started"]` was {counted}, each process counting its own |'
    )


def recycling_row(r: dict[str, Any]) -> str:
    failed = f"{len(r['failed'])} got no answer" if r["failed"] else "none went unanswered"
    return (
        f"| `--workers {r['workers']} --limit-max-requests {r['max_requests']}` | a worker at its limit "
        f"finishes its running tasks, then exits; uvicorn starts another | {r['requests']} requests with a "
        f"1 s task, one after another: {r['accepted']} answered 202 ({failed}) by {r['processes']} "
        f"processes in turn; {r['tasks_done']} of {r['requests']} tasks done, {r['lost_lines']} lost |"
    )


def grace_row(r: dict[str, Any]) -> str:
    if r["killed"]:
        outcome = (
            f"SIGKILL at {s(r['grace'])}: the task was **lost without a log line**"
            if not r["lost_logged"]
            else f"SIGKILL at {s(r['grace'])}, the task logged lost before it"
        )
    else:
        logged = "logged lost, by name" if r["lost_logged"] else "**not logged**"
        exited = s(r["exited_at"])
        outcome = f"the process exited by itself {exited} after SIGTERM; the task cut off was {logged}"
    # the process is gone within task_drain_timeout + 1.5 s of SIGTERM (How it works)
    fits = "outlasts" if r["drain_timeout"] + 1.5 > r["grace"] else "fits in"
    return (
        f"| a container stop: SIGTERM, SIGKILL {r['grace']:.0f} s later, `task_drain_timeout="
        f"{r['drain_timeout']:.0f}` | the drain {fits} "
        f"the grace period | a {r['task_seconds']:.0f} s task, stopped 0.5 s in: {outcome} |"
    )


def table(results: dict[str, Any]) -> str:
    """The Markdown table and its provenance line."""
    lines = [
        "| Setting | What it means for running tasks | Measured here |",
        "|---|---|---|",
        concurrency_row(results["concurrency_limit"]),
        workers_row(results["several_workers"]),
        recycling_row(results["recycling"]),
        grace_row(results["grace_default_drain"]),
        grace_row(results["grace_short_drain"]),
        "",
        f"Measured on {results['date']} by `python -m docs_src.where_it_runs`, every process on 127.0.0.1: "
        f"{results['machine']}. The raw numbers: `docs_src/where_it_runs/results.json`.",
        "",
    ]
    return "\n".join(lines)


def machine() -> str:
    """Python, uvicorn and the system the measurement ran on."""
    from importlib import metadata

    return (
        f"Python {platform.python_version()}, uvicorn {metadata.version('uvicorn')}, "
        f"{platform.system()} {platform.release()}"
    )
