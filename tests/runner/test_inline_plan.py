"""A request's plan with no group runs its async tasks (those with no timeout)
in the request's own asyncio task, with no cancel scope: the drain cancels that
task once, takes the cancellation back, and never starts the rest."""

from __future__ import annotations

import asyncio
import logging

import anyio
import pytest

from ravyn import BackgroundTask, BackgroundTasks
from ravyn.runner import TaskRunner
from tests.support.runner import Stubborn, balanced

pytestmark = pytest.mark.anyio


async def test_a_plans_async_tasks_run_in_order_in_the_requests_task(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[tuple[str, asyncio.Task[object] | None]] = []

    async def step(name: str) -> None:
        seen.append((name, asyncio.current_task()))
        if name == "b":
            raise asyncio.CancelledError("raised by the task, not a cancellation")

    def on_thread(name: str) -> None:
        seen.append((name, None))

    runner = TaskRunner()
    tasks = BackgroundTasks()
    tasks.add_task(step, "a")
    tasks.add_task(step, "b")
    tasks.add_task(on_thread, "c")
    tasks.tasks.append(BackgroundTask(step, "d").configure(timeout=5))  # a timeout: a task of its own
    with caplog.at_level(logging.ERROR, logger="ravyn.background"):
        await runner.run(tasks)
    here = asyncio.current_task()
    assert [name for name, _ in seen] == ["a", "b", "c", "d"]
    assert seen[0][1] is here and seen[1][1] is here and seen[3][1] is not here
    assert (runner.stats.succeeded, runner.stats.failed) == (3, 1) and balanced(runner.snapshot())
    assert here is not None and here.cancelling() == 0 and not runner._hosted
    assert any("step('b') failed" in r.getMessage() for r in caplog.records)


async def test_the_drain_cancels_a_plan_once_and_never_starts_the_rest() -> None:
    cancelled: list[str] = []
    ran: list[str] = []

    async def slow(name: str) -> None:
        try:
            await anyio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    runner = TaskRunner()
    tasks = BackgroundTasks()
    tasks.add_task(slow, "first")
    tasks.add_task(ran.append, "second")
    with anyio.fail_after(10):
        host = asyncio.ensure_future(runner.run(tasks))
        await anyio.sleep(0.05)
        assert await runner.drain(timeout=0.05) == 2
        await host
    assert cancelled == ["first"] and ran == []
    assert not host.cancelled() and host.cancelling() == 0
    stats = runner.snapshot()
    assert (stats["lost"], stats["running"], stats["abandoned"]) == (2, 0, 0) and balanced(stats)


async def test_a_plan_task_ignoring_the_drain_is_counted_once_and_the_rest_never_start() -> None:
    stubborn = Stubborn()
    ran: list[str] = []
    runner = TaskRunner()
    tasks = BackgroundTasks()
    tasks.add_task(stubborn.run)
    tasks.add_task(ran.append, "after")
    with anyio.fail_after(10):
        host = asyncio.ensure_future(runner.run(tasks))
        await anyio.sleep(0.05)
        assert await runner.drain(timeout=0.05) == 2
        assert runner.snapshot()["abandoned"] == 1 and balanced(runner.snapshot())
        stubborn.stop.set()
        await host
    assert stubborn.swallowed == 1 and ran == []
    assert not host.cancelled() and host.cancelling() == 0
    stats = runner.snapshot()
    assert (stats["lost"], stats["succeeded"], stats["running"], stats["abandoned"]) == (2, 0, 0, 0)
    assert balanced(stats)


async def test_an_outside_cancellation_of_a_plan_propagates(caplog: pytest.LogCaptureFixture) -> None:
    async def waits() -> None:
        await anyio.sleep(30)

    runner = TaskRunner()
    tasks = BackgroundTasks()
    tasks.add_task(waits)
    tasks.add_task(print, "never")
    with caplog.at_level(logging.ERROR, logger="ravyn.background"), anyio.move_on_after(0.1) as scope:
        await runner.run(tasks)
    assert scope.cancelled_caught and runner.stats.lost == 2 and balanced(runner.snapshot())
    assert "2 background task(s) lost: cancelled from outside the runner" in [
        r.getMessage() for r in caplog.records
    ]


async def test_a_plan_with_a_group_keeps_its_cancel_scope() -> None:
    async def note() -> None: ...

    runner = TaskRunner()
    runs: list[object] = []
    original = runner._run_steps

    async def spy(run, leaf):  # type: ignore[no-untyped-def]
        runs.append((run.host, run.scope is not None))
        await original(run, leaf)

    runner._run_steps = spy  # type: ignore[method-assign]
    await runner.run(BackgroundTasks(tasks=[BackgroundTask(note), BackgroundTask(note)], as_group=True))
    await runner.run(BackgroundTasks(tasks=[BackgroundTask(note), BackgroundTask(note)]))
    assert runs == [(None, True), (asyncio.current_task(), False)]
    assert runner.stats.succeeded == 4
