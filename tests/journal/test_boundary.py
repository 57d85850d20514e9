"""Durable means committed before the response's first byte, whichever way the
task reaches the response; a commit that fails answers 503 and runs nothing."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from lilya.responses import JSONResponse as LilyaJSONResponse
from lilya.routing import Path as LilyaPath

from ravyn import BackgroundTask, BackgroundTasks, Ravyn, get, post
from ravyn.journal import TaskJournal
from ravyn.responses import JSONResponse
from ravyn.testing import Recorder
from tests.journal import jobs
from tests.journal.support import eventually, rows, states
from tests.support.asgi import http_scope, receive_body

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def fresh_jobs() -> Iterator[None]:
    jobs.ran.clear()
    jobs.release.clear()
    yield
    jobs.release.set()  # a task still waiting ends


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "tasks.sqlite3"


@post("/injected")
def injected(value: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(jobs.remember, value, durable=True)
    return {"value": value}


@post("/on-response")
def on_response(value: str) -> JSONResponse:
    task = BackgroundTask(jobs.remember, value).configure(durable=True)
    return JSONResponse({"value": value}, status_code=201, background=task)


@post("/on-decorator", background=BackgroundTask(jobs.remember, "decorator").configure(durable=True))
def on_decorator(value: str) -> dict[str, str]:
    return {"value": value}


@post("/keyed")
def keyed(value: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(jobs.wait_for_release, value, durable=True, key="the-key")
    return {"value": value}


@get("/peek")
def peek(tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(jobs.remember, "peek", durable=True)
    return {}


@post("/fails")
def fails(tasks: BackgroundTasks) -> None:
    tasks.add_task(jobs.fail_always, "x", durable=True, retries=1)


@post("/plain")
def plain(tasks: BackgroundTasks) -> None:
    tasks.add_task(jobs.wait_for_release, "line\nforged")


async def call(
    app: Any, method: str, path: str, journal: Path, body: Any = None
) -> tuple[int, dict[str, str], Any, list[Any]]:
    """One request by raw ASGI; returns the status, headers, JSON body, and the
    journal's task rows as another connection saw them when `http.response.start` was sent."""
    content = json.dumps(body).encode() if body is not None else b""
    scope = http_scope(method, path, body=content)
    receive = receive_body(content)
    seen: list[Any] = []
    status, headers, chunks = 0, {}, []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = {k.decode(): v.decode() for k, v in message["headers"]}
            seen.extend(rows(journal, "SELECT reference, arguments, state FROM tasks ORDER BY id"))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    data = b"".join(chunks)
    return status, headers, json.loads(data) if data else None, seen


@pytest.mark.parametrize(
    ("path", "value"),
    [("/injected", "injected"), ("/on-response", "on-response"), ("/on-decorator", "decorator")],
    ids=["injected BackgroundTasks", "background= on the response", "background= on the decorator"],
)
async def test_a_durable_task_is_committed_before_the_first_byte(
    path: str, value: str, journal_path: Path
) -> None:
    app = Ravyn(routes=[injected, on_response, on_decorator], task_journal=journal_path)
    async with Recorder(app):
        status, _, _, seen = await call(app, "POST", path, journal_path, {"value": value})
        assert status == 201
        assert seen == [
            (
                "tests.journal.jobs:remember",
                json.dumps({"args": [value], "kwargs": {}}, separators=(",", ":")),
                "running",
            )
        ]
        await eventually(lambda: states(journal_path) == {1: "done"}, "the task marked done")
    assert jobs.ran == [value]
    assert app.task_stats()["durable_recorded"] == 1


async def test_the_decorators_task_gets_a_row_per_request(journal_path: Path) -> None:
    app = Ravyn(routes=[on_decorator], task_journal=journal_path)
    async with Recorder(app):
        for _ in range(3):
            await call(app, "POST", "/on-decorator", journal_path, {"value": "v"})
        await eventually(lambda: states(journal_path) == {1: "done", 2: "done", 3: "done"}, "three rows done")
    assert jobs.ran == ["decorator"] * 3


def _make_full(connection: sqlite3.Connection) -> None:
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")


def _make_read_only(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA query_only = ON")


FAILURES = ["disk full", "read-only", "locked", "closed"]


@pytest.mark.parametrize("failure", FAILURES)
async def test_a_commit_that_fails_answers_503_and_runs_nothing(
    failure: str, journal_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = Ravyn(routes=[injected], task_journal=journal_path)
    journal = app.task_journal
    assert journal is not None
    blocker: sqlite3.Connection | None = None
    async with Recorder(app):
        if failure == "disk full":
            journal.writer.submit(_make_full).result()
            value = "x" * 200_000  # needs pages the file may not have
        elif failure == "read-only":
            journal.writer.submit(_make_read_only).result()
            value = "v"
        elif failure == "locked":
            journal.writer.submit(lambda c: c.execute("PRAGMA busy_timeout = 100")).result()
            blocker = sqlite3.connect(journal_path, isolation_level=None)
            blocker.execute("BEGIN EXCLUSIVE")
            value = "v"
        else:
            journal.writer.close()
            value = "v"
        with caplog.at_level(logging.ERROR, logger="ravyn.journal"):
            status, headers, body, _ = await call(app, "POST", "/injected", journal_path, {"value": value})
        if blocker is not None:
            blocker.execute("ROLLBACK")
            blocker.close()
    assert status == 503
    assert headers["retry-after"] == "5"
    assert "task journal could not record" in body["detail"]
    assert jobs.ran == []
    assert rows(journal_path, "SELECT count(*) FROM tasks") == [(0,)]
    assert app.task_stats()["durable_unrecorded"] == 1
    assert any("Request answered 503" in record.getMessage() for record in caplog.records)


async def test_a_second_task_with_a_pending_key_is_dropped_with_a_log_line(
    journal_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = Ravyn(routes=[keyed], task_journal=journal_path)
    async with Recorder(app) as recorder:
        first = await _start(recorder, "first")
        await eventually(lambda: states(journal_path) == {1: "running"}, "the first task recorded")
        with caplog.at_level(logging.INFO, logger="ravyn.journal"):
            status, _, _, _ = await call(app, "POST", "/keyed", journal_path, {"value": "second"})
        assert status == 201
        jobs.release.set()
        await first.wait()
        await eventually(lambda: states(journal_path) == {1: "done"}, "the first task done")
        jobs.release.clear()
        # once the first one finished, the key is free again
        jobs.release.set()
        await call(app, "POST", "/keyed", journal_path, {"value": "third"})
        await eventually(lambda: states(journal_path) == {1: "done", 2: "done"}, "the third task done")
    assert jobs.ran == ["first", "third"]
    assert app.task_stats()["durable_deduplicated"] == 1
    assert any("key 'the-key' is still unfinished" in record.getMessage() for record in caplog.records)


async def _start(recorder: Recorder, value: str) -> Any:

    done = anyio.Event()

    async def send() -> None:
        await recorder.request("POST", "/keyed", json={"value": value})
        done.set()

    asyncio.get_running_loop().create_task(send())
    return done


async def test_a_head_request_records_nothing(journal_path: Path) -> None:
    app = Ravyn(routes=[peek], task_journal=journal_path)
    async with Recorder(app):
        status, _, _, _ = await call(app, "HEAD", "/peek", journal_path)
    assert status == 200
    assert rows(journal_path, "SELECT count(*) FROM tasks") == [(0,)]
    assert jobs.ran == []


async def test_a_durable_task_that_fails_is_marked_failed_after_its_retries(journal_path: Path) -> None:
    app = Ravyn(routes=[fails], task_journal=journal_path)
    async with Recorder(app):
        await call(app, "POST", "/fails", journal_path)
        await eventually(lambda: states(journal_path) == {1: "failed"}, "the task marked failed")
    assert jobs.ran == ["attempt x", "attempt x"]


async def test_a_lilya_route_records_its_durable_task_after_the_response_and_says_so(
    journal_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def lilya_endpoint() -> LilyaJSONResponse:
        return LilyaJSONResponse(
            {}, background=BackgroundTask(jobs.remember, "lilya").configure(durable=True)
        )

    app = Ravyn(routes=[LilyaPath("/lilya", lilya_endpoint, methods=["POST"])], task_journal=journal_path)
    with caplog.at_level(logging.WARNING, logger="ravyn.journal"):
        async with Recorder(app):
            status, _, _, seen = await call(app, "POST", "/lilya", journal_path)
            await eventually(lambda: states(journal_path) == {1: "done"}, "the task recorded and done")
    assert (status, seen) == (200, [])
    assert jobs.ran == ["lilya"]
    assert any("recorded after its response was sent" in record.getMessage() for record in caplog.records)


async def test_a_plain_task_is_in_flight_while_it_runs_and_gone_after(journal_path: Path) -> None:
    app = Ravyn(routes=[plain], task_journal=journal_path)
    async with Recorder(app) as recorder:
        request = asyncio.get_running_loop().create_task(recorder.request("POST", "/plain"))
        in_flight = lambda: rows(journal_path, "SELECT description FROM in_flight")  # noqa: E731
        await eventually(
            lambda: in_flight() == [("wait_for_release('line\\nforged')",)], "the task in flight"
        )
        jobs.release.set()
        await request
        await eventually(lambda: in_flight() == [], "the row removed once the task ended")
    assert rows(journal_path, "SELECT count(*) FROM tasks") == [(0,)]


async def test_an_app_without_a_journal_has_todays_counters_and_runner() -> None:
    app = Ravyn(routes=[injected])
    assert app.task_journal is None
    assert type(app.task_runner).__name__ == "TaskRunner"
    async with Recorder(app) as recorder:
        await recorder.request("POST", "/injected", json={"value": "v"})
    assert "recovered" not in app.task_stats()
    assert jobs.ran == ["v"]


async def test_task_journal_takes_a_path_object_or_a_task_journal(tmp_path: Path) -> None:
    journal = TaskJournal(tmp_path / "a.sqlite3", lease=3.0)
    assert Ravyn(task_journal=journal).task_journal is journal
    assert Ravyn(task_journal=tmp_path / "b.sqlite3").task_journal is not None


async def test_a_durable_task_in_an_app_without_a_journal_runs_and_says_it_is_not_durable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @post("/no-journal", background=BackgroundTask(jobs.remember, "decorator").configure(durable=True))
    def no_journal(tasks: BackgroundTasks) -> None:
        tasks.add_task(jobs.remember_async, "injected", durable=True)

    with caplog.at_level(logging.WARNING, logger="ravyn.journal"):
        app = Ravyn(routes=[no_journal])
        async with Recorder(app) as recorder:
            await recorder.request("POST", "/no-journal")
    messages = [record.getMessage() for record in caplog.records]
    assert any(
        "no_journal has durable background tasks but the app has no task journal" in m for m in messages
    )
    assert any("Durable task remember_async made in an app without a task journal" in m for m in messages)
    assert jobs.ran == ["injected", "decorator"]


async def test_a_request_cancelled_while_its_commit_waits_leaves_its_task_to_a_later_claim(
    journal_path: Path,
) -> None:

    app = Ravyn(routes=[injected], task_journal=TaskJournal(journal_path, lease=0.6))
    journal = app.task_journal
    assert journal is not None
    gate = threading.Event()
    async with Recorder(app) as recorder:
        journal.writer.post(lambda c: gate.wait(10))  # the writer is busy: the commit waits
        request = asyncio.get_running_loop().create_task(
            recorder.request("POST", "/injected", json={"value": "v"})
        )
        await asyncio.sleep(0.1)
        request.cancel()
        gate.set()
        with pytest.raises(asyncio.CancelledError):
            await request
        # written anyway, then released: the next heartbeat claims it and runs it
        await eventually(lambda: states(journal_path) == {1: "done"}, "the task run by a later claim")
    assert jobs.ran == ["v"]
    assert app.task_stats()["rerun"] == 1


async def test_a_response_that_cannot_be_sent_leaves_its_recorded_task_to_a_later_claim(
    journal_path: Path,
) -> None:
    app = Ravyn(routes=[injected], task_journal=TaskJournal(journal_path, lease=0.6))

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b'{"value": "v"}', "more_body": False}

    async def broken_send(message: dict[str, Any]) -> None:
        raise OSError("connection reset")

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/injected",
        "raw_path": b"/injected",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        "app": app,
    }
    async with Recorder(app):
        with pytest.raises(OSError, match="connection reset"):
            await app(scope, receive, broken_send)
        await eventually(lambda: states(journal_path) == {1: "done"}, "the task run by a later claim")
    assert jobs.ran == ["v"]


def test_a_key_longer_than_the_bound_is_refused() -> None:
    from ravyn.background import MAX_KEY_LENGTH

    with pytest.raises(ValueError, match=f"at most {MAX_KEY_LENGTH} characters"):
        BackgroundTask(jobs.remember, "a").configure(durable=True, key="k" * (MAX_KEY_LENGTH + 1))


@post("/audited-durable")
def audited_durable(tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(jobs.remember, "audit", when="always")
    tasks.add_task(jobs.remember, "invoice", durable=True)
    return {}


async def test_a_503_for_unrecorded_tasks_that_cannot_be_sent_holds_the_tasks_once(
    journal_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = Ravyn(routes=[audited_durable], task_journal=journal_path)
    journal = app.task_journal
    assert journal is not None

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        raise OSError("the client is gone")

    async with Recorder(app):
        journal.writer.close()
        with caplog.at_level(logging.WARNING, logger="ravyn.background"), pytest.raises(OSError):
            await app(http_scope("POST", "/audited-durable"), receive, send)
        await eventually(lambda: jobs.ran == ["audit"], "the when='always' task run after the failure")
    assert jobs.ran == ["audit"]  # once, and the unrecorded durable task never
    not_run = [r.getMessage() for r in caplog.records if "not run" in r.getMessage()]
    assert len(not_run) == 1 and "remember" in not_run[0], not_run
