"""Tests for ravyn/runner/ through apps: what the runner does when tasks, hooks and shutdowns misbehave.

Each test here failed on the runner before these fixes (issue 13 and 14):
timed-out sync tasks kept their thread slot, a sync hook ran on the loop,
BaseException escaped, exception text was logged raw, the drain could wait
forever, there was no bound on pending tasks, and Lilya's own tasks skipped
the app's runner.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import traceback
from collections.abc import Iterator

import anyio
import pytest
from lilya.apps import Lilya
from lilya.background import Task, Tasks
from lilya.requests import Request
from lilya.responses import PlainText
from lilya.routing import Include, Path

from ravyn import BackgroundTask, BackgroundTasks, Ravyn, post, route
from ravyn.responses import JSONResponse
from ravyn.runner import CANCEL_GRACE, DRAIN_MARGIN, TaskRunner, escape_text
from ravyn.testing import Recorder, record
from tests.support.runner import balanced

pytestmark = pytest.mark.anyio


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """An event blocked threads wait on; set at the end so they all leave."""
    event = threading.Event()
    yield event
    event.set()


# --------------------------------------------------------------------------- thread slots


async def test_a_timed_out_sync_task_frees_its_thread_slot(release: threading.Event) -> None:
    runner = TaskRunner(thread_limit=1)
    ran: list[str] = []
    stuck = BackgroundTask(release.wait, 30).configure(timeout=0.05)
    with anyio.fail_after(10):
        await runner.run(stuck, BackgroundTask(ran.append, "next"))
    # on the old pool, the one thread still held release.wait and "next" waited forever
    assert ran == ["next"]
    assert runner.snapshot()["abandoned"] == 1 and runner.stats.timed_out == 1
    release.set()
    with anyio.fail_after(5):
        while runner.pool.abandoned:
            await anyio.sleep(0.01)
    assert runner.pool.threads <= runner.pool.size + runner.pool.max_abandoned


async def test_retries_of_a_stuck_task_do_not_hold_a_slot_each(release: threading.Event) -> None:
    runner = TaskRunner(thread_limit=4)
    stuck = BackgroundTask(release.wait, 30).configure(timeout=0.05, retries=3)
    await runner.run(stuck)
    assert runner.stats.timed_out == 4 and runner.pool.abandoned == 4
    both = BackgroundTasks(as_group=True)
    seen = threading.Barrier(4, timeout=5)
    for _ in range(4):
        both.add_task(seen.wait)
    with anyio.fail_after(10):
        await runner.run(both)  # four at once: the four slots are free again
    assert runner.stats.succeeded == 4


# --------------------------------------------------------------------------- hooks and listeners


async def test_a_sync_hook_runs_off_the_loop_and_is_given_up_on(
    release: threading.Event, caplog: pytest.LogCaptureFixture
) -> None:
    threads: list[int] = []

    def hangs(task: Task, exc: BaseException) -> None:
        threads.append(threading.get_ident())
        release.wait(30)

    def fail() -> None:
        raise ValueError("bad")

    runner = TaskRunner(on_task_error=hangs, hook_timeout=0.2)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await anyio.sleep(0.01)
            ticks += 1

    started = time.monotonic()
    async with anyio.create_task_group() as group:
        group.start_soon(tick)
        with caplog.at_level(logging.ERROR, logger="ravyn.background"):
            await runner.run(BackgroundTask(fail))
        group.cancel_scope.cancel()
    # on the loop, the hook blocked it for 30 s: no tick, no timeout
    assert time.monotonic() - started < 5
    assert threads and threads[0] != threading.get_ident()
    assert ticks >= 5
    assert any("did not return within 0.2s" in r.getMessage() for r in caplog.records)


async def test_an_async_hook_that_never_returns_is_given_up_on(caplog: pytest.LogCaptureFixture) -> None:
    async def hangs(task: Task, exc: BaseException) -> None:
        await anyio.sleep_forever()

    async def fail() -> None:
        raise ValueError("bad")

    ran: list[str] = []
    runner = TaskRunner(on_task_error=hangs, hook_timeout=0.1)
    with caplog.at_level(logging.ERROR, logger="ravyn.background"), anyio.fail_after(5):
        await runner.run(BackgroundTask(fail), BackgroundTask(ran.append, "next"))
    assert ran == ["next"]
    assert any("did not return within 0.1s" in r.getMessage() for r in caplog.records)


async def test_a_slow_listener_is_named_in_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    def slow_listener(event: object) -> None:
        time.sleep(0.06)

    runner = TaskRunner()
    runner.add_listener(slow_listener)
    with caplog.at_level(logging.WARNING, logger="ravyn.background"):
        await runner.run(BackgroundTask(print, "x"), BackgroundTask(print, "y"))
    warnings = [r.getMessage() for r in caplog.records if "listeners must be quick" in r.getMessage()]
    assert len(warnings) == 1 and "slow_listener" in warnings[0]  # once per listener


# --------------------------------------------------------------------------- BaseException


RAISED = [SystemExit(3), KeyboardInterrupt(), GeneratorExit(), asyncio.CancelledError("not a real cancel")]


@pytest.mark.parametrize("error", RAISED, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_base_exceptions_from_a_task_are_contained(error: BaseException, kind: str) -> None:
    def raise_it() -> None:
        raise error

    async def raise_it_async() -> None:
        raise error

    reported: list[BaseException] = []
    ran: list[str] = []
    runner = TaskRunner(on_task_error=lambda task, exc: reported.append(exc))
    failing = BackgroundTask(raise_it if kind == "sync" else raise_it_async)
    with anyio.fail_after(5):
        await runner.run(failing, BackgroundTask(ran.append, "next"))
    assert ran == ["next"]
    assert (runner.stats.failed, runner.stats.succeeded) == (1, 1)
    assert reported == [error]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_real_cancellation_of_the_runner_still_propagates(
    kind: str, release: threading.Event, caplog: pytest.LogCaptureFixture
) -> None:
    async def waits() -> None:
        await anyio.sleep(30)

    runner = TaskRunner()
    task = BackgroundTask(release.wait, 30) if kind == "sync" else BackgroundTask(waits)
    with caplog.at_level(logging.ERROR, logger="ravyn.background"), anyio.move_on_after(0.1) as scope:
        await runner.run(task, BackgroundTask(print, "never"))
    assert scope.cancelled_caught
    assert runner.stats.lost == 2 and runner.stats.failed == 0
    messages = [r.getMessage() for r in caplog.records]
    assert "2 background task(s) lost: cancelled from outside the runner" in messages


# --------------------------------------------------------------------------- logs


async def test_the_exception_text_is_logged_escaped(caplog: pytest.LogCaptureFixture) -> None:
    forged = "ERROR:ravyn.background:Background task pay() succeeded"

    def parse(note: str) -> None:
        raise ValueError(note)

    with caplog.at_level(logging.ERROR, logger="ravyn.background"):
        await TaskRunner().run(BackgroundTask(parse, f"x\n{forged}"))
    (record_,) = caplog.records
    output = logging.Formatter("%(levelname)s:%(name)s:%(message)s").format(record_)
    assert not any(line.startswith(forged) for line in output.splitlines())
    assert "x\\nERROR:ravyn.background" in record_.getMessage()
    assert output.splitlines()[-1] == f"ValueError: x\\n{forged}"  # the traceback's last line too


async def test_an_exception_class_named_from_client_text_is_logged_escaped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    forged = "ERROR:ravyn.background:Background task pay() succeeded"
    made = type(f"Invalid\n{forged}\n", (ValueError,), {})  # named after what a client sent

    def parse() -> None:
        raise made("bad record")

    with caplog.at_level(logging.ERROR, logger="ravyn.background"):
        await TaskRunner().run(BackgroundTask(parse))
    (record_,) = caplog.records
    output = logging.Formatter("%(levelname)s:%(name)s:%(message)s").format(record_)
    assert not any(line.startswith(forged) for line in output.splitlines()), output
    assert f"Invalid\\n{forged}\\n: bad record" in record_.getMessage()
    assert output.splitlines()[-1].endswith(f"Invalid\\n{forged}\\n: bad record")  # the traceback's too


async def test_a_traceback_that_cannot_be_escaped_piece_by_piece_is_still_logged_escaped(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pieces live in `traceback.TracebackException`'s attributes, which change
    between Python versions (3.13 made `exc_type` a property that warns, and keeps
    the names as text): a filter that raised made the logging call raise, and the
    failure went unlogged (Pyodide's 3.14 in the docs' playground showed it)."""

    def changed(error: BaseException) -> str:
        raise AttributeError("property 'exc_type_str' of 'TracebackException' object has no setter")

    monkeypatch.setattr("ravyn.runner.logs._escaped_traceback", changed)
    forged = "ERROR:ravyn.background:Background task pay() succeeded"

    def parse() -> None:
        raise ValueError(f"x\n{forged}")

    with caplog.at_level(logging.ERROR, logger="ravyn.background"):
        await TaskRunner().run(BackgroundTask(parse))
    (record_,) = caplog.records
    output = logging.Formatter("%(levelname)s:%(name)s:%(message)s").format(record_)
    assert not any(line.startswith(forged) for line in output.splitlines()), output
    assert "Traceback (most recent call last):\\n" in output and f"ValueError: x\\n{forged}" in output


def test_the_traceback_module_keeps_what_the_escaping_changes() -> None:
    """The assumptions `ravyn.runner.logs` makes of `traceback.TracebackException`,
    on the Python that runs the tests: the message as `_str`, and the class's names
    either as text (3.13 and later) or as the class itself (before)."""
    try:
        raise type("Made", (ValueError,), {"__module__": "client.text"})("the message")
    except ValueError as error:
        formatted = traceback.TracebackException.from_exception(error)
    names = vars(formatted)
    assert names["_str"] == "the message"
    if "exc_type_qualname" in names:
        assert (names["exc_type_qualname"], names["exc_type_module"]) == ("Made", "client.text")
    else:
        assert names["exc_type"].__qualname__ == "Made"
    assert "".join(formatted.format()).endswith("client.text.Made: the message\n")


def test_escape_text_keeps_printable_text() -> None:
    assert escape_text("café, 1\t2\r\n\x1b[31m\u2028") == "café, 1\\t2\\r\\n\\x1b[31m\\u2028"


# --------------------------------------------------------------------------- the drain


async def test_the_drain_ends_when_a_task_swallows_its_cancellation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    swallowed = 0
    stop = False

    async def stubborn() -> None:
        nonlocal swallowed
        while not stop:
            try:
                await anyio.sleep(0.05)
            except asyncio.CancelledError:
                swallowed += 1
                logging.getLogger("stubborn").error("ignoring a cancellation")

    runner = TaskRunner()
    started = time.monotonic()
    with caplog.at_level(logging.ERROR), anyio.fail_after(10):
        # the request's task runs the task itself: it is held until the task ends
        request = asyncio.ensure_future(runner.run(BackgroundTask(stubborn)))
        await anyio.sleep(0.05)
        lost = await runner.drain(timeout=0.2)
        elapsed = time.monotonic() - started
        assert lost == 1 and elapsed < 0.2 + DRAIN_MARGIN + 1
        # cancelled once, not at every await: no busy loop, no flood of log lines
        assert swallowed == 1
        assert sum(r.name == "stubborn" for r in caplog.records) == 1
        assert runner.snapshot()["abandoned"] == 1 and balanced(runner.snapshot())
        stop = True
        await request  # it ends at last: returns, not cancelled, and is not counted again
    assert swallowed == 1 and runner.snapshot()["abandoned"] == 0
    stats = runner.snapshot()
    assert (stats["lost"], stats["succeeded"], stats["running"]) == (1, 0, 0) and balanced(stats)
    assert request.cancelling() == 0


async def test_the_drain_ends_when_a_sync_task_never_returns(release: threading.Event) -> None:
    runner = TaskRunner()
    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(runner.run, BackgroundTask(release.wait, 60))
            await anyio.sleep(0.05)
            assert await runner.drain(timeout=0.1) == 1
    assert runner.snapshot()["abandoned"] == 1


async def test_tasks_handed_over_after_a_signals_drain_are_logged_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []
    runner = TaskRunner()
    await runner.drain(timeout=0.1, close=True)
    with caplog.at_level(logging.ERROR, logger="ravyn.background"):
        await runner.run(BackgroundTask(ran.append, "late"))
    assert ran == [] and runner.stats.lost == 1 and balanced(runner.snapshot())
    messages = [r.getMessage() for r in caplog.records]
    assert "Background task list.append('late') lost: handed over after the shutdown drain ended" in messages
    assert "1 background task(s) lost: handed over after the shutdown drain ended" in messages
    runner.reopen()
    await runner.run(BackgroundTask(ran.append, "again"))
    assert ran == ["again"]


async def test_a_request_still_in_its_handler_runs_its_tasks_within_the_drain() -> None:
    gate = anyio.Event()
    ran: list[str] = []

    @post("/slow")
    async def slow(tasks: BackgroundTasks) -> None:
        await gate.wait()
        tasks.add_task(ran.append, "after the handler")

    app = Ravyn(routes=[slow])
    async with Recorder(app) as recorder, anyio.create_task_group() as group:
        group.start_soon(recorder.request, "POST", "/slow")
        while not app.task_runner.pending:
            await anyio.sleep(0.01)
        drain_done = anyio.Event()

        async def drain() -> None:
            await app.task_runner.drain(5, close=True)
            drain_done.set()

        group.start_soon(drain)
        await anyio.sleep(0.1)
        assert not drain_done.is_set()  # it waits for the admitted request
        gate.set()
        with anyio.fail_after(5):
            await drain_done.wait()
    assert ran == ["after the handler"]


async def test_a_second_signal_gives_up_at_once_and_names_every_task(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def slow_export(batch: str) -> None:
        await anyio.sleep(30)

    runner = TaskRunner()
    with caplog.at_level(logging.ERROR, logger="ravyn.background"), anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            for batch in ("a", "b"):
                group.start_soon(runner.run, BackgroundTask(slow_export, batch), BackgroundTask(print, batch))
            await anyio.sleep(0.05)
            group.start_soon(runner.drain, 30)
            await anyio.sleep(0.05)
            assert runner.finish_now() == 4
    messages = [
        r.getMessage().replace("test_a_second_signal_gives_up_at_once_and_names_every_task.<locals>.", "")
        for r in caplog.records
    ]
    assert "Background task slow_export('a') lost: cancelled at once by a second signal" in messages
    assert "Background task print('b') lost: cancelled at once by a second signal" in messages
    assert "4 background task(s) lost at shutdown (stopped at once)" in messages
    assert runner.stats.lost == 4 and balanced(runner.snapshot())
    assert sum("lost at shutdown" in m and m[0].isdigit() for m in messages) == 1  # one total


# --------------------------------------------------------------------------- backpressure


async def test_past_max_pending_tasks_requests_get_a_503_and_lilya_tasks_are_rejected(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = anyio.Event()

    async def wait_for_gate(n: int) -> None:
        await gate.wait()

    @post("/jobs")
    def start_job(n: int, tasks: BackgroundTasks) -> dict[str, int]:
        tasks.add_task(wait_for_gate, n)
        return {"n": n}

    async def lilya_job(request: Request) -> PlainText:
        return PlainText("ok", background=Task(wait_for_gate, 0))

    app = Ravyn(routes=[start_job, Path("/lilya", lilya_job, methods=["POST"])], max_pending_tasks=2)
    async with Recorder(app) as recorder, anyio.create_task_group() as group:
        for n in (1, 2):
            group.start_soon(lambda n=n: recorder.request("POST", "/jobs", json={"n": n}))
        with anyio.fail_after(5):
            while app.task_stats()["running"] < 2:
                await anyio.sleep(0.01)
        refused = await recorder.request("POST", "/jobs", json={"n": 3})
        with caplog.at_level(logging.ERROR, logger="ravyn.background"):
            rejected = await recorder.request("POST", "/lilya")
        assert (refused.status, refused.json()) == (
            503,
            {"detail": "Too many background tasks pending: try again shortly"},
        )
        assert refused.header("retry-after") == "1"
        assert rejected.status == 200  # Lilya's route answered before the runner saw its task
        stats = app.task_stats()
        assert (stats["refused"], stats["rejected"], stats["running"]) == (1, 1, 2)
        assert balanced(stats)
        gate.set()
    assert any("1 background task(s) rejected" in r.getMessage() for r in caplog.records)
    stats = app.task_stats()
    assert (stats["succeeded"], stats["running"]) == (2, 0) and balanced(stats)
    # the places are free again
    assert (await record(app, "POST", "/jobs", json={"n": 4})).status == 201


async def test_a_handler_annotated_to_return_a_response_is_refused_before_it_runs() -> None:
    gate = anyio.Event()
    ran: list[str] = []

    async def wait_for_gate(name: str) -> None:
        await gate.wait()

    @post("/guide")
    async def guide_style(name: str) -> JSONResponse:
        ran.append(name)
        return JSONResponse({"ok": name}, background=BackgroundTask(wait_for_gate, name))

    @post("/maybe")
    async def maybe_response(name: str) -> JSONResponse | None:
        ran.append(name)
        return None

    @post("/plain")
    async def plain(name: str) -> dict[str, str]:
        ran.append(name)
        return {"ok": name}

    assert guide_style.adds_tasks and maybe_response.adds_tasks and not plain.adds_tasks
    app = Ravyn(routes=[guide_style, maybe_response, plain], max_pending_tasks=1)
    async with Recorder(app) as recorder, anyio.create_task_group() as group:
        group.start_soon(lambda: recorder.request("POST", "/guide", json={"name": "first"}))
        with anyio.fail_after(5):
            while app.task_stats()["running"] < 1:
                await anyio.sleep(0.01)
        refused = await recorder.request("POST", "/guide", json={"name": "second"})
        assert refused.status == 503 and ran == ["first"]  # refused before the handler ran
        assert (await recorder.request("POST", "/maybe", json={"name": "m"})).status == 503
        assert (await recorder.request("POST", "/plain", json={"name": "p"})).status == 201  # adds no tasks
        stats = app.task_stats()
        assert (stats["refused"], stats["rejected"]) == (2, 0) and balanced(stats)
        gate.set()
    assert ran == ["first", "p"]


def test_max_pending_tasks_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_pending_tasks"):
        Ravyn(max_pending_tasks=0)


# --------------------------------------------------------------------------- one task path


def _lilya_routes(tasks_ran: list[str]) -> tuple[Path, Include]:
    async def explode() -> None:
        raise RuntimeError("lilya task failed")

    async def from_path(request: Request) -> PlainText:
        return PlainText("path", background=Tasks(tasks=[Task(explode), Task(tasks_ran.append, "path")]))

    async def from_include(request: Request) -> PlainText:
        return PlainText("include", background=Task(explode))

    sub = Lilya(routes=[Path("/report", from_include)])
    return Path("/lilya", from_path), Include("/sub", app=sub)


async def test_tasks_of_a_lilya_path_and_an_include_run_through_the_apps_runner() -> None:
    reported: list[str] = []
    ran: list[str] = []
    app = Ravyn(routes=list(_lilya_routes(ran)), on_task_error=lambda task, exc: reported.append(str(exc)))
    path = await record(app, "GET", "/lilya")  # raised into the server before
    included = await record(app, "GET", "/sub/report")
    assert (path.body, included.body) == (b"path", b"include")
    assert ran == ["path"]
    assert reported == ["lilya task failed", "lilya task failed"]
    assert path.task_names("task_failed") == ["_lilya_routes.<locals>.explode"]
    assert included.task_names("task_failed") == ["_lilya_routes.<locals>.explode"]
    stats = app.task_stats()
    assert (stats["started"], stats["failed"], stats["succeeded"]) == (3, 2, 1)


async def test_a_lilya_route_task_is_drained_at_shutdown(caplog: pytest.LogCaptureFixture) -> None:
    async def long_export() -> None:
        await anyio.sleep(30)

    async def export(request: Request) -> PlainText:
        return PlainText("exporting", background=Task(long_export))

    app = Ravyn(routes=[Include("/legacy", routes=[Path("/export", export)])], task_drain_timeout=0.1)
    with caplog.at_level(logging.ERROR, logger="ravyn.background"), anyio.fail_after(10):
        async with anyio.create_task_group() as group, Recorder(app) as recorder:
            group.start_soon(recorder.request, "GET", "/legacy/export")
            while not app.task_stats()["running"]:
                await anyio.sleep(0.01)
            # leaving the recorder runs the lifespan shutdown, and with it the drain
    messages = [r.getMessage() for r in caplog.records]
    assert any("long_export lost: cancelled at shutdown" in m for m in messages)
    assert "1 background task(s) lost at shutdown" in messages
    assert app.task_stats()["lost"] == 1


async def test_a_mounted_asgi_app_calling_our_tasks_uses_the_apps_runner() -> None:
    ran: list[str] = []

    async def raw_app(scope: dict[str, object], receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"raw"})  # type: ignore[operator]
        await BackgroundTasks(tasks=[BackgroundTask(ran.append, "mounted")])()

    app = Ravyn(routes=[Include("/raw", app=raw_app)])
    timeline = await record(app, "GET", "/raw/")
    assert timeline.body == b"raw" and ran == ["mounted"]
    assert app.task_stats()["succeeded"] == 1


async def test_lilyas_tasks_outside_a_ravyn_app_behave_as_in_lilya() -> None:
    async def explode() -> None:
        raise RuntimeError("plain lilya")

    with pytest.raises(RuntimeError, match="plain lilya"):
        await Task(explode)()


# --------------------------------------------------------------------------- stop_on_error per collection


async def test_a_collection_with_stop_on_error_skips_only_its_own_later_tasks() -> None:
    ran: list[str] = []

    def resize(image: str) -> None:
        raise OSError(f"cannot read {image}")

    pipeline = BackgroundTasks(tasks=[BackgroundTask(resize, "a.png")], stop_on_error=True)
    pipeline.add_task(ran.append, "upload")
    runner = TaskRunner()
    await runner.run(pipeline, BackgroundTask(ran.append, "audit"))
    assert ran == ["audit"]
    assert (runner.stats.failed, runner.stats.skipped, runner.stats.succeeded) == (1, 1, 1)
    assert balanced(runner.snapshot())
    assert "stop_on_error=True" in repr(pipeline)


# --------------------------------------------------------------------------- HEAD and OPTIONS


async def test_options_responses_run_no_tasks_and_registration_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    with caplog.at_level(logging.WARNING, logger="ravyn.routing"):

        @route("/items", methods=["GET", "OPTIONS"])
        def items(tasks: BackgroundTasks) -> list[str]:
            tasks.add_task(ran.append, "counted")
            return []

    assert any("HEAD and OPTIONS responses run none" in r.getMessage() for r in caplog.records)
    app = Ravyn(routes=[items])
    assert (await record(app, "OPTIONS", "/items")).status == 200
    assert (await record(app, "HEAD", "/items")).status == 200
    assert ran == []
    await record(app, "GET", "/items")
    assert ran == ["counted"]


async def test_sse_or_any_lilya_response_to_options_runs_no_tasks() -> None:
    ran: list[str] = []

    async def preflight(request: Request) -> PlainText:
        response = PlainText("")
        # a response class that does not check the method itself still goes through the runner
        await Task(ran.append, "preflight")()
        return response

    app = Ravyn(routes=[Path("/pre", preflight, methods=["OPTIONS"])])
    assert (await record(app, "OPTIONS", "/pre")).status == 200
    assert ran == []


def test_the_cancel_grace_fits_in_the_drain_margin() -> None:
    assert CANCEL_GRACE < DRAIN_MARGIN


async def test_a_second_signal_with_a_thousand_tasks_in_flight_names_them_all(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def upload(n: int) -> None:
        await anyio.sleep(30)

    runner = TaskRunner()
    with caplog.at_level(logging.ERROR, logger="ravyn.background"), anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            for n in range(1000):
                group.start_soon(runner.run, BackgroundTask(upload, n))
            while runner.stats.running < 1000:
                await anyio.sleep(0.01)
            assert runner.finish_now() == 1000
    lost_lines = [
        r for r in caplog.records if r.getMessage().endswith("cancelled at once by a second signal")
    ]
    assert len(lost_lines) == 1000
    assert caplog.records[-1].getMessage() == "1000 background task(s) lost at shutdown (stopped at once)"
    assert runner.snapshot()["lost"] == 1000 and balanced(runner.snapshot())
