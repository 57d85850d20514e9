"""A task added to a collection while the collection's tasks run is run, after
them, in order; never dropped silently. Bounded like the handler's own adds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from ravyn import BackgroundTasks, Ravyn, post
from ravyn.runner import TaskRunner
from ravyn.testing import record
from tests.support.runner import balanced

pytestmark = pytest.mark.anyio


def _steps(kind: str, done: list[str]) -> Callable[..., Any]:
    """A task that notes its name and, the first time, adds `then` to `collection`."""

    def sync_step(collection: BackgroundTasks, name: str, then: str | None) -> None:
        done.append(name)
        if then is not None:
            collection.add_task(sync_step, collection, then, None)

    async def async_step(collection: BackgroundTasks, name: str, then: str | None) -> None:
        done.append(name)
        if then is not None:
            collection.add_task(async_step, collection, then, None)

    return sync_step if kind == "sync" else async_step


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("first", [1, 2])
async def test_a_task_adding_to_its_own_collection_in_a_request_is_run(kind: str, first: int) -> None:
    done: list[str] = []
    step = _steps(kind, done)

    @post("/chain")
    async def chain(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(step, tasks, "first", "added")
        if first == 2:
            tasks.add_task(step, tasks, "second", None)
        return {"ok": "chained"}

    app = Ravyn(routes=[chain])
    assert (await record(app, "POST", "/chain")).status == 201
    expected = ["first", "added"] if first == 1 else ["first", "second", "added"]
    assert done == expected
    stats = app.task_stats()
    assert (stats["started"], stats["succeeded"]) == (len(expected), len(expected)) and balanced(stats)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_task_adding_to_its_collection_outside_an_app_is_run(kind: str) -> None:
    done: list[str] = []
    collection = BackgroundTasks()
    collection.add_task(_steps(kind, done), collection, "first", "added")
    runner = TaskRunner()
    await runner.run(collection)
    assert done == ["first", "added"]
    assert runner.stats.succeeded == 2 and balanced(runner.snapshot())


async def test_a_task_that_keeps_adding_itself_stops_at_the_requests_room(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []

    def again(collection: BackgroundTasks) -> None:
        runs.append(len(runs))
        collection.add_task(again, collection)

    @post("/forever")
    async def forever(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(again, tasks)
        return {"ok": "started"}

    app = Ravyn(routes=[forever], max_pending_tasks=5)
    with caplog.at_level(logging.ERROR, logger="ravyn.background"):
        assert (await record(app, "POST", "/forever")).status == 201
    assert runs == [0, 1, 2, 3, 4]  # the request could hold five tasks in all
    stats = app.task_stats()
    assert (stats["started"], stats["succeeded"], stats["failed"]) == (5, 4, 1) and balanced(stats)
    assert stats["refused"] == 0  # the response had gone: the last add failed its task instead
    failures = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 1 and "TooManyTasks" in failures[0]


@pytest.mark.parametrize("first", [1, 2])
async def test_a_task_added_by_a_task_the_drain_cancelled_is_counted_lost_not_run(
    first: int, caplog: pytest.LogCaptureFixture
) -> None:
    runner = TaskRunner()
    ran: list[str] = []
    started = anyio.Event()
    collection = BackgroundTasks()

    async def slow(into: BackgroundTasks) -> None:
        into.add_task(ran.append, "added")
        started.set()
        await anyio.sleep(30)

    collection.add_task(slow, collection)
    if first == 2:  # a plan, not the one-task path
        collection.add_task(ran.append, "second")
    with caplog.at_level(logging.ERROR, logger="ravyn.background"), anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(runner.run, collection)
            await started.wait()
            lost = await runner.drain(0.05)
    assert ran == []
    assert lost == first + 1
    stats = runner.snapshot()
    assert (stats["lost"], stats["running"]) == (first + 1, 0) and balanced(stats)
    messages = [r.getMessage() for r in caplog.records]
    assert "Background task list.append('added') lost: cancelled at shutdown" in messages


@pytest.mark.parametrize("first", [1, 2])
async def test_a_task_added_after_its_collection_ran_is_named_in_a_warning_not_dropped_silently(
    first: int, caplog: pytest.LogCaptureFixture
) -> None:
    # a task leaves a coroutine behind that adds to the collection once the request is over
    ran: list[str] = []
    go = asyncio.Event()
    added = asyncio.Event()
    late: list[asyncio.Task[None]] = []

    async def add_later(collection: BackgroundTasks) -> None:
        await go.wait()
        collection.add_task(ran.append, "too late")
        added.set()

    async def leave_behind(collection: BackgroundTasks) -> None:
        ran.append("first")
        late.append(asyncio.get_running_loop().create_task(add_later(collection)))

    @post("/late")
    async def late_route(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(leave_behind, tasks)
        if first == 2:  # a plan, not the one-task path
            tasks.add_task(ran.append, "second")
        return {"ok": "started"}

    app = Ravyn(routes=[late_route])
    with caplog.at_level(logging.WARNING, logger="ravyn.background"):
        assert (await record(app, "POST", "/late")).status == 201
        go.set()
        with anyio.fail_after(5):
            await added.wait()
    assert ran == ["first", "second"][:first]  # nothing runs it: the collection's run is over
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "Background task list.append('too late') added to a collection whose tasks already ran: "
        "it runs only if the collection is run again"
    ]
    stats = app.task_stats()
    assert stats["started"] == first and balanced(stats)


async def test_a_collection_run_again_runs_the_task_added_after_its_first_run() -> None:
    ran: list[str] = []
    collection = BackgroundTasks()
    collection.add_task(ran.append, "one")
    runner = TaskRunner()
    await runner.run(collection)
    collection.add_task(ran.append, "two")  # logged: the first run is over
    await runner.run(collection)
    assert ran == ["one", "one", "two"]  # Lilya's semantics: a collection runs all it holds
