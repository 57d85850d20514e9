"""What every contender's app shares: the scenario it serves and the tasks' side effect.

The bench starts one server per contender and scenario, with `BENCH_SCENARIO` set:

* `A`: `POST /register`, one async task;
* `B`: the same with three tasks, the last of them sync;
* `C`: the same handler with no task;
* `S`: scenario A with a task that takes one second (the quick start's slow email);
* `G`: the guide's style: a field read from the JSON body, then
  `return JSONResponse({...}, background=BackgroundTask(record, name))`, one async task;
* `Y`: the guide's style with one sync task (a thread hop);
* `R`: a realistic app: each framework's own CORS middleware (allowing only
  `shapes.ORIGIN`), several routes (`GET /health`, `GET /teams/{team_id:int}`,
  `POST /teams/{team_id:int}/signup`, `GET /count`); the POST validates a
  pydantic model body (`signup.Signup`) and answers 201 with the guide's
  `JSONResponse({...}, background=BackgroundTask(record, data.name))`;
* `M`: middleware only: the same CORS middleware around scenario G's `POST /register`;
* `P`: path parameters only: scenario R's `POST /teams/{team_id:int}/signup`, no middleware.

What each scenario's request carries (path, body, `Origin`) is in `shapes.py`.

Contenders whose own style already is the guide's serve the same handler for `A` and `G`.

Every task appends to `runs`; `GET /count` answers `{"count": len(runs)}`.
"""

from __future__ import annotations

import os
import time

from shapes import ORIGIN, RAVYN_ONLY, REALISTIC, SHAPES

SCENARIO = os.environ.get("BENCH_SCENARIO", "A")
if SCENARIO not in SHAPES:
    raise SystemExit(f"BENCH_SCENARIO must be one of {', '.join(SHAPES)}, not {SCENARIO!r}")
REALISTIC_APP = SCENARIO in REALISTIC
ALLOWED_ORIGINS = [ORIGIN]

runs: list[str] = []


def refuse_ravyn_only(app: str) -> None:
    """Stop, saying so, when another framework's app is asked for a scenario only ours serves."""
    if SCENARIO in RAVYN_ONLY:
        raise SystemExit(f"{app} does not serve scenario {SCENARIO} (a durable task): only ravyn_app does")


async def record(name: str) -> None:
    runs.append(name)


def record_sync(name: str) -> None:
    runs.append(name)


def send_welcome_email(name: str) -> None:
    time.sleep(1.0)  # a slow mail server
    runs.append(name)
