"""Tests for ravyn/routing.py: decorators, return values, where tasks come from and when they run."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import logging
import threading
import uuid
from typing import Any

import anyio
import pytest

from ravyn import BackgroundTask, BackgroundTasks, Ravyn, Request, delete, get, patch, post, put, route
from ravyn.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from ravyn.routing import RouteHandler
from ravyn.testing import Recorder, record

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("decorator", "method", "status"),
    [
        (get, "GET", 200),
        (post, "POST", 201),
        (put, "PUT", 200),
        (patch, "PATCH", 200),
        (delete, "DELETE", 204),
    ],
)
async def test_each_method_decorator_has_its_default_status(decorator: Any, method: str, status: int) -> None:
    @decorator("/thing")
    def handler() -> dict[str, bool]:
        return {"ok": True}

    assert isinstance(handler, RouteHandler)
    assert handler.methods == [method] and handler.status_code == status
    timeline = await record(Ravyn(routes=[handler]), method, "/thing")
    assert timeline.status == status
    assert timeline.body == (b"" if status == 204 else b'{"ok":true}')


async def test_path_by_keyword_status_override_and_route_with_methods() -> None:
    @post(path="/accept", status_code=202)
    def accept() -> dict[str, str]:
        return {"state": "accepted"}

    @route("/ping", methods=["GET", "POST"])
    def ping() -> str:
        return "pong"

    app = Ravyn(routes=[accept, ping])
    assert (await record(app, "POST", "/accept")).status == 202
    for method in ("GET", "POST"):
        timeline = await record(app, method, "/ping")
        assert (timeline.status, timeline.json()) == (200, "pong")


def test_a_decorated_handler_is_still_a_plain_callable() -> None:
    @post("/add")
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    assert add(2, 3) == 5
    assert add.__name__ == "add" and add.__doc__ == "Add two numbers."
    assert add.summary == "Add two numbers."


def test_background_must_be_a_task() -> None:
    with pytest.raises(TypeError, match="BackgroundTask or BackgroundTasks"):
        post("/x", background=print)(lambda: None)  # type: ignore[arg-type]


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


@pytest.mark.parametrize(
    ("value", "body"),
    [
        ({"a": 1}, b'{"a":1}'),
        ([1, 2], b"[1,2]"),
        ("hi", b'"hi"'),
        (5, b"5"),
        (None, b"null"),
        (Point(1, 2), b'{"x":1,"y":2}'),
        (datetime.datetime(2026, 1, 2, 3, 4, 5), b'"2026-01-02T03:04:05"'),
        (uuid.UUID(int=1), b'"00000000-0000-0000-0000-000000000001"'),
        (Colour.RED, b'"red"'),
    ],
)
async def test_return_values_are_encoded_as_json(value: Any, body: bytes) -> None:
    @get("/value")
    def handler() -> Any:
        return value

    timeline = await record(Ravyn(routes=[handler]), "GET", "/value")
    assert (timeline.status, timeline.body) == (200, body)
    assert timeline.header("content-type") == "application/json"


async def test_a_returned_response_keeps_its_status_and_headers() -> None:
    @post("/teapot")
    def teapot() -> Response:
        return PlainTextResponse("short and stout", status_code=418, headers={"x-pot": "1"})

    timeline = await record(Ravyn(routes=[teapot]), "POST", "/teapot")
    assert (timeline.status, timeline.body, timeline.header("x-pot")) == (418, b"short and stout", "1")


async def test_sync_handlers_run_on_a_worker_thread() -> None:
    seen: dict[str, int] = {}

    @get("/where")
    def where() -> None:
        seen["handler"] = threading.get_ident()

    await record(Ravyn(routes=[where]), "GET", "/where")
    assert seen["handler"] != threading.get_ident()


def make_order_app(log: list[str]) -> Ravyn:
    """An app whose handler takes tasks from all three places."""

    def note(label: str) -> None:
        log.append(label)

    @post("/order", background=BackgroundTasks(tasks=[BackgroundTask(note, "decorator")]))
    def order(tasks: BackgroundTasks) -> JSONResponse:
        tasks.add_task(note, "injected")
        return JSONResponse({"ok": True}, background=BackgroundTask(note, "response"))

    return Ravyn(routes=[order])


async def test_tasks_from_all_three_places_run_after_the_response_in_order() -> None:
    log: list[str] = []
    timeline = await record(make_order_app(log), "POST", "/order")
    assert log == ["injected", "response", "decorator"]
    started = timeline.all("task_started")
    assert len(started) == 3
    assert timeline.response_complete < started[0]


async def test_the_injected_collector_passed_to_the_response_runs_once() -> None:
    ran: list[str] = []

    @post("/signup")
    def signup(email: str, tasks: BackgroundTasks) -> JSONResponse:
        tasks.add_task(ran.append, email)
        return JSONResponse({"email": email}, background=tasks)

    await record(Ravyn(routes=[signup]), "POST", "/signup", json={"email": "a@b.c"})
    assert ran == ["a@b.c"]


async def test_a_parameter_annotated_background_task_is_injected_too() -> None:
    ran: list[str] = []

    @post("/signup")
    def signup(email: str, background_tasks: BackgroundTask) -> dict[str, str]:
        assert isinstance(background_tasks, BackgroundTasks)
        background_tasks.add_task(ran.append, email)
        return {"email": email}

    timeline = await record(Ravyn(routes=[signup]), "POST", "/signup", json={"email": "a@b.c"})
    assert timeline.status == 201 and ran == ["a@b.c"]


async def test_a_failing_task_changes_neither_the_response_nor_later_tasks() -> None:
    ran: list[str] = []

    def explode() -> None:
        raise RuntimeError("smtp down")

    @post("/work")
    def work(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(explode)
        tasks.add_task(ran.append, "after")
        return {"status": "done"}

    timeline = await record(Ravyn(routes=[work]), "POST", "/work")
    assert (timeline.status, timeline.json()) == (201, {"status": "done"})
    assert ran == ["after"]
    failure = timeline.first("task_failed")
    assert "RuntimeError: smtp down" in failure.detail["error"]
    logged = [e for e in timeline.all("log", "ravyn.background") if e.detail["level"] == "ERROR"]
    assert len(logged) == 1 and logged[0].detail["exc_info"]
    assert timeline.kinds[-1] == "call_complete"


async def test_tasks_are_not_run_for_head_requests() -> None:
    ran: list[str] = []

    @get("/page", background=BackgroundTask(ran.append, "task"))
    def page() -> str:
        return "hello"

    app = Ravyn(routes=[page])
    head = await record(app, "HEAD", "/page")
    assert head.status == 200 and ran == []
    await record(app, "GET", "/page")
    assert ran == ["task"]


async def test_tasks_still_run_after_the_client_has_gone() -> None:
    """The recorder's client disconnects once the response is complete."""
    done = anyio.Event()

    async def slow_cleanup() -> None:
        await anyio.sleep(0.05)
        done.set()

    @post("/upload")
    def upload(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add_task(slow_cleanup)
        return {"ok": True}

    timeline = await record(Ravyn(routes=[upload]), "POST", "/upload")
    assert done.is_set()
    assert timeline.response_complete < timeline.first("task_finished")


async def test_a_sync_task_does_not_block_other_requests() -> None:
    started, release = threading.Event(), threading.Event()

    def slow_report() -> None:
        started.set()
        release.wait(10)

    @post("/report")
    def report(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(slow_report)
        return {"report": "queued"}

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app = Ravyn(routes=[report, health])
    async with Recorder(app) as recorder, anyio.create_task_group() as group:
        group.start_soon(recorder.request, "POST", "/report")
        with anyio.fail_after(5):
            while not started.is_set():
                await anyio.sleep(0.01)
            # the sync task is now sleeping on its worker thread; the loop is free
            answered = await recorder.request("GET", "/health")
        # answered while the task still held its thread: the loop was never blocked
        release.set()
    assert answered.status == 200


async def test_streaming_responses_run_their_tasks_after_the_last_chunk() -> None:
    async def chunks() -> Any:
        for part in (b"a", b"b", b"c"):
            yield part

    @get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(chunks(), background=BackgroundTask(print, "streamed"))

    timeline = await record(Ravyn(routes=[stream]), "GET", "/stream")
    assert timeline.body == b"abc"
    assert timeline.response_complete < timeline.first("output")


async def test_a_burst_of_sleeping_sync_tasks_leaves_sync_handlers_their_threads() -> None:
    release = threading.Event()
    sleeping = 0
    lock = threading.Lock()

    def slow_thumbnail(n: int) -> None:
        nonlocal sleeping
        with lock:
            sleeping += 1
        release.wait(30)

    @post("/photos")
    def upload_photo(n: int, tasks: BackgroundTasks) -> dict[str, int]:
        tasks.add_task(slow_thumbnail, n)
        return {"n": n}

    @get("/health")
    def health() -> dict[str, str]:  # a sync handler: it needs a worker thread too
        return {"status": "ok"}

    app = Ravyn(routes=[upload_photo, health], task_threads=40)
    async with Recorder(app) as recorder, anyio.create_task_group() as group:
        for n in range(200):
            group.start_soon(lambda n=n: recorder.request("POST", "/photos", json={"n": n}))
        with anyio.fail_after(20):
            while sleeping < 40 or app.task_stats()["running"] < 200:
                await anyio.sleep(0.01)
            # 40 task threads are busy and 160 tasks wait for one; handlers are not starved
            answers = [await recorder.request("GET", "/health") for _ in range(5)]
        assert sleeping == 40
        release.set()
    assert [a.status for a in answers] == [200] * 5
    assert app.task_stats()["succeeded"] == 200


async def test_without_threads_a_sync_handler_runs_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    import ravyn.threads

    monkeypatch.setattr(ravyn.threads, "THREADS_AVAILABLE", False)
    seen: dict[str, int] = {}

    @get("/where")
    def where() -> None:
        seen["handler"] = threading.get_ident()

    await record(Ravyn(routes=[where]), "GET", "/where")
    assert seen["handler"] == threading.get_ident()


async def test_one_path_with_other_parameter_names_per_method() -> None:
    @get("/items/{item_id}")
    def read_item(item_id: str, request: Request) -> dict[str, Any]:
        return {"read": item_id, "params": dict(request.path_params)}

    @post("/items/{id}")
    def replace_item(id: str, request: Request) -> dict[str, Any]:
        return {"replaced": id, "params": dict(request.path_params)}

    @delete("/shops/{shop}/items/{sku:int}", status_code=200)
    def remove(shop: str, sku: int) -> dict[str, Any]:
        return {"shop": shop, "sku": sku}

    @get("/shops/{name}/items/{number:int}")
    def find(name: str, number: int) -> dict[str, Any]:
        return {"name": name, "number": number}

    app = Ravyn(routes=[read_item, replace_item, remove, find])
    read = await record(app, "GET", "/items/a1")
    assert read.json() == {"read": "a1", "params": {"item_id": "a1"}}
    replaced = await record(app, "POST", "/items/b2")
    assert (replaced.status, replaced.json()) == (201, {"replaced": "b2", "params": {"id": "b2"}})
    assert (await record(app, "DELETE", "/shops/s/items/7")).json() == {"shop": "s", "sku": 7}
    assert (await record(app, "GET", "/shops/s/items/7")).json() == {"name": "s", "number": 7}


def test_tasks_added_before_the_handler_raises_are_not_run_and_named_in_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from lilya.testclient import TestClient

    ran: list[str] = []

    def send_receipt(order: str) -> None:
        ran.append(order)

    @post("/orders")
    async def create_order(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(send_receipt, "A-1")
        tasks.add_task(send_receipt, "A-2")
        raise ValueError("the stock service is down")

    app = Ravyn(routes=[create_order])
    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.WARNING, logger="ravyn.routing"), client:
        assert client.post("/orders").status_code == 500
    assert ran == []
    lines = [r.getMessage() for r in caplog.records if r.name == "ravyn.routing"]
    assert len(lines) == 1
    assert "2 background task(s) of create_order not run: the handler raised ValueError" in lines[0]
    assert "send_receipt" in lines[0] and "stock service" not in lines[0]  # no client text in the log


def test_tasks_a_dependency_added_before_a_later_parameter_failed_are_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from lilya.testclient import TestClient

    from ravyn import Depends

    def audit(tasks: BackgroundTasks) -> str:
        tasks.add_task(print, "audited")
        return "audit"

    @post("/items")
    async def create_item(
        tasks: BackgroundTasks, who: str = Depends(audit), count: int = 0
    ) -> dict[str, int]:
        return {"count": count}

    app = Ravyn(routes=[create_item])
    with caplog.at_level(logging.WARNING, logger="ravyn.routing"), TestClient(app) as client:
        assert client.post("/items", json={"count": "many"}).status_code == 400
    lines = [r.getMessage() for r in caplog.records if r.name == "ravyn.routing"]
    assert len(lines) == 1 and "a 400 answered the request" in lines[0]
