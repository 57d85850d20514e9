"""The daemon thread pool that runs sync background tasks.

anyio's worker threads (`anyio.to_thread.run_sync`) are not daemons: a
process cannot exit while one still runs, so a sync task that outlives the
shutdown drain would keep the server alive. Background tasks run on a
`DaemonThreadPool` instead, whose size bounds them, so that they never take
the threads that sync handlers use. Threads are reused: starting one blocks
the caller (here, the event loop) until the OS runs it.

The pool is built for an event loop under load. Quick calls share the threads
there are instead of starting one each (threads that fight over the GIL run
fewer calls, not more); calls that finish together wake the loop once; and
when calls pile up although no thread is stuck, the loop waits a moment for
the threads to take them (`BACKLOG`), since a thread waiting for the GIL gets
it only when the loop waits for something. Measured with
`python -m bench --scenarios Y`: one sync task per request kept pace with
the requests instead of piling up past `max_pending_tasks`.

A thread cannot be killed. When the runner stops waiting for a call (a
timeout, the shutdown drain), the pool *abandons* the thread: its slot is free
at once and the pool may start a replacement, up to `size + max_abandoned`
threads in all; the abandoned thread rejoins the pool if its call ever returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio

from ravyn import threads as platform

__all__ = ["BACKLOG", "BACKLOG_PAUSE", "SPAWN_AFTER", "DaemonThreadPool", "run_in_daemon_thread"]

T = TypeVar("T")

logger = logging.getLogger("ravyn.threads")


SPAWN_AFTER = 0.02
"""Seconds every thread of a pool must have spent on its current call, or the
call a thread took last must have waited in the queue, before a queued call
starts another thread (while every thread is running a call). Sooner, a burst
of quick calls on a busy event loop would start a thread per call, and threads
that fight over the GIL run fewer calls, not more."""


BACKLOG = 64
"""Queued calls past which a busy event loop lends the GIL to the pool's threads
(see `DaemonThreadPool.submit`)."""

BACKLOG_PAUSE = 0.0005
"""How long the event loop sleeps, per call it queues past `BACKLOG`, so that
the pool's threads can take the GIL and the queued calls."""


class _Job:
    """One submitted call and where it stands: queued, running, done, or given up on."""

    __slots__ = ("abandoned", "error", "future", "loop", "queued", "started", "state", "value", "work")

    def __init__(self, work: Callable[[], Any], loop: asyncio.AbstractEventLoop | None) -> None:
        self.work = work
        self.loop = loop
        self.future: asyncio.Future[None] | None = loop.create_future() if loop is not None else None
        self.state = "queued"
        self.abandoned = False
        self.queued = time.perf_counter()
        self.started = 0.0
        self.value: Any = None
        self.error: BaseException | None = None


class DaemonThreadPool:
    """At most `size` busy daemon threads running submitted functions, reused
    between calls, plus up to `max_abandoned` threads still running a call
    nobody waits for any more (see `abandon`).

    Threads start one at a time, when a call is queued and every thread has
    spent `SPAWN_AFTER` seconds on its current call (or there is none): quick
    calls share the threads there are, however fast they come. A thread that
    finishes a call takes the next queued one at once, and the event loop is
    woken once for all the calls that finished meanwhile.

    `max_abandoned` defaults to `size`: past it, no replacement is started and
    the pool runs with fewer threads until an abandoned call returns.
    """

    def __init__(self, size: int, name: str = "ravyn-task", *, max_abandoned: int | None = None) -> None:
        if size < 1:
            raise ValueError(f"a thread pool needs at least one thread, got {size}")
        self.size = size
        self.name = name
        self.max_abandoned = size if max_abandoned is None else max_abandoned
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._running: set[_Job] = set()
        self._finished: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        self._threads = 0
        self._idle = 0
        self._abandoned = 0
        self._started = 0
        self._check_armed = False
        self._last_wait = 0.0
        """How long the call a thread took last had waited in the queue."""

    @property
    def threads(self) -> int:
        """How many threads the pool has now (each lives until the process ends, or
        leaves once an abandoned call returns to a pool that has enough)."""
        return self._threads

    @property
    def abandoned(self) -> int:
        """How many threads are still running a call that was abandoned."""
        return self._abandoned

    def submit(self, work: Callable[[], Any]) -> _Job:
        """Queue `work`. Called from an event loop, the job's `future` is done
        (on that loop) once the call returned or raised: see `run_in_daemon_thread`."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        job = _Job(work, loop)
        arm = False
        with self._lock:
            self._queue.put(job)
            if self._idle >= self._queue.qsize():
                spawn = False  # an idle thread takes it
            else:
                spawn = self._may_spawn()
                arm = not spawn and not self._check_armed and loop is not None
                self._check_armed = self._check_armed or arm
            number = self._count_new_thread() if spawn else 0
        if spawn:
            self._start(number)
        elif arm:
            assert loop is not None
            loop.call_later(SPAWN_AFTER, self._check)
        if self._queue.qsize() > BACKLOG:
            self._lend_the_gil()
        return job

    def _lend_the_gil(self) -> None:
        """Sleep `BACKLOG_PAUSE`, the GIL free, when calls pile up although
        no thread is stuck on a slow one.

        A thread that waits for the GIL only gets it when the holder waits for
        something; an event loop under load waits for nothing long, so the
        pool's threads run a few calls now and then while the loop queues
        thousands. Sleeping here hands them the GIL: the loop takes new requests
        a little slower, and the calls it queued keep pace instead of piling up.
        """
        with self._lock:
            lend = self._should_lend()
        if lend:
            time.sleep(BACKLOG_PAUSE)  # the GIL is free meanwhile

    def _should_lend(self) -> bool:
        """Whether queued calls wait for the GIL rather than for a thread (the
        lock is held): calls are queued, a thread is there to take them, none
        is stuck on a slow call, and the caller is not one of the pool's threads."""
        if self._queue.qsize() <= BACKLOG or self._threads - self._abandoned == 0:
            return False
        if threading.current_thread().name.startswith(f"{self.name}-"):
            return False
        now = time.perf_counter()
        # a slow call holds a thread: waiting would only stall the loop
        return all(now - job.started < SPAWN_AFTER for job in self._running if not job.abandoned)

    def _may_spawn(self) -> bool:
        """Whether a queued call may start a thread now (the lock is held)."""
        live = self._threads - self._abandoned
        if live >= self.size or self._threads >= self.size + self.max_abandoned:
            return False
        if live == 0:
            return True
        busy = [job for job in self._running if not job.abandoned]
        if len(busy) < live:
            return False  # a thread is between calls: it takes the next one itself
        if self._last_wait >= SPAWN_AFTER:
            return True  # calls of a few milliseconds each, queued behind each other
        now = time.perf_counter()
        return all(now - job.started >= SPAWN_AFTER for job in busy)

    def _count_new_thread(self) -> int:
        """Count a thread about to start (the lock is held); returns its number."""
        self._threads += 1
        self._started += 1
        return self._started

    def _start(self, number: int) -> None:
        threading.Thread(target=self._serve, name=f"{self.name}-{number}", daemon=True).start()

    def _check(self) -> None:
        """On the loop, `SPAWN_AFTER` after a call found every thread busy:
        start a thread if they still are, and look again later while calls wait."""
        with self._lock:
            self._check_armed = False
            waiting = self._queue.qsize() > self._idle
            spawn = waiting and self._may_spawn()
            self._check_armed = again = waiting
            number = self._count_new_thread() if spawn else 0
        if spawn:
            self._start(number)
        if again:
            asyncio.get_running_loop().call_later(SPAWN_AFTER, self._check)

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
            job = self._queue.get()
            with self._lock:
                self._idle -= 1
                if job.state == "cancelled":
                    continue
                job.state = "running"
                job.started = time.perf_counter()
                self._last_wait = job.started - job.queued
                self._running.add(job)
            try:
                job.value = job.work()
            except BaseException as exc:  # handed back to the waiting task
                job.error = exc
            with self._lock:
                self._running.discard(job)
                job.state = "done"
                if job.abandoned:
                    self._abandoned -= 1
                    if self._threads - self._abandoned > self.size:
                        # a replacement took this thread's place meanwhile: leave
                        self._threads -= 1
                        return
                    continue
                loop = job.loop
                if loop is None:
                    continue
                finished = self._finished.setdefault(loop, [])
                finished.append(job)
                first = len(finished) == 1
            if first:
                # one wake-up of the loop for every call that finishes before it runs
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                    loop.call_soon_threadsafe(self._deliver, loop)

    def _deliver(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            finished = self._finished.pop(loop, [])
        for job in finished:
            if job.future is not None and not job.future.done():  # not cancelled meanwhile
                job.future.set_result(None)


async def run_in_daemon_thread(
    call: Callable[[], T], limiter: anyio.CapacityLimiter | None, pool: DaemonThreadPool
) -> T:
    """Run `call()` on one of `pool`'s threads and wait for its result.

    The caller's context variables are visible in the thread. If the waiting
    task is cancelled (a timeout, or the shutdown drain), the call is
    abandoned: its slot in `limiter` and in `pool` is freed at once, and the
    call finishes on its own, or dies with the process. A call still queued
    when its wait is cancelled never runs. Where there are no threads,
    `call()` runs inline.

    With `limiter=None`, the pool's own bound (`size` threads) is the only one:
    calls past it wait in the pool's queue, which costs the event loop less
    than a wait on an anyio limiter.
    """
    if not platform.THREADS_AVAILABLE:
        return platform.run_inline(call)
    if limiter is not None:
        # acquire_nowait first: `async with limiter` yields to the loop once even when a slot is free
        try:
            limiter.acquire_nowait()
        except anyio.WouldBlock:
            await limiter.acquire()
    try:
        job = pool.submit(functools.partial(contextvars.copy_context().run, call))
        assert job.future is not None
        try:
            await job.future
        except BaseException:
            pool.abandon(job)
            raise
    finally:
        if limiter is not None:
            limiter.release()
    if job.error is not None:
        raise job.error
    return job.value  # type: ignore[no-any-return]
