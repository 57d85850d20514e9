"""Tests for ravyn/threads.py: the daemon thread pool behind sync background tasks."""

from __future__ import annotations

import contextvars
import threading

import anyio
import pytest

from ravyn.threads import DaemonThreadPool, run_in_daemon_thread

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
