"""Consecutive sync tasks of one request share one thread hop, keeping what
separate hops gave: order, a failure logged and the next task still run, each
task in its own copy of the request's context, and a drain that ends and
never starts the tasks still waiting."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import anyio
import pytest

from ravyn import BackgroundTask, BackgroundTasks
from ravyn.runner import TaskRunner

pytestmark = pytest.mark.anyio

trace_id: ContextVar[str] = ContextVar("trace_id", default="request")


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def counting_hops(runner: TaskRunner) -> list[int]:
    hops: list[int] = []
    submit = runner.pool.submit

    def counted(work: Callable[[], None]) -> Any:
        hops.append(1)
        return submit(work)

    runner.pool.submit = counted  # type: ignore[method-assign]
    return hops


async def test_three_sync_tasks_take_one_hop_in_order_each_in_its_own_context(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[tuple[str, str, str]] = []

    def step(name: str) -> None:
        seen.append((name, trace_id.get(), threading.current_thread().name))
        trace_id.set(f"set by {name}")  # must not leak into the next task
        if name == "second":
            raise ValueError("second broke")

    runner = TaskRunner()
    hops = counting_hops(runner)
    tasks = BackgroundTasks()
    for name in ("first", "second", "third"):
        tasks.add_task(step, name)
    with caplog.at_level(logging.ERROR, logger="ravyn.background"):
        await runner.run(tasks)
    assert [name for name, _, _ in seen] == ["first", "second", "third"]
    assert {trace for _, trace, _ in seen} == {"request"}
    assert all(thread.startswith("ravyn-task") for _, _, thread in seen)
    assert len(hops) == 1
    assert (runner.stats.succeeded, runner.stats.failed, runner.stats.running) == (2, 1, 0)
    failures = [r.getMessage() for r in caplog.records]
    assert (
        len(failures) == 1
        and "step('second') failed" in failures[0]
        and "ValueError: second broke" in failures[0]
    )


async def test_an_async_task_or_a_policy_splits_the_hops() -> None:
    ran: list[str] = []

    async def on_loop(name: str) -> None:
        ran.append(name)

    runner = TaskRunner()
    hops = counting_hops(runner)
    tasks = BackgroundTasks()
    tasks.add_task(ran.append, "a")
    tasks.add_task(ran.append, "b")
    tasks.add_task(on_loop, "c")
    tasks.add_task(ran.append, "d")
    tasks.tasks.append(BackgroundTask(ran.append, "e").configure(timeout=5))
    await runner.run(tasks)
    assert ran == ["a", "b", "c", "d", "e"]
    assert len(hops) == 3  # a+b, d, e (its own timeout)


async def test_listeners_get_every_event_in_order_so_no_batch_then() -> None:
    runner = TaskRunner()
    events: list[tuple[str, str]] = []
    runner.add_listener(lambda event: events.append((event.kind, event.name)))
    hops = counting_hops(runner)
    tasks = BackgroundTasks()
    tasks.add_task(print, "x")
    tasks.add_task(print, "y")
    await runner.run(tasks)
    assert [kind for kind, _ in events] == ["started", "finished", "started", "finished"]
    assert len(hops) == 2


async def test_the_drain_ends_a_batch_and_its_waiting_tasks_never_start(
    release: threading.Event, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []
    runner = TaskRunner()
    tasks = BackgroundTasks()
    tasks.add_task(release.wait, 30)
    tasks.add_task(ran.append, "after")
    with caplog.at_level(logging.ERROR, logger="ravyn.background"), anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(runner.run, tasks)
            await anyio.sleep(0.05)
            assert await runner.drain(timeout=0.1) == 2
    release.set()
    await anyio.sleep(0.1)
    assert ran == []
    messages = [r.getMessage() for r in caplog.records]
    assert any("wait(30) lost: cancelled at shutdown" in m for m in messages)
    assert any("append('after') lost: cancelled at shutdown" in m for m in messages)
    stats = runner.snapshot()
    assert stats["lost"] == 2 and stats["running"] == 0
