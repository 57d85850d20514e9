"""The app under load.

`POST /orders` (the quick run) schedules two tasks, one in ten failing on
purpose. `POST /visits` (the soak) schedules two tasks, the second failing
every time after SOAK_TASK_SECONDS, slow enough for a backlog to build up
against `max_pending_tasks`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import anyio

from ravyn import BackgroundTasks, Ravyn, get, post

DEFAULT_HANDLER_THREADS = 40  # anyio's default thread limiter, used by sync handlers
runs = {"audit": 0, "notify": 0, "visit": 0, "partner": 0}
SOAK_TASK_SECONDS = float(os.environ.get("SOAK_TASK_SECONDS", "2"))
_lock = threading.Lock()


def write_audit(order: int) -> None:
    """A sync task: runs on a task thread."""
    with _lock:
        runs["audit"] += 1


async def notify_warehouse(order: int) -> None:
    """An async task that fails for one order in five (so one task in ten overall)."""
    runs["notify"] += 1
    await anyio.sleep(0)
    if order % 5 == 0:
        raise ConnectionError(f"warehouse unreachable for order {order}")


@post("/orders")
def place_order(order: int, tasks: BackgroundTasks) -> dict[str, int]:
    tasks.add_task(write_audit, order)
    tasks.add_task(notify_warehouse, order)
    return {"order": order}


def count_visit(page: int) -> None:
    """A quick sync task."""
    with _lock:
        runs["visit"] += 1


async def tell_partner(page: int) -> None:
    """A slow async task that always fails: the partner is down."""
    runs["partner"] += 1
    await anyio.sleep(SOAK_TASK_SECONDS)
    raise ConnectionError(f"partner unreachable for page {page}")


@post("/visits")
def record_visit(page: int, tasks: BackgroundTasks) -> dict[str, int]:
    tasks.add_task(count_visit, page)
    tasks.add_task(tell_partner, page)
    return {"page": page}


@get("/stats")
def stats() -> dict[str, int]:
    """Task counters, task runs seen by the tasks themselves, threads and memory."""
    return {
        **{f"task_{key}": value for key, value in app.task_stats().items()},
        "runs_audit": runs["audit"],
        "runs_notify": runs["notify"],
        "runs_visit": runs["visit"],
        "runs_partner": runs["partner"],
        "threads": threading.active_count(),
        # main thread + anyio's pool for sync handlers + the task pool + a few of the server's own
        "thread_bound": 1 + DEFAULT_HANDLER_THREADS + _task_thread_bound() + 4,
        "rss_kb": _rss_kb(),
    }


def _task_thread_bound() -> int:
    """The most threads the runner's pools may hold, abandoned ones included."""
    runner = app.task_runner
    return sum(pool.size + pool.max_abandoned for pool in (runner.pool, runner.hook_pool))


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


app = Ravyn(routes=[place_order, record_visit, stats], enable_openapi=False)
