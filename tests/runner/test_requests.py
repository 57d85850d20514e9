"""ravyn/runner/requests.py and the runner's admission: which methods run no
tasks, and `max_pending_tasks` as a bound on tasks, not only on requests."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest
from lilya.background import Task, Tasks
from lilya.requests import Request
from lilya.responses import PlainText
from lilya.routing import Path

from ravyn import BackgroundTasks, Ravyn, post, route
from ravyn.background import TooManyTasks
from ravyn.runner import METHODS_WITHOUT_TASKS
from ravyn.testing import Recorder, record
from tests.support.runner import balanced

pytestmark = pytest.mark.anyio

FLOOD = 100_000


def test_the_methods_without_tasks_are_head_and_options() -> None:
    assert frozenset({"HEAD", "OPTIONS"}) == METHODS_WITHOUT_TASKS


def test_the_old_name_still_imports_with_a_deprecation_warning() -> None:
    import ravyn.runner

    with pytest.warns(DeprecationWarning, match="METHODS_WITHOUT_TASKS"):
        old = ravyn.runner.SAFE_METHODS
    assert old is METHODS_WITHOUT_TASKS


def _flood_route(kind: str, ran: list[int], held: list[int]) -> Any:
    """A handler that adds FLOOD tasks to its collector, noting how many it held."""

    def add_all(tasks: BackgroundTasks) -> None:
        try:
            for n in range(FLOOD):
                tasks.add_task(ran.append, n)
        finally:
            held.append(len(tasks))

    if kind == "async":

        @post("/flood")
        async def flood(tasks: BackgroundTasks) -> dict[str, str]:
            add_all(tasks)
            return {"ok": "all added"}

        return flood

    @post("/flood")
    def flood_sync(tasks: BackgroundTasks) -> dict[str, str]:
        add_all(tasks)
        return {"ok": "all added"}

    return flood_sync


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_handler_adding_far_more_tasks_than_the_bound_is_answered_503_and_runs_none(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[int] = []
    held: list[int] = []
    app = Ravyn(routes=[_flood_route(kind, ran, held)], max_pending_tasks=10)
    with caplog.at_level(logging.WARNING, logger="ravyn.background"):
        answer = await record(app, "POST", "/flood")
    assert answer.status == 503 and answer.header("retry-after") == "1"
    assert "at most 10" in answer.json()["detail"]
    assert held == [10]  # the collector never held more than the bound
    assert ran == []
    stats = app.task_stats()
    assert (stats["refused"], stats["started"], stats["rejected"]) == (1, 0, 0) and balanced(stats)
    assert any("handler added more than 10 background task(s)" in r.getMessage() for r in caplog.records)
    assert (await record(app, "POST", "/flood")).status == 503  # and again: nothing was kept


async def test_the_room_a_request_gets_counts_the_tasks_other_requests_hold() -> None:
    gate = anyio.Event()

    async def wait_for_gate() -> None:
        await gate.wait()

    @post("/hold")
    async def hold(tasks: BackgroundTasks) -> dict[str, int]:
        tasks.add_task(wait_for_gate)
        tasks.add_task(wait_for_gate)
        return {"held": 2}

    @post("/two")
    async def two(tasks: BackgroundTasks) -> dict[str, int]:
        tasks.add_task(print, "one")
        tasks.add_task(print, "two")  # only one place is left
        return {"added": 2}

    app = Ravyn(routes=[hold, two], max_pending_tasks=3)
    async with Recorder(app) as recorder, anyio.create_task_group() as group:
        group.start_soon(lambda: recorder.request("POST", "/hold"))
        with anyio.fail_after(5):
            while app.task_stats()["running"] < 2:
                await anyio.sleep(0.01)
        refused = await recorder.request("POST", "/two")
        assert refused.status == 503 and "at most 1" in refused.json()["detail"]
        gate.set()
    stats = app.task_stats()
    assert (stats["succeeded"], stats["refused"]) == (2, 1) and balanced(stats)


async def test_a_handler_that_catches_too_many_tasks_keeps_the_tasks_that_fit() -> None:
    ran: list[int] = []

    @post("/careful")
    async def careful(tasks: BackgroundTasks) -> dict[str, int]:
        try:
            for n in range(FLOOD):
                tasks.add_task(ran.append, n)
        except TooManyTasks as exc:
            return {"queued": exc.room}
        return {"queued": FLOOD}

    app = Ravyn(routes=[careful], max_pending_tasks=5)
    answer = await record(app, "POST", "/careful")
    assert (answer.status, answer.json()) == (201, {"queued": 5})
    assert ran == [0, 1, 2, 3, 4]
    stats = app.task_stats()
    assert (stats["succeeded"], stats["refused"], stats["rejected"]) == (5, 0, 0) and balanced(stats)


async def test_a_lilya_collection_past_the_bound_runs_what_fits_and_rejects_the_rest_by_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[int] = []

    async def big(request: Request) -> PlainText:
        return PlainText("ok", background=Tasks(tasks=[Task(ran.append, n) for n in range(50)]))

    app = Ravyn(routes=[Path("/big", big, methods=["POST"])], max_pending_tasks=10)
    with caplog.at_level(logging.ERROR, logger="ravyn.background"):
        answer = await record(app, "POST", "/big")
    assert answer.status == 200  # Lilya's route answered before the runner saw its tasks
    assert ran == list(range(10))
    stats = app.task_stats()
    assert (stats["started"], stats["succeeded"], stats["rejected"]) == (50, 10, 40) and balanced(stats)
    rejected = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejected) == 1 and rejected[0].startswith("40 background task(s) rejected")
    assert rejected[0].endswith(": " + ", ".join(["list.append"] * 10) + " and 30 more")  # not forty names


async def test_a_route_that_reserves_nothing_still_holds_at_most_max_pending_tasks() -> None:
    held: list[int] = []
    ran: list[int] = []

    async def lilya_flood(request: Request) -> PlainText:
        tasks = BackgroundTasks()
        try:
            for n in range(FLOOD):
                tasks.add_task(ran.append, n)
        finally:
            held.append(len(tasks))
        return PlainText("all added", background=tasks)

    @route("/report", methods=["GET"])
    async def report(tasks: BackgroundTasks) -> dict[str, str]:
        try:
            for n in range(FLOOD):
                tasks.add_task(ran.append, n)
        finally:
            held.append(len(tasks))
        return {"ok": "all added"}

    app = Ravyn(routes=[Path("/lilya", lilya_flood, methods=["POST"]), report], max_pending_tasks=10)
    lilya = await record(app, "POST", "/lilya")
    head = await record(app, "HEAD", "/report")  # HEAD reserves no place: its tasks never run
    assert (lilya.status, lilya.header("retry-after")) == (503, "1")
    assert head.status == 503
    assert held == [10, 10] and ran == []
    stats = app.task_stats()
    assert (stats["refused"], stats["started"]) == (2, 0) and balanced(stats)
