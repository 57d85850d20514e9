"""Tests for ravyn/runner/threads.py: the daemon thread pool behind sync background tasks."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import time
from typing import Any

import anyio
import pytest

from ravyn.runner.threads import BACKLOG, SPAWN_AFTER, DaemonThreadPool, _Job, run_in_daemon_thread

pytestmark = pytest.mark.anyio

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


async def test_results_errors_and_context_come_back() -> None:
    pool, limiter = DaemonThreadPool(2), anyio.CapacityLimiter(2)
    request_id.set("r-42")
    assert await run_in_daemon_thread(lambda: request_id.get(), limiter, pool) == "r-42"
    with pytest.raises(ZeroDivisionError):
        await run_in_daemon_thread(lambda: 1 / 0, limiter, pool)


async def test_threads_are_daemons_reused_and_bounded() -> None:
    pool, limiter = DaemonThreadPool(3), anyio.CapacityLimiter(3)
    seen: set[int] = set()

    def which() -> None:
        assert threading.current_thread().daemon
        seen.add(threading.get_ident())
        threading.Event().wait(0.01)

    async with anyio.create_task_group() as group:
        for _ in range(30):
            group.start_soon(run_in_daemon_thread, which, limiter, pool)
    assert pool.threads <= 3 and len(seen) <= 3


async def test_a_cancelled_wait_abandons_the_call() -> None:
    pool, limiter = DaemonThreadPool(1), anyio.CapacityLimiter(1)
    release = threading.Event()
    with anyio.move_on_after(0.05) as scope:
        await run_in_daemon_thread(lambda: release.wait(10), limiter, pool)
    assert scope.cancelled_caught
    release.set()


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        DaemonThreadPool(0)


async def test_without_threads_sync_calls_run_inline_and_say_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import ravyn.threads as threads

    monkeypatch.setattr(threads, "THREADS_AVAILABLE", False)
    monkeypatch.setattr(threads, "_warned_inline", False)
    pool, limiter = DaemonThreadPool(1), anyio.CapacityLimiter(1)
    here = threading.get_ident()
    assert await run_in_daemon_thread(threading.get_ident, limiter, pool) == here
    assert await threads.run_sync(threading.get_ident) == here
    assert pool.threads == 0
    warnings = [r.getMessage() for r in caplog.records if r.name == "ravyn.threads"]
    assert warnings == ["No threads on this platform: sync handlers and tasks run inline, blocking the loop"]


async def test_an_abandoned_call_frees_its_slot_for_a_replacement_thread() -> None:
    pool, limiter = DaemonThreadPool(1), anyio.CapacityLimiter(1)
    release = threading.Event()
    try:
        with anyio.move_on_after(0.05):
            await run_in_daemon_thread(lambda: release.wait(30), limiter, pool)
        assert pool.abandoned == 1
        with anyio.fail_after(5):  # the old pool kept its one thread busy: this waited forever
            assert await run_in_daemon_thread(lambda: "replacement", limiter, pool) == "replacement"
        assert pool.threads == 2
    finally:
        release.set()
    with anyio.fail_after(5):
        while pool.abandoned or pool.threads > 1:
            await anyio.sleep(0.01)  # the stuck call returned: its thread left, being one too many


async def test_a_call_still_queued_when_its_wait_is_cancelled_never_runs() -> None:
    pool, limiter = DaemonThreadPool(1), anyio.CapacityLimiter(2)
    release = threading.Event()
    ran: list[str] = []
    async with anyio.create_task_group() as group:
        group.start_soon(run_in_daemon_thread, lambda: release.wait(30), limiter, pool)
        await anyio.sleep(0.05)
        with anyio.move_on_after(0.05):
            await run_in_daemon_thread(lambda: ran.append("queued"), limiter, pool)
        release.set()
    await run_in_daemon_thread(lambda: ran.append("later"), limiter, pool)
    assert ran == ["later"]


async def test_abandoned_threads_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    pool, limiter = DaemonThreadPool(1, max_abandoned=1), anyio.CapacityLimiter(1)
    release = threading.Event()
    try:
        for _ in range(2):
            with anyio.move_on_after(0.05):
                await run_in_daemon_thread(lambda: release.wait(30), limiter, pool)
        assert (pool.threads, pool.abandoned) == (2, 2)
        assert any("no replacement threads" in r.getMessage() for r in caplog.records)
        with anyio.move_on_after(0.2) as waited:
            await run_in_daemon_thread(lambda: None, limiter, pool)
        assert waited.cancelled_caught and pool.threads == 2  # no third thread
    finally:
        release.set()
    with anyio.fail_after(5):
        assert await run_in_daemon_thread(lambda: "back", limiter, pool) == "back"


# --------------------------------------------------------------------------- many quick calls on a busy loop


async def test_a_burst_of_quick_calls_shares_a_thread_instead_of_starting_one_each() -> None:
    pool = DaemonThreadPool(40)
    ran: list[int] = []
    async with anyio.create_task_group() as group:
        for number in range(500):
            group.start_soon(run_in_daemon_thread, functools.partial(ran.append, number), None, pool)
    assert sorted(ran) == list(range(500))
    # the old pool started a thread whenever a call found none idle: 40 threads fighting for the GIL
    assert pool.threads <= 10


async def test_slow_calls_still_get_a_thread_each_up_to_the_size() -> None:
    pool = DaemonThreadPool(3)
    together = threading.Barrier(3, timeout=10)  # only passes if three calls run at once
    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(run_in_daemon_thread, together.wait, None, pool)
    assert pool.threads == 3


async def test_calls_that_finish_together_wake_the_loop_once(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = DaemonThreadPool(1)
    deliveries: list[int] = []
    deliver = pool._deliver

    def counted(loop: Any) -> None:
        deliveries.append(len(pool._finished.get(loop, [])))
        deliver(loop)

    monkeypatch.setattr(pool, "_deliver", counted)
    results = await asyncio.gather(*(run_in_daemon_thread(lambda n=n: n, None, pool) for n in range(200)))
    assert results == list(range(200))
    assert sum(deliveries) == 200 and len(deliveries) < 100  # one wake-up per batch, not per call


async def test_a_limiter_still_bounds_the_calls_when_given() -> None:
    pool, limiter = DaemonThreadPool(4), anyio.CapacityLimiter(1)
    running: list[int] = []
    most = 0

    def step() -> None:
        nonlocal most
        running.append(1)
        most = max(most, len(running))
        threading.Event().wait(0.005)
        running.pop()

    async with anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(run_in_daemon_thread, step, limiter, pool)
    assert most == 1


def test_the_loop_lends_the_gil_only_to_quick_calls_past_the_backlog() -> None:
    pool = DaemonThreadPool(2)
    pool._threads = 1
    quick = _Job(lambda: None, None)
    quick.started = time.perf_counter()
    pool._running = {quick}
    for _ in range(BACKLOG):
        pool._queue.put(_Job(lambda: None, None))
    assert not pool._should_lend()  # at the backlog, not past it
    pool._queue.put(_Job(lambda: None, None))
    assert pool._should_lend()
    slow = _Job(lambda: None, None)
    slow.started = time.perf_counter() - 10 * SPAWN_AFTER
    pool._running.add(slow)
    assert not pool._should_lend()  # a slow call holds a thread: waiting would only stall the loop
    pool._running = {quick}
    pool._abandoned = 1
    assert not pool._should_lend()  # no thread left to take the calls
    pool._abandoned = 0
    verdict: list[bool] = []
    inside = threading.Thread(target=lambda: verdict.append(pool._should_lend()), name=f"{pool.name}-9")
    inside.start()
    inside.join()
    assert verdict == [False]  # a pool thread never waits for its own pool


async def test_calls_of_a_few_milliseconds_queued_behind_each_other_get_more_threads() -> None:
    pool = DaemonThreadPool(8)
    # each call is shorter than SPAWN_AFTER, but forty in a row on one thread keep the last waiting long
    async with anyio.create_task_group() as group:
        for _ in range(40):
            group.start_soon(run_in_daemon_thread, functools.partial(time.sleep, SPAWN_AFTER / 2), None, pool)
    assert pool.threads > 1
