"""Running a sync background task on a daemon thread of its own.

anyio's worker threads (`anyio.to_thread.run_sync`) are not daemons: a
process cannot exit while one still runs, so a sync task that outlives the
shutdown drain would keep the server alive. Background tasks run here instead,
on daemon threads, gated by the runner's own `CapacityLimiter` so that they
never take the threads that sync handlers use.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel

__all__ = ["run_in_daemon_thread"]

T = TypeVar("T")


async def run_in_daemon_thread(call: Callable[[], T], limiter: anyio.CapacityLimiter, name: str) -> T:
    """Run `call()` on a new daemon thread and wait for its result.

    The caller's context variables are visible in the thread. If the waiting
    task is cancelled (a timeout, or the shutdown drain), the thread is
    abandoned: it finishes on its own, or dies with the process.
    """
    async with limiter:
        token = anyio.lowlevel.current_token()
        finished = anyio.Event()
        outcome: dict[str, Any] = {}
        context = contextvars.copy_context()

        def target() -> None:
            try:
                outcome["value"] = context.run(call)
            except BaseException as exc:  # handed back to the waiting task
                outcome["error"] = exc
            finally:
                # the event loop may be gone already: then nobody is waiting any more
                with contextlib.suppress(anyio.RunFinishedError):
                    anyio.from_thread.run_sync(finished.set, token=token)

        threading.Thread(target=target, name=f"ravyn-task:{name}", daemon=True).start()
        await finished.wait()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
