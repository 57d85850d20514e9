"""The app the Where it runs page measures: one task per request, as long as the request asks.

    uvicorn docs_src.where_it_runs.app:app

`POST /jobs` with `{"label": "a", "seconds": 2}` answers 202 at once and runs a
task that sleeps that long, then prints `done a in <pid>`: each line says which
worker process ran it. `GET /stats` gives the answering process's id and its
`task_stats()`. `TASK_DRAIN_TIMEOUT` sets the app's `task_drain_timeout`
(30 s by default, Ravyn's own default).
"""

from __future__ import annotations

import asyncio
import os

from ravyn import BackgroundTasks, Ravyn, get, post
from ravyn.responses import JSONResponse


async def work(label: str, seconds: float) -> None:
    print(f"started {label} in {os.getpid()}", flush=True)
    await asyncio.sleep(seconds)
    print(f"done {label} in {os.getpid()}", flush=True)


@post("/jobs")
def start_job(label: str, seconds: float, tasks: BackgroundTasks) -> JSONResponse:
    tasks.add_task(work, label, seconds)
    return JSONResponse({"label": label, "pid": os.getpid()}, status_code=202, background=tasks)


@get("/stats")
def stats() -> dict[str, int]:
    return {"pid": os.getpid(), **app.task_stats()}


app = Ravyn(routes=[start_job, stats], task_drain_timeout=float(os.environ.get("TASK_DRAIN_TIMEOUT", "30")))
