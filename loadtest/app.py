"""The app under load: every request schedules two tasks; one task in ten fails on purpose."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio

from ravyn import BackgroundTasks, Ravyn, get, post

DEFAULT_HANDLER_THREADS = 40  # anyio's default thread limiter, used by sync handlers
runs = {"audit": 0, "notify": 0}
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


@get("/stats")
def stats() -> dict[str, int]:
    """Task counters, task runs seen by the tasks themselves, threads and memory."""
    return {
        **{f"task_{key}": value for key, value in app.task_stats().items()},
        "runs_audit": runs["audit"],
        "runs_notify": runs["notify"],
        "threads": threading.active_count(),
        # main thread + anyio's pool for sync handlers + the task pool + a few of the server's own
        "thread_bound": 1 + DEFAULT_HANDLER_THREADS + app.task_runner.thread_limit + 4,
        "rss_kb": _rss_kb(),
    }


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


app = Ravyn(routes=[place_order, stats], enable_openapi=False)
