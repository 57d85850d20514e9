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
