"""The runner's path for a request with one async task (no timeout, retries or
error hook): it runs with no cancel scope and no plan, and the drain, a second
signal and an outside cancellation must treat it exactly as any other run."""

from __future__ import annotations

import asyncio
import logging

import anyio
import pytest

from ravyn import BackgroundTask, BackgroundTasks
from ravyn.runner import TaskRunner, serving

pytestmark = pytest.mark.anyio


def balanced(stats: dict[str, int]) -> bool:
    ended = ("succeeded", "failed", "skipped", "rejected", "lost", "running")
    return stats["started"] == sum(stats[key] for key in ended)


async def test_one_task_and_a_collection_of_one_take_the_path_without_a_scope() -> None:
    ran: list[str] = []

    async def note(what: str) -> None:
        ran.append(what)

    runner = TaskRunner()
    seen: list[object] = []
    original = runner._run_steps

    async def spy(run, leaf):  # type: ignore[no-untyped-def]
        seen.append((run.plan, run.scope))
        await original(run, leaf)

    runner._run_steps = spy  # type: ignore[method-assign]
    collection = BackgroundTasks()
    collection.add_task(note, "in a collection")
    await runner.run(None, BackgroundTask(note, "alone"), None)
    await runner.run(collection, None, None)
    assert ran == ["alone", "in a collection"]
    assert seen == [(None, None), (None, None)]
    assert runner.stats.succeeded == 2 and balanced(runner.snapshot())


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
        (run,) = runner._active
        run.cancel()  # the drain's cancellation...
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
