"""A run of some scenarios, written over a results file that holds others.

`python -m bench --scenarios R,M,P,G` measures four scenarios; the page also
shows A, B, C and Y. Rather than drop those, the new results keep the earlier
file's figures for every scenario this run did not measure, each row tagged
with the run it comes from (`"measured": {"date", "commit", "command", ...}`),
which the page names. A row already tagged keeps its own tag: figures carried
over twice still name the run that measured them.
"""

from __future__ import annotations

import copy
from typing import Any

from bench import report


def earlier_run(earlier: dict[str, Any]) -> dict[str, Any]:
    """What names a results file's run: when, which commit, which command, on what."""
    machine = earlier.get("machine", {})
    return {
        "date": machine.get("date", "an unknown date"),
        "commit": report.measured_commit(earlier),
        "command": earlier.get("settings", {}).get("command", "python -m bench"),
        "mode": earlier.get("mode", "full"),
        "versions": earlier.get("versions", {}),
        "load_average_at_start": machine.get("load_average_at_start"),
    }


def _tagged(row: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    return row if "measured" in row else {**row, "measured": run}


def keep_earlier(results: dict[str, Any], earlier: dict[str, Any]) -> dict[str, Any]:
    """`results`, plus `earlier`'s figures for the scenarios (and probes) `results` did not measure."""
    merged = copy.deepcopy(results)
    run = earlier_run(earlier)
    measured = set(results["settings"]["scenarios"])
    kept_load = [_tagged(row, run) for row in earlier["load"] if row["scenario"] not in measured]
    unknown = {row["scenario"] for row in kept_load} - set(report.SCENARIO_TITLES)
    if unknown:
        raise ValueError(f"scenario(s) {sorted(unknown)} unknown to this bench")
    merged["load"] = kept_load + merged["load"]
    kept_inprocess = [
        _tagged(row, run) for row in earlier.get("inprocess") or [] if row["scenario"] not in measured
    ]
    merged["inprocess"] = kept_inprocess + (merged.get("inprocess") or [])
    for probe in ("quickstart", "layers"):
        if not merged.get(probe) and earlier.get(probe):
            merged[probe] = [_tagged(row, run) for row in earlier[probe]]
    merged["contenders"] = {**earlier.get("contenders", {}), **merged.get("contenders", {})}
    return merged
