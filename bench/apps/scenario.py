"""What every contender's app shares: the scenario it serves and the tasks' side effect.

The bench starts one server per contender and scenario, with `BENCH_SCENARIO` set:

* `A`: `POST /register`, one async task;
* `B`: the same with three tasks, the last of them sync;
* `C`: the same handler with no task;
* `S`: scenario A with a task that takes one second (the quick start's slow email);
* `G`: the guide's style: a field read from the JSON body, then
  `return JSONResponse({...}, background=BackgroundTask(record, name))`, one async task;
* `Y`: the guide's style with one sync task (a thread hop).

Contenders whose own style already is the guide's serve the same handler for `A` and `G`.

Every task appends to `runs`; `GET /count` answers `{"count": len(runs)}`.
"""

from __future__ import annotations

import os
import time

SCENARIO = os.environ.get("BENCH_SCENARIO", "A")
if SCENARIO not in ("A", "B", "C", "S", "G", "Y"):
    raise SystemExit(f"BENCH_SCENARIO must be A, B, C, S, G or Y, not {SCENARIO!r}")

runs: list[str] = []


async def record(name: str) -> None:
    runs.append(name)


def record_sync(name: str) -> None:
    runs.append(name)


def send_welcome_email(name: str) -> None:
    time.sleep(1.0)  # a slow mail server
    runs.append(name)
