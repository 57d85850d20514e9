"""Running sync background tasks on daemon threads of their own.

anyio's worker threads (`anyio.to_thread.run_sync`) are not daemons: a
process cannot exit while one still runs, so a sync task that outlives the
shutdown drain would keep the server alive. Background tasks run on a
`DaemonThreadPool` instead, gated by the runner's own `CapacityLimiter` so that
they never take the threads that sync handlers use. Threads are reused:
starting one blocks the caller (here, the event loop) until the OS runs it.

A thread cannot be killed. When the runner stops waiting for a call (a
timeout, the shutdown drain), the pool *abandons* the thread: its slot is free
at once and the pool may start a replacement, up to `size + max_abandoned`
threads in all; the abandoned thread rejoins the pool if its call ever returns.
"""

from __future__ import annotations

import asyncio
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


class _Job:
    """One submitted call and where it stands: queued, running, done, or given up on."""

    __slots__ = ("abandoned", "state", "work")

    def __init__(self, work: Callable[[], None]) -> None:
        self.work = work
        self.state = "queued"
        self.abandoned = False


class DaemonThreadPool:
    """At most `size` busy daemon threads running submitted functions, reused
    between calls, plus up to `max_abandoned` threads still running a call
    nobody waits for any more (see `abandon`).

    `max_abandoned` defaults to `size`: past it, no replacement is started and
    the pool runs with fewer threads until an abandoned call returns.
    """

    def __init__(self, size: int, name: str = "ravyn-task", *, max_abandoned: int | None = None) -> None:
        if size < 1:
            raise ValueError(f"a thread pool needs at least one thread, got {size}")
        self.size = size
        self.name = name
        self.max_abandoned = size if max_abandoned is None else max_abandoned
        self._work: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0
        self._abandoned = 0
        self._started = 0

    @property
    def threads(self) -> int:
        """How many threads the pool has now (each lives until the process ends, or
        leaves once an abandoned call returns to a pool that has enough)."""
        return self._threads

    @property
    def abandoned(self) -> int:
        """How many threads are still running a call that was abandoned."""
        return self._abandoned

    def submit(self, work: Callable[[], None]) -> _Job:
        """Queue `work`; start a thread if none is free and the pool has room."""
        job = _Job(work)
        with self._lock:
            self._work.put(job)
            live = self._threads - self._abandoned
            spawn = (
                self._idle < self._work.qsize()
                and live < self.size
                and self._threads < self.size + self.max_abandoned
            )
            if spawn:
                self._threads += 1
                self._started += 1
        if spawn:
            threading.Thread(target=self._serve, name=f"{self.name}-{self._started}", daemon=True).start()
        return job

    def abandon(self, job: _Job) -> bool:
        """Stop counting on `job`: a queued job will not run, a running one keeps
        its thread but frees its slot. Returns whether a thread was abandoned."""
        with self._lock:
            if job.state == "queued":
                job.state = "cancelled"
                return False
            if job.state != "running" or job.abandoned:
                return False
            job.abandoned = True
            self._abandoned += 1
            abandoned = self._abandoned
        logger.warning(
            "A sync background task outlived its wait and keeps its thread (%d thread(s) abandoned)",
            abandoned,
        )
        if abandoned >= self.max_abandoned:
            logger.error(
                "%d abandoned task threads, the most this pool takes: no replacement threads "
                "until one of their calls returns",
                abandoned,
            )
        return True

    def _serve(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            job = self._work.get()
            with self._lock:
                self._idle -= 1
                if job.state == "cancelled":
                    continue
                job.state = "running"
            job.work()  # never raises: run_in_daemon_thread catches everything
            with self._lock:
                job.state = "done"
                if job.abandoned:
                    self._abandoned -= 1
                    if self._threads - self._abandoned > self.size:
                        # a replacement took this thread's place meanwhile: leave
                        self._threads -= 1
                        return


async def run_in_daemon_thread(
    call: Callable[[], T], limiter: anyio.CapacityLimiter, pool: DaemonThreadPool
) -> T:
    """Run `call()` on one of `pool`'s threads and wait for its result.

    The caller's context variables are visible in the thread. If the waiting
    task is cancelled (a timeout, or the shutdown drain), the call is
    abandoned: its slot in `limiter` and in `pool` is freed at once, and the
    call finishes on its own, or dies with the process. A call still queued
    when its wait is cancelled never runs. Where there are no threads,
    `call()` runs inline.
    """
    if not THREADS_AVAILABLE:
        return _run_inline(call)
    # acquire_nowait first: `async with limiter` yields to the loop once even when a slot is free
    try:
        limiter.acquire_nowait()
    except anyio.WouldBlock:
        await limiter.acquire()
    try:
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()
        outcome: dict[str, Any] = {}
        context = contextvars.copy_context()

        def wake() -> None:
            if not finished.done():  # not cancelled meanwhile
                finished.set_result(None)

        def work() -> None:
            try:
                outcome["value"] = context.run(call)
            except BaseException as exc:  # handed back to the waiting task
                outcome["error"] = exc
            finally:
                # no wait for the loop (anyio.from_thread would block this thread until it ran);
                # a closed loop raises RuntimeError: then nobody is waiting any more
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(wake)

        job = pool.submit(work)
        try:
            await finished
        except BaseException:
            pool.abandon(job)
            raise
    finally:
        limiter.release()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
