"""The durability harness's counts: per task id the client got a 2xx for, how often it ran.

Pure functions over what the harness collected: the ids acknowledged (a 2xx),
the sink's lines (one per run of a task) and the servers' logs (the crash
report's WARNING lines). Nothing here starts a process.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

TASK_ID = re.compile(r"\bid-\d+-\d+\b")
"""The harness's task ids: `id-<client>-<sequence>`, unique within a tier's run."""
LOST_LINE = re.compile(r"Background task .* lost: its process")
"""A line of the crash report naming one lost plain task (ravyn._journal.crash_report)."""
LOST_TOTAL = re.compile(r"(\d+) plain background task\(s\) lost by a process")
"""The crash report's count line: one per dead process, named tasks and unnamed ones alike."""


def task_id(client: int, sequence: int) -> str:
    """The id of a client's `sequence`-th task."""
    return f"id-{client}-{sequence}"


def read_sink(path: Path) -> Counter[str]:
    """How many times each task id was recorded; lines that are not a task id are ignored."""
    if not path.exists():
        return Counter()
    runs: Counter[str] = Counter()
    for line in path.read_text("utf-8", "replace").splitlines():
        if TASK_ID.fullmatch(line.strip()):
            runs[line.strip()] += 1
    return runs


@dataclass(frozen=True)
class CrashReport:
    """What the servers' crash reports said: the task ids they named, and the total they counted."""

    named: frozenset[str]
    counted: int


def read_crash_reports(logs: Iterable[str]) -> CrashReport:
    """The task ids named on the crash report's lines, and the sum of its count lines."""
    named: set[str] = set()
    counted = 0
    for text in logs:
        for line in text.splitlines():
            if LOST_LINE.search(line):
                named.update(TASK_ID.findall(line))
            total = LOST_TOTAL.search(line)
            if total:
                counted += int(total.group(1))
    return CrashReport(frozenset(named), counted)


@dataclass(frozen=True)
class Tally:
    """One tier's outcome, over the tasks the client got a 2xx for."""

    acknowledged: int
    """Tasks the client got a 2xx for: the tier's promise starts there."""
    done_once: int
    rerun: int
    """Done more than once (at least once is the journal's and acks_late's promise, not exactly once)."""
    lost: int
    """Never done."""
    extra_runs: int
    """Runs beyond the first, summed over the re-run tasks."""
    unacknowledged_done: int
    """Tasks done whose request got no 2xx (the kill came before the answer): not counted above."""
    lost_named: int
    """Lost tasks the crash report named by id."""
    reported_lost: int
    """The crash reports' own count of lost plain tasks (named or not; it may include tasks that
    ended within the report's window, or whose request got no 2xx)."""

    def as_dict(self) -> dict[str, Any]:
        """The JSON row."""
        return asdict(self)


def tally(acknowledged: Iterable[str], runs: Counter[str], report: CrashReport) -> Tally:
    """Count, per acknowledged task id, done exactly once, re-run, or lost."""
    acked = set(acknowledged)
    once = sum(1 for task in acked if runs[task] == 1)
    rerun = [task for task in acked if runs[task] > 1]
    lost = {task for task in acked if runs[task] == 0}
    return Tally(
        acknowledged=len(acked),
        done_once=once,
        rerun=len(rerun),
        lost=len(lost),
        extra_runs=sum(runs[task] - 1 for task in rerun),
        unacknowledged_done=sum(1 for task in runs if task not in acked),
        lost_named=len(lost & report.named),
        reported_lost=report.counted,
    )
