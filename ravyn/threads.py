"""Running sync background tasks on daemon threads of their own.

anyio's worker threads (`anyio.to_thread.run_sync`) are not daemons: a
process cannot exit while one still runs, so a sync task that outlives the
shutdown drain would keep the server alive. Background tasks run on a
`DaemonThreadPool` instead, gated by the runner's own `CapacityLimiter` so that
they never take the threads that sync handlers use. Threads are reused:
starting one blocks the caller (here, the event loop) until the OS runs it.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread

__all__ = ["THREADS_AVAILABLE", "DaemonThreadPool", "run_in_daemon_thread", "run_sync"]

T = TypeVar("T")

logger = logging.getLogger("ravyn.threads")

THREADS_AVAILABLE = sys.platform not in ("emscripten", "wasi")
"""False in a browser (Pyodide) or WASI, where a sync callable must run inline."""

_warned_inline = False


def _run_inline(call: Callable[[], T]) -> T:
    global _warned_inline
    if not _warned_inline:
        _warned_inline = True
        logger.warning("No threads on this platform: sync handlers and tasks run inline, blocking the loop")
    return call()


async def run_sync(call: Callable[[], T]) -> T:
    """Run a sync handler on anyio's worker threads, or inline where there are none."""
    if not THREADS_AVAILABLE:
        return _run_inline(call)
    return await anyio.to_thread.run_sync(call)


class DaemonThreadPool:
    """At most `size` daemon threads that run submitted functions, reused between calls."""

    def __init__(self, size: int, name: str = "ravyn-task") -> None:
        if size < 1:
            raise ValueError(f"a thread pool needs at least one thread, got {size}")
        self.size = size
        self.name = name
        self._work: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0

    @property
    def threads(self) -> int:
        """How many threads the pool has started (they never exit before the process)."""
        return self._threads

    def submit(self, work: Callable[[], None]) -> None:
        """Queue `work`; start a thread if none is free and the pool is not full."""
        with self._lock:
            self._work.put(work)
            spawn = self._idle < self._work.qsize() and self._threads < self.size
            if spawn:
                self._threads += 1
        if spawn:
            threading.Thread(target=self._serve, name=f"{self.name}-{self._threads}", daemon=True).start()

    def _serve(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            work = self._work.get()
            with self._lock:
                self._idle -= 1
            work()  # never raises: run_in_daemon_thread catches everything


async def run_in_daemon_thread(
    call: Callable[[], T], limiter: anyio.CapacityLimiter, pool: DaemonThreadPool
) -> T:
    """Run `call()` on one of `pool`'s threads and wait for its result.

    The caller's context variables are visible in the thread. If the waiting
    task is cancelled (a timeout, or the shutdown drain), the call is
    abandoned: it finishes on its own, or dies with the process.
    Where there are no threads, `call()` runs inline.
    """
    if not THREADS_AVAILABLE:
        return _run_inline(call)
    async with limiter:
        token = anyio.lowlevel.current_token()
        finished = anyio.Event()
        outcome: dict[str, Any] = {}
        context = contextvars.copy_context()

        def work() -> None:
            try:
                outcome["value"] = context.run(call)
            except BaseException as exc:  # handed back to the waiting task
                outcome["error"] = exc
            finally:
                # the event loop may be gone already: then nobody is waiting any more
                with contextlib.suppress(anyio.RunFinishedError):
                    anyio.from_thread.run_sync(finished.set, token=token)

        pool.submit(work)
        await finished.wait()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
