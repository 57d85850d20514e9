"""The app `test_workers_server.py` runs under `uvicorn --workers 2`: one durable,
slow job per request, each start and end written with its pid and time to `JOB_LOG`."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ravyn import BackgroundTasks, Ravyn, post
from ravyn.journal import TaskJournal

LOG = Path(os.environ.get("JOB_LOG", os.devnull))
SECONDS = float(os.environ.get("JOB_SECONDS", "2"))


def _write(line: str) -> None:
    with LOG.open("a") as log:
        log.write(f"{line} {os.getpid()} {time.time():.6f}\n")


def slow_job(job: int) -> None:
    """A job that takes `JOB_SECONDS` (or, with `JOB_GATE` set, until that file
    exists): long enough to be killed in the middle."""
    _write(f"start {job}")
    gate = os.environ.get("JOB_GATE")
    if gate is None:
        time.sleep(SECONDS)
    else:
        end = time.monotonic() + 60
        while not os.path.exists(gate) and time.monotonic() < end:
            time.sleep(0.02)
    _write(f"done {job}")


@post("/jobs/{job:int}")
def add_job(job: int, tasks: BackgroundTasks) -> dict[str, int]:
    tasks.add_task(slow_job, job, durable=True)
    return {"job": job}


@post("/plain-jobs/{job:int}")
def add_plain_job(job: int, tasks: BackgroundTasks) -> dict[str, int]:
    tasks.add_task(slow_job, job)
    return {"job": job}


app = Ravyn(
    routes=[add_job, add_plain_job],
    task_journal=TaskJournal(os.environ.get("TASK_JOURNAL", "tasks.sqlite3"), lease=1.5),
)
