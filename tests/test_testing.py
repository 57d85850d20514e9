"""Tests for ravyn/testing/: the timeline recorder, the real-server helper and TestClient."""

from __future__ import annotations

import logging

import anyio
import pytest

from ravyn import BackgroundTask, BackgroundTasks, Ravyn, Request, get, post
from ravyn.responses import JSONResponse
from ravyn.testing import Recorder, TestClient, mark, record

pytestmark = pytest.mark.anyio

log = logging.getLogger("tests.shop")


def pack_parcel(order: int) -> None:
    mark("parcel_packed", order=order)
    print(f"packed {order}")
    log.info("shipped %s", order)


@post("/orders")
def create_order(order: int, tasks: BackgroundTasks) -> dict[str, int]:
    tasks.add_task(pack_parcel, order)
    return {"order": order}


app = Ravyn(routes=[create_order])


async def test_events_are_recorded_in_order_on_one_clock() -> None:
    timeline = await record(app, "POST", "/orders", json={"order": 9})
    assert timeline.status == 201 and timeline.json() == {"order": 9}
    assert timeline.kinds == [
        "request",
        "response_started",
        "response_complete",
        "task_started",
        "mark",
        "output",
        "log",
        "task_finished",
        "call_complete",
    ]
    times = [event.at for event in timeline.events]
    assert times == sorted(times)
    assert timeline.first("mark").name == "parcel_packed"
    assert timeline.first("mark").detail == {"order": 9}
    assert timeline.lines() == ["packed 9", "shipped 9"]
    assert timeline.task_names() == ["pack_parcel"]
    assert timeline.response_complete < timeline.first("task_started")


async def test_render_lists_every_event() -> None:
    timeline = await record(app, "POST", "/orders", json={"order": 1})
    rendered = timeline.render()
    assert len(rendered.splitlines()) == len(timeline.events)
    assert "pack_parcel" in rendered and "packed 1" in rendered


async def test_first_explains_what_was_recorded_when_missing() -> None:
    timeline = await record(app, "GET", "/missing")
    with pytest.raises(AssertionError, match="no 'task_started' event; recorded:"):
        timeline.first("task_started")


async def test_mark_outside_a_recording_does_nothing() -> None:
    mark("nobody listening")


async def test_a_recorder_keeps_the_lifespan_open_across_requests() -> None:
    state: list[str] = []

    @get("/state")
    def read_state() -> list[str]:
        return state

    lifecycle = Ravyn(
        routes=[read_state],
        on_startup=[lambda: state.append("started")],
        on_shutdown=[lambda: state.append("stopped")],
    )
    async with Recorder(lifecycle) as recorder:
        first = await recorder.request("GET", "/state")
        second = await recorder.request("GET", "/state")
    assert first.json() == second.json() == ["started"]
    assert state == ["started", "stopped"]


async def test_stdout_and_root_logger_are_restored() -> None:
    import sys

    stdout, level = sys.stdout, logging.getLogger().level
    await record(app, "POST", "/orders", json={"order": 2})
    assert sys.stdout is stdout and logging.getLogger().level == level


async def test_requests_on_one_recorder_can_run_concurrently() -> None:
    gate = anyio.Event()

    @get("/wait")
    async def wait() -> str:
        await gate.wait()
        return "released"

    @get("/open")
    async def open_gate() -> str:
        gate.set()
        return "opened"

    both = Ravyn(routes=[wait, open_gate])
    results: dict[str, str] = {}
    async with Recorder(both) as recorder:

        async def call(path: str) -> None:
            results[path] = (await recorder.request("GET", path)).json()

        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                group.start_soon(call, "/wait")
                group.start_soon(call, "/open")
    assert results == {"/wait": "released", "/open": "opened"}


def test_lilyas_test_client_is_re_exported() -> None:
    with TestClient(app) as client:
        response = client.post("/orders", json={"order": 3})
    assert response.status_code == 201 and response.json() == {"order": 3}


async def test_overlapping_recordings_restore_stdout_whatever_order_they_end() -> None:
    import sys

    original = sys.stdout

    async def slow_print(label: str, delay: float) -> None:
        await anyio.sleep(delay)
        print(label)

    @post("/print")
    def print_later(label: str, delay: float, tasks: BackgroundTasks) -> None:
        tasks.add_task(slow_print, label, delay)

    overlap = Ravyn(routes=[print_later])
    timelines = {}
    async with Recorder(overlap) as recorder:

        async def call(label: str, delay: float) -> None:
            timelines[label] = await recorder.request("POST", "/print", json={"label": label, "delay": delay})

        async with anyio.create_task_group() as group:
            group.start_soon(call, "first-started-ends-first", 0.05)
            await anyio.sleep(0.01)
            group.start_soon(call, "second-started-ends-last", 0.2)
    assert sys.stdout is original
    # each printed line went to the timeline of the request whose task printed it
    assert timelines["first-started-ends-first"].lines() == ["first-started-ends-first"]
    assert timelines["second-started-ends-last"].lines() == ["second-started-ends-last"]


async def test_the_body_is_gone_once_the_response_is_complete() -> None:
    """As under uvicorn: a task that reads the request body too late sees a disconnect."""

    async def read_late(request: Request) -> None:
        await request.body()

    @post("/late")
    async def late(request: Request) -> JSONResponse:
        return JSONResponse({}, background=BackgroundTask(read_late, request))

    timeline = await record(Ravyn(routes=[late]), "POST", "/late", json={"a": 1})
    assert "ClientDisconnect" in timeline.first("task_failed").detail["error"]


def test_task_event_detail_gives_each_runner_event_its_timeline_kind_and_details() -> None:
    from lilya.background import Task

    from ravyn.runner import TaskEvent
    from ravyn.testing import task_event_detail

    task = Task(print)
    error = TimeoutError("timed out after 0.5s")

    assert task_event_detail(TaskEvent("started", "t", task, 1.0)) == ("task_started", {})
    assert task_event_detail(TaskEvent("finished", "t", task, 2.0, 0.25)) == (
        "task_finished",
        {"duration": 0.25},
    )
    assert task_event_detail(TaskEvent("lost", "t", task, 2.0)) == ("task_lost", {})
    assert task_event_detail(TaskEvent("retrying", "t", task, 2.0, 0.5, error, 1)) == (
        "task_retrying",
        {"duration": 0.5, "error": "TimeoutError: timed out after 0.5s", "attempt": 1},
    )
    assert task_event_detail(TaskEvent("failed", "t", task, 3.0, 1.5, error, 3)) == (
        "task_failed",
        {"duration": 1.5, "error": "TimeoutError: timed out after 0.5s", "attempt": 3},
    )
