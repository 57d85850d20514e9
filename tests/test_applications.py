"""Tests for ravyn/applications.py: registering handlers, app-wide errors, lifespan."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import anyio
import pytest
from lilya.exceptions import ImproperlyConfigured
from lilya.responses import PlainText
from lilya.routing import Path

from ravyn import BackgroundTask, BackgroundTasks, Ravyn, get, post
from ravyn.background import TooManyTasks
from ravyn.testing import Recorder, record

pytestmark = pytest.mark.anyio


@post("/items")
def create_item(name: str) -> dict[str, str]:
    return {"created": name}


@get("/items/{item_id:int}")
def read_item(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}


async def test_add_route_takes_a_decorated_handler() -> None:
    app = Ravyn()
    returned = app.add_route(create_item)
    assert returned is create_item
    timeline = await record(app, "POST", "/items", json={"name": "lamp"})
    assert (timeline.status, timeline.json()) == (201, {"created": "lamp"})


async def test_add_route_takes_a_path_and_a_handler() -> None:
    def hello(who: str = "world") -> str:
        return f"hello {who}"

    app = Ravyn()
    app.add_route("/hello", hello)
    app.add_route("/made", create_item)  # a decorated handler served at another path
    assert (await record(app, "GET", "/hello?who=ada")).json() == "hello ada"
    assert (await record(app, "POST", "/made", json={"name": "x"})).status == 201
    assert (await record(app, "POST", "/items", json={"name": "x"})).status == 404


async def test_routes_mix_handlers_and_lilya_routes() -> None:
    async def legacy() -> PlainText:
        return PlainText("from lilya")

    app = Ravyn(routes=[read_item, Path("/legacy", legacy)])
    assert (await record(app, "GET", "/items/3")).json() == {"item_id": 3}
    assert (await record(app, "GET", "/legacy")).body == b"from lilya"


def test_registering_a_method_and_path_twice_is_an_error() -> None:
    @post("/items")
    def create_item_again(name: str) -> None: ...

    app = Ravyn(routes=[create_item])
    with pytest.raises(ImproperlyConfigured, match="POST /items is already handled by create_item"):
        app.add_route(create_item_again)


def test_path_parameter_names_do_not_hide_a_duplicate() -> None:
    @get("/items/{other:int}")
    def read_other(other: int) -> None: ...

    app = Ravyn(routes=[read_item])
    with pytest.raises(ImproperlyConfigured, match="already handled"):
        app.add_route(read_other)


def test_a_handler_without_a_path_needs_one() -> None:
    @post()
    def nowhere() -> None: ...

    with pytest.raises(ImproperlyConfigured, match="has no path"):
        Ravyn().add_route(nowhere)
    with pytest.raises(ImproperlyConfigured, match="needs a handler"):
        Ravyn().add_route("/x")
    with pytest.raises(ImproperlyConfigured, match="takes a handler"):
        Ravyn().add_route(42)  # type: ignore[arg-type]


async def test_two_methods_on_one_path_and_405_lists_both() -> None:
    @get("/items")
    def list_items() -> list[str]:
        return ["lamp"]

    app = Ravyn(routes=[create_item, list_items])
    assert (await record(app, "GET", "/items")).json() == ["lamp"]
    wrong = await record(app, "DELETE", "/items")
    assert wrong.status == 405
    assert wrong.json() == {"detail": "Method Not Allowed"}
    assert set((wrong.header("allow") or "").split(", ")) == {"POST", "GET", "HEAD"}


async def test_unknown_paths_get_a_json_404() -> None:
    timeline = await record(Ravyn(routes=[create_item]), "GET", "/nope")
    assert (timeline.status, timeline.json()) == (404, {"detail": "Not Found"})


async def test_a_crashing_handler_gets_a_json_500_without_a_traceback() -> None:
    ran: list[str] = []

    @get("/crash", background=BackgroundTask(ran.append, "task"))
    def crash() -> None:
        raise RuntimeError("secret database password in here")

    app = Ravyn(routes=[crash])
    with pytest.raises(RuntimeError):
        # like Starlette, Lilya re-raises after its 500 so that the server logs the error
        await record(app, "GET", "/crash")
    timeline = await record(app, "GET", "/crash", raise_app_exceptions=False)
    assert timeline.status == 500
    assert timeline.json() == {"detail": "Internal Server Error"}
    assert b"secret" not in timeline.body and b"Traceback" not in timeline.body
    assert "RuntimeError: secret" in timeline.first("app_error").detail["error"]
    assert ran == []  # the request failed: its tasks do not run


async def test_lifespan_and_startup_hooks_run_around_requests() -> None:
    calls: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Ravyn) -> AsyncIterator[None]:
        calls.append("startup")
        yield
        calls.append("shutdown")

    @get("/ping")
    def ping() -> str:
        calls.append("request")
        return "pong"

    await record(Ravyn(routes=[ping], lifespan=lifespan), "GET", "/ping")
    assert calls == ["startup", "request", "shutdown"]

    hooks: list[str] = []
    app = Ravyn(
        routes=[ping], on_startup=[lambda: hooks.append("up")], on_shutdown=[lambda: hooks.append("down")]
    )
    await record(app, "GET", "/ping")
    assert hooks == ["up", "down"]


async def test_app_level_task_error_hook_and_stop_on_error() -> None:
    reported: list[str] = []
    ran: list[str] = []

    def explode() -> None:
        raise ValueError("nope")

    @post("/go", background=BackgroundTask(ran.append, "decorator"))
    def go() -> dict[str, bool]:
        from ravyn.responses import JSONResponse

        return JSONResponse({"ok": True}, background=BackgroundTask(explode))  # type: ignore[return-value]

    app = Ravyn(routes=[go], on_task_error=lambda task, exc: reported.append(repr(exc)))
    await record(app, "POST", "/go")
    assert reported == ["ValueError('nope')"] and ran == ["decorator"]

    stopping = Ravyn(routes=[go], stop_on_task_error=True)
    ran.clear()
    await record(stopping, "POST", "/go")
    assert ran == []


async def test_task_stats_count_what_happened() -> None:
    def fails() -> None:
        raise RuntimeError("x")

    @post("/count")
    def count(tasks: BackgroundTasks) -> None:
        tasks.add_task(print, "ok")
        tasks.add_task(fails)

    app = Ravyn(routes=[count])
    for _ in range(3):
        await record(app, "POST", "/count")
    assert app.task_stats() == {
        "started": 6,
        "succeeded": 3,
        "failed": 3,
        "skipped": 0,
        "rejected": 0,
        "lost": 0,
        "running": 0,
        "timed_out": 0,
        "retried": 0,
        "refused": 0,
        "abandoned": 0,
    }


async def test_while_draining_new_requests_get_a_503() -> None:
    import anyio

    release = anyio.Event()

    async def finish_export() -> None:
        await release.wait()

    @post("/export")
    def export(tasks: BackgroundTasks) -> None:
        tasks.add_task(finish_export)

    @get("/ping")
    def ping() -> str:
        return "pong"

    app = Ravyn(routes=[export, ping], task_drain_timeout=1)
    async with Recorder(app) as recorder, anyio.create_task_group() as group:
        group.start_soon(recorder.request, "POST", "/export")
        with anyio.fail_after(5):
            while app.task_stats()["running"] == 0:
                await anyio.sleep(0.01)
            group.start_soon(app.task_runner.drain, 5)
            while not app.task_runner.draining:
                await anyio.sleep(0.01)
        refused = await recorder.request("GET", "/ping")
        release.set()
    assert refused.status == 503 and refused.json() == {"detail": "The server is shutting down"}
    assert refused.header("connection") == "close"
    # once the drain is over, an app driven again (a test, a restarted lifespan) serves as usual
    assert not app.task_runner.draining
    assert (await record(app, "GET", "/ping")).status == 200


def test_building_an_app_keeps_the_projects_logging_setup() -> None:
    import logging

    root = logging.getLogger()
    mine = logging.NullHandler()
    root.addHandler(mine)
    try:
        Ravyn()
        assert mine in root.handlers
    finally:
        root.removeHandler(mine)


async def test_each_lifespan_unhooks_its_signal_handlers_again() -> None:
    """Startup chains onto SIGTERM/SIGINT for the drain; shutdown puts the handlers back,
    so an app started many times (as in tests) leaves Ctrl-C as it found it."""
    import signal

    @get("/ping")
    def ping() -> str:
        return "pong"

    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    app = Ravyn(routes=[ping])
    async with Recorder(app):
        assert signal.getsignal(signal.SIGINT) is not before[signal.SIGINT]
    for _ in range(3):
        await record(app, "GET", "/ping")
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_a_websocket_handlers_tasks_run_through_the_apps_runner() -> None:
    """A task a WebSocket handler runs goes through the app's runner: it is
    counted, and its failure reaches `on_task_error`, as for HTTP."""
    from lilya.background import Task
    from lilya.routing import WebSocketPath
    from lilya.testclient import TestClient
    from lilya.websockets import WebSocket

    ran: list[str] = []
    reported: list[str] = []

    def note(message: str) -> None:
        ran.append(message)

    def fail() -> None:
        raise RuntimeError("the task failed")

    async def chat(websocket: WebSocket) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        await Task(note, text)()
        await Task(fail)()
        await websocket.send_text(f"echo {text}")
        await websocket.close()

    app = Ravyn(
        routes=[WebSocketPath("/chat", chat)],
        on_task_error=lambda task, exc: reported.append(str(exc)),
    )
    with TestClient(app) as client, client.websocket_connect("/chat") as websocket:
        websocket.send_text("hi")
        assert websocket.receive_text() == "echo hi"
    stats = app.task_stats()
    assert ran == ["hi"]
    assert reported == ["the task failed"]
    assert (stats["started"], stats["succeeded"], stats["failed"]) == (2, 1, 1)


def test_a_websocket_handlers_tasks_are_bounded_and_drained_as_for_http(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A WebSocket handler cannot hold more than `max_pending_tasks` tasks, and
    a task it is running when the drain ends is cancelled and logged lost by name."""
    import threading

    from lilya.background import Task
    from lilya.routing import WebSocketPath
    from lilya.testclient import TestClient
    from lilya.websockets import WebSocket

    ran: list[int] = []
    started = threading.Event()

    async def flood(websocket: WebSocket) -> None:
        await websocket.accept()
        collection = BackgroundTasks()
        try:
            for n in range(100_000):
                collection.add_task(ran.append, n)
        except TooManyTasks as exc:
            await websocket.send_text(f"refused past {exc.room}")
        await collection()
        await websocket.close()

    async def export_forever(batch: str) -> None:
        started.set()
        await anyio.sleep(3600)

    async def export(websocket: WebSocket) -> None:
        await websocket.accept()
        await Task(export_forever, "b-1")()
        await websocket.close()

    app = Ravyn(
        routes=[WebSocketPath("/flood", flood), WebSocketPath("/export", export)],
        max_pending_tasks=10,
    )
    with TestClient(app) as client:
        with client.websocket_connect("/flood") as websocket:
            assert websocket.receive_text() == "refused past 10"
        assert ran == list(range(10))
        with client.websocket_connect("/export"), caplog.at_level(logging.ERROR, logger="ravyn.background"):
            assert started.wait(10)
            assert client.portal.call(app.task_runner.drain, 0.1) == 1
    stats = app.task_stats()
    assert (stats["started"], stats["succeeded"], stats["lost"], stats["running"]) == (11, 10, 1, 0)
    lost = [r.getMessage() for r in caplog.records if "lost: cancelled at shutdown" in r.getMessage()]
    assert len(lost) == 1 and lost[0].endswith(
        ".export_forever lost: cancelled at shutdown"
    )  # Lilya's Task: its name


async def test_a_handler_put_among_an_includes_routes_is_refused_naming_it_and_the_way_out() -> None:
    # Lilya's router cannot serve our handler: every request to it was a 500
    from lilya.routing import Include

    @get("/notes")
    def list_notes() -> dict[str, int]:
        return {"notes": 0}

    with pytest.raises(
        TypeError, match=r"^handler .*list_notes \(/notes\) is among the routes of Include\('/v1'\)"
    ):
        Ravyn(routes=[Include("/v1", routes=[list_notes])])
    with pytest.raises(TypeError, match=r"Include\('/api/v1', app=Ravyn\(routes=\[\.\.\.\]\)\)"):
        Ravyn(routes=[Include("/api", routes=[Include("/v1", routes=[list_notes])])])
    served = Ravyn(routes=[Include("/v1", app=Ravyn(routes=[list_notes]))])  # the way out it names
    answer = await record(served, "GET", "/v1/notes")
    assert (answer.status, answer.json()) == (200, {"notes": 0})
