"""The app the durability harness kills: `POST /work` hands one task over, per tier.

Environment (set by `bench.durability`):

* `DURABILITY_TIER`: `in-process` (a plain task; the app has a journal, for
  its crash report), `journal` (`durable=True`) or `celery` (`.delay()` to
  the Celery app of `durability_celery`);
* `DURABILITY_SINK`: the file each task appends its id to once it ran;
* `DURABILITY_JOURNAL`: the task journal's file (in-process and journal tiers).

The task sleeps `millis` (the work), then records its id: a task killed
before the end of its sleep has not done its work.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from durability_sink import record_done

from ravyn import BackgroundTasks, Ravyn, get, post

TIERS = ("in-process", "journal", "celery")
TIER = os.environ.get("DURABILITY_TIER", "")
if TIER not in TIERS:
    raise SystemExit(f"DURABILITY_TIER must be one of {', '.join(TIERS)}, not {TIER!r}")
SINK = Path(os.environ["DURABILITY_SINK"])


async def work(task_id: str, millis: int) -> None:
    """The task: its work takes `millis`, then it records that it ran."""
    await asyncio.sleep(millis / 1000)
    record_done(SINK, task_id)


@post("/work")
async def hand_over(task_id: str, millis: int, tasks: BackgroundTasks) -> dict[str, str]:
    """Hand one task to this tier; a 2xx means the tier took it."""
    if TIER == "celery":
        from durability_celery import work_job

        work_job.delay(task_id, millis)  # on the broker before the answer
    else:
        tasks.add_task(work, task_id, millis, durable=TIER == "journal")
    return {"task_id": task_id}


@get("/health")
async def health() -> dict[str, str]:
    """Up: the harness starts its clock for the kill from here."""
    return {"tier": TIER}


journal = os.environ.get("DURABILITY_JOURNAL") if TIER != "celery" else None
app = Ravyn(routes=[hand_over, health], task_journal=journal or None)
