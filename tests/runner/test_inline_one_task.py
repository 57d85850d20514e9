"""The runner's path for a request with one async task (no timeout, retries or
error hook): it runs with no cancel scope and no plan, and the drain, a second
signal and an outside cancellation must treat it exactly as any other run."""

from __future__ import annotations

import asyncio
import logging
import threading
from contextvars import ContextVar

import anyio
import pytest

from ravyn import BackgroundTask, BackgroundTasks
from ravyn.runner import TaskRunner, serving
from tests.support.runner import Stubborn, balanced

pytestmark = pytest.mark.anyio


async def test_one_task_and_a_collection_of_one_run_in_the_requests_own_task() -> None:
    ran: list[tuple[str, asyncio.Task[object] | None]] = []

    async def note(what: str) -> None:
        ran.append((what, asyncio.current_task()))

    runner = TaskRunner()
    seen: list[object] = []
    original = runner._run_steps

    async def spy(run, leaf):  # type: ignore[no-untyped-def]
        seen.append(run)
        await original(run, leaf)

    runner._run_steps = spy  # type: ignore[method-assign]
    collection = BackgroundTasks()
    collection.add_task(note, "in a collection")
    await runner.run(None, BackgroundTask(note, "alone"), None)
    await runner.run(collection, None, None)
    here = asyncio.current_task()
    assert ran == [("alone", here), ("in a collection", here)]
    assert seen == []  # no _Run, no plan, no scope, no task of its own
    assert runner.stats.succeeded == 2 and balanced(runner.snapshot())
    assert not runner._inline and here is not None and here.cancelling() == 0


async def test_the_drain_cancels_one_task_once_and_logs_it_lost(caplog: pytest.LogCaptureFixture) -> None:
    cancelled: list[str] = []

    async def slow_export(batch: str) -> None:
        try:
            await anyio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(batch)
            raise

    runner = TaskRunner()
    with caplog.at_level(logging.ERROR, logger="ravyn.background"), anyio.fail_after(10):
        async with anyio.create_task_group() as group:  # a run ended by the drain raises nothing
            group.start_soon(runner.run, BackgroundTask(slow_export, "b1"))
            await anyio.sleep(0.05)
            assert await runner.drain(timeout=0.1) == 1
    assert cancelled == ["b1"]
    messages = [r.getMessage() for r in caplog.records]
    assert any("slow_export('b1') lost: cancelled at shutdown" in m for m in messages)
    assert "1 background task(s) lost at shutdown" in messages
    assert runner.stats.lost == 1 and runner.snapshot()["abandoned"] == 0 and balanced(runner.snapshot())


async def test_an_outside_cancellation_of_one_task_still_propagates(caplog: pytest.LogCaptureFixture) -> None:
    async def waits() -> None:
        await anyio.sleep(30)

    runner = TaskRunner()
    with caplog.at_level(logging.ERROR, logger="ravyn.background"), anyio.move_on_after(0.1) as scope:
        await runner.run(BackgroundTask(waits))
    assert scope.cancelled_caught
    assert runner.stats.lost == 1 and balanced(runner.snapshot())
    assert "1 background task(s) lost: cancelled from outside the runner" in [
        r.getMessage() for r in caplog.records
    ]


async def test_an_outside_cancellation_during_the_drains_still_propagates() -> None:
    async def waits() -> None:
        await anyio.sleep(30)

    runner = TaskRunner()
    outcome: list[str] = []

    async def request() -> None:
        try:
            await runner.run(BackgroundTask(waits))
            outcome.append("returned")
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    with anyio.fail_after(10):
        host = asyncio.ensure_future(request())
        await anyio.sleep(0.05)
        runner._cancel_running()  # the drain's cancellation...
        host.cancel()  # ...and the server's, before the request's task wakes up
        await asyncio.wait((host,))
    assert outcome == ["cancelled"] and host.cancelled()


async def test_a_second_signal_names_every_single_task(caplog: pytest.LogCaptureFixture) -> None:
    async def slow_export(batch: str) -> None:
        await anyio.sleep(30)

    runner = TaskRunner()
    with caplog.at_level(logging.ERROR, logger="ravyn.background"), anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            for batch in ("a", "b", "c"):
                group.start_soon(runner.run, BackgroundTask(slow_export, batch))
            await anyio.sleep(0.05)
            group.start_soon(runner.drain, 30)
            await anyio.sleep(0.05)
            assert runner.finish_now() == 3
    messages = [r.getMessage() for r in caplog.records]
    for batch in ("a", "b", "c"):
        assert any(
            f"slow_export('{batch}') lost: cancelled at once by a second signal" in m for m in messages
        )
    assert runner.stats.lost == 3 and balanced(runner.snapshot())


async def test_one_failing_task_with_app_wide_stop_on_error_warns_as_before(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken() -> None:
        raise ValueError("boom")

    runner = TaskRunner(stop_on_error=True)
    with caplog.at_level(logging.WARNING, logger="ravyn.background"), serving(runner, "POST"):
        await runner.run(BackgroundTask(broken))
    messages = [r.getMessage() for r in caplog.records]
    assert "Skipping the remaining background tasks: stop_on_error is set" in messages
    assert runner.stats.failed == 1 and balanced(runner.snapshot())


async def test_the_requests_task_goes_on_uncancelled_after_the_drain() -> None:
    async def slow_export() -> None:
        await anyio.sleep(30)

    runner = TaskRunner()
    after: list[int] = []

    async def request() -> None:
        await runner.run(BackgroundTask(slow_export))
        # the drain's cancellation was taken back: the rest of the request runs normally
        after.append(asyncio.current_task().cancelling())  # type: ignore[union-attr]
        await asyncio.sleep(0)
        after.append(-1)

    with anyio.fail_after(10):
        host = asyncio.ensure_future(request())
        await anyio.sleep(0.05)
        assert await runner.drain(timeout=0.05) == 1
        await host
    assert after == [0, -1] and not host.cancelled() and host.cancelling() == 0
    assert runner.stats.lost == 1 and balanced(runner.snapshot())


async def test_a_task_that_catches_the_drains_cancellation_and_returns_is_lost_once() -> None:
    cleaned: list[str] = []

    async def tidy() -> None:
        try:
            await anyio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(0.01)  # its clean-up, within CANCEL_GRACE
            cleaned.append("tidy")

    runner = TaskRunner()
    with anyio.fail_after(10):
        host = asyncio.ensure_future(runner.run(BackgroundTask(tidy)))
        await anyio.sleep(0.05)
        assert await runner.drain(timeout=0.05) == 1
        await host
    assert cleaned == ["tidy"] and host.cancelling() == 0
    stats = runner.snapshot()
    assert (stats["lost"], stats["succeeded"], stats["abandoned"]) == (1, 0, 0) and balanced(stats)


async def test_a_second_signal_on_a_task_that_ignores_it_counts_it_once() -> None:
    stubborn = Stubborn()
    runner = TaskRunner()
    with anyio.fail_after(10):
        host = asyncio.ensure_future(runner.run(BackgroundTask(stubborn.run)))
        await anyio.sleep(0.05)
        drain = asyncio.ensure_future(runner.drain(30))
        await anyio.sleep(0.05)
        assert runner.finish_now() == 1
        assert await drain == 1
        await anyio.sleep(0.05)
        assert runner.snapshot()["abandoned"] == 1 and balanced(runner.snapshot())
        stubborn.stop.set()
        await host
    assert stubborn.swallowed == 1 and host.cancelling() == 0
    stats = runner.snapshot()
    assert (stats["lost"], stats["running"], stats["abandoned"]) == (1, 0, 0) and balanced(stats)


RAISED = [SystemExit(3), KeyboardInterrupt(), GeneratorExit(), asyncio.CancelledError("not a real cancel")]


@pytest.mark.parametrize("error", RAISED, ids=lambda e: type(e).__name__)
async def test_what_one_task_raises_is_a_failure_contained_in_the_request(
    error: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    async def raise_it() -> None:
        raise error

    runner = TaskRunner()
    with caplog.at_level(logging.ERROR, logger="ravyn.background"), anyio.fail_after(5):
        await runner.run(BackgroundTask(raise_it))
        await asyncio.sleep(0)  # the request's task is not cancelled
    assert (runner.stats.failed, runner.stats.succeeded) == (1, 0) and balanced(runner.snapshot())
    (record,) = caplog.records
    assert "raise_it() failed" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[1] is error
    if not isinstance(error, asyncio.CancelledError):  # the logged traceback starts at the task
        assert error.__traceback__ is not None
        assert error.__traceback__.tb_frame.f_code.co_name == "raise_it"
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_task_running_another_task_counts_both() -> None:
    ran: list[str] = []

    async def inner() -> None:
        ran.append("inner")

    async def outer() -> None:
        await runner.run(BackgroundTask(inner))  # the same request's task: not inline twice
        ran.append("outer")

    runner = TaskRunner()
    await runner.run(BackgroundTask(outer))
    assert ran == ["inner", "outer"]
    stats = runner.snapshot()
    assert (stats["started"], stats["succeeded"], stats["running"]) == (2, 2, 0) and balanced(stats)


trace_id: ContextVar[str] = ContextVar("trace_id", default="request")


async def test_one_sync_task_runs_on_a_task_thread_in_its_own_context(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[tuple[str, str]] = []

    def step(fail: bool) -> None:
        seen.append((trace_id.get(), threading.current_thread().name))
        trace_id.set("set by the task")  # must not leak into the request
        if fail:
            raise ValueError("broke")

    runner = TaskRunner()
    with caplog.at_level(logging.ERROR, logger="ravyn.background"):
        await runner.run(BackgroundTask(step, False))
        await runner.run(BackgroundTask(step, True))
    assert trace_id.get() == "request"
    assert [trace for trace, _ in seen] == ["request", "request"]
    assert all(thread.startswith("ravyn-task") for _, thread in seen)
    assert (runner.stats.succeeded, runner.stats.failed) == (1, 1) and balanced(runner.snapshot())
    (record,) = caplog.records
    assert "step(True) failed" in record.getMessage() and record.exc_info is not None
    error = record.exc_info[1]
    assert error is not None and error.__traceback__ is not None
    assert error.__traceback__.tb_frame.f_code.co_name == "step"  # the log starts at the task


async def test_the_drain_gives_up_on_one_sync_task_and_the_request_goes_on() -> None:
    release = threading.Event()
    runner = TaskRunner()
    try:
        with anyio.fail_after(10):
            host = asyncio.ensure_future(runner.run(BackgroundTask(release.wait, 30)))
            await anyio.sleep(0.05)
            assert await runner.drain(timeout=0.05) == 1
            await host
        assert not host.cancelled() and host.cancelling() == 0
        stats = runner.snapshot()
        assert (stats["lost"], stats["abandoned"], stats["running"]) == (1, 1, 0) and balanced(stats)
    finally:
        release.set()
