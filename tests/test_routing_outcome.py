"""Tests for the outcome policy of tasks (`when=`) in a request: ravyn/routing.py
parks a failed request's tasks, `Ravyn.__call__` (ravyn/applications.py) runs
those whose policy says so once the error response is out.

Every case drives the raw ASGI call and records one sequence: the messages
sent, the tasks' side effects and what reaches the server, in order.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lilya.exceptions import HTTPException
from lilya.requests import Request

from ravyn import BackgroundTask, BackgroundTasks, Depends, Ravyn, get, post
from ravyn.responses import JSONResponse, StreamingResponse
from ravyn.runner import when
from ravyn.testing import record
from tests.runner.test_when import build_tasks, model_runs, trees
from tests.support.asgi import http_scope, receive_body

pytestmark = pytest.mark.anyio


class Sequence(list[tuple[str, ...]]):
    """What happened, in order: `("sent", type, more_body)`, `("task", label)`, `("raised", name)`."""

    def tasks(self) -> list[str]:
        """The tasks' labels, in the order they ran."""
        return [event[1] for event in self if event[0] == "task"]

    def last_body(self) -> int:
        """Where the response's last byte was sent."""
        return max(i for i, event in enumerate(self) if event[:2] == ("sent", "http.response.body"))

    def first_task(self) -> int:
        """Where the first task ran."""
        return min(i for i, event in enumerate(self) if event[0] == "task")


def add_three(tasks: BackgroundTasks, seq: Sequence, prefix: str = "") -> None:
    """One task of each policy, labelled by it."""
    tasks.add_task(seq.append, ("task", f"{prefix}always"), when="always")
    tasks.add_task(seq.append, ("task", f"{prefix}error"), when="error")
    tasks.add_task(seq.append, ("task", f"{prefix}success"))


def build(seq: Sequence) -> Ravyn:
    """An app whose routes end in each way a request can fail, or not."""

    def adds_tasks(tasks: BackgroundTasks) -> None:
        add_three(tasks, seq, "dep ")

    def refuses() -> None:
        raise HTTPException(status_code=401, detail="who are you?")

    def session() -> Iterator[str]:
        try:
            yield "session"
        finally:
            seq.append(("cleanup",))
            raise RuntimeError("the clean-up failed")  # replaces the handler's error: the case under test

    async def reads_body(request: Request) -> bytes:
        return await request.body()

    @post("/refused")
    def refused(tasks: BackgroundTasks) -> None:
        add_three(tasks, seq)
        raise HTTPException(status_code=403, detail="over the limit")

    @post("/crash")
    async def crash(tasks: BackgroundTasks) -> None:
        add_three(tasks, seq)
        raise ValueError("boom")

    @post("/ok")
    def ok(tasks: BackgroundTasks) -> dict[str, bool]:
        add_three(tasks, seq)
        return {"ok": True}

    @post("/dependency")
    def dependency(_: None = Depends(adds_tasks), __: None = Depends(refuses)) -> None:
        seq.append(("handler ran",))

    @post("/invalid")
    def invalid(_: None = Depends(adds_tasks), *, count: int) -> dict[str, int]:
        return {"count": count}

    @post("/cleanup-after-error")
    def cleanup_after_error(tasks: BackgroundTasks, s: str = Depends(session)) -> None:
        add_three(tasks, seq)
        raise ValueError("the handler failed first")

    @post("/cleanup-after-success")
    def cleanup_after_success(tasks: BackgroundTasks, s: str = Depends(session)) -> dict[str, str]:
        add_three(tasks, seq)
        return {"session": s}

    @post("/disconnect")
    def disconnect(_: None = Depends(adds_tasks), body: bytes = Depends(reads_body)) -> None:
        seq.append(("handler ran",))

    @get("/stream")
    def stream(tasks: BackgroundTasks) -> StreamingResponse:
        add_three(tasks, seq)

        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            raise RuntimeError("the stream broke")

        return StreamingResponse(chunks())

    @post("/unencodable")
    def unencodable(tasks: BackgroundTasks) -> dict[str, object]:
        add_three(tasks, seq)
        return {"value": object()}

    audit = BackgroundTask(seq.append, ("task", "route always")).configure(when="always")

    @post("/route-task", background=audit)
    def route_task(fail: bool) -> dict[str, bool]:
        if fail:
            raise HTTPException(status_code=409, detail="conflict")
        return {"fail": fail}

    @post("/cancelled")
    async def cancelled(tasks: BackgroundTasks) -> None:
        add_three(tasks, seq)
        raise asyncio.CancelledError

    routes: list[Any] = [refused, crash, ok, dependency, invalid, cleanup_after_error, cleanup_after_success]
    routes += [disconnect, stream, unencodable, route_task, cancelled]
    return Ravyn(routes=routes)


async def drive(
    app: Ravyn,
    seq: Sequence,
    method: str,
    path: str,
    body: bytes = b"{}",
    *,
    disconnect: bool = False,
    send_fails: bool = False,
) -> dict[str, Any]:
    """One raw ASGI call; the status and body the client got, recorded into `seq` as sent."""
    scope = http_scope(method, path, body=body)
    answer: dict[str, Any] = {"status": None, "body": b""}
    receive = receive_body(body, gone=disconnect)

    async def send(message: Any) -> None:
        if send_fails and message["type"] == "http.response.body":
            raise OSError("the client is gone")
        seq.append(("sent", message["type"], str(message.get("more_body", False))))
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] += message.get("body", b"")

    try:
        await app(scope, receive, send)
    except BaseException as exc:
        seq.append(("raised", type(exc).__name__))
        if not isinstance(exc, Exception | asyncio.CancelledError):
            raise
    return answer


def runs(seq: Sequence) -> list[str]:
    return sorted(seq.tasks())


@pytest.fixture(params=[True, False], ids=["direct", "lilya_stack"])
def direct(request: pytest.FixtureRequest) -> bool:
    """Both dispatch paths: our lean core, and Lilya's own stack."""
    return bool(request.param)


def app_for(seq: Sequence, direct: bool) -> Ravyn:
    app = build(seq)
    app.direct_dispatch = direct
    return app


async def test_an_http_exception_runs_always_and_error_tasks_after_its_4xx_was_sent(direct: bool) -> None:
    seq = Sequence()
    answer = await drive(app_for(seq, direct), seq, "POST", "/refused")
    assert answer == {"status": 403, "body": b'{"detail":"over the limit"}'}
    assert seq.tasks() == ["always", "error"]
    assert seq.last_body() < seq.first_task(), seq


async def test_a_handler_crash_runs_them_after_the_500_and_before_the_error_reaches_the_server(
    direct: bool,
) -> None:
    seq = Sequence()
    answer = await drive(app_for(seq, direct), seq, "POST", "/crash")
    assert answer == {"status": 500, "body": b'{"detail":"Internal Server Error"}'}
    assert seq.tasks() == ["always", "error"]
    assert seq.last_body() < seq.first_task()
    assert seq[-1] == ("raised", "ValueError")


async def test_a_success_runs_success_and_always_tasks_but_not_error_ones(
    direct: bool, caplog: pytest.LogCaptureFixture
) -> None:
    seq = Sequence()
    with caplog.at_level(logging.DEBUG, "ravyn.background"):
        answer = await drive(app_for(seq, direct), seq, "POST", "/ok")
    assert answer == {"status": 201, "body": b'{"ok":true}'}
    assert seq.tasks() == ["always", "success"]
    skipped = [r for r in caplog.records if "when='error' not run" in r.getMessage()]
    assert [r.levelno for r in skipped] == [logging.DEBUG]
    assert "not run: the request succeeded" in skipped[0].getMessage()


async def test_a_dependency_that_raises_runs_the_tasks_an_earlier_dependency_added(direct: bool) -> None:
    seq = Sequence()
    answer = await drive(app_for(seq, direct), seq, "POST", "/dependency")
    assert answer == {"status": 401, "body": b'{"detail":"who are you?"}'}
    assert ("handler ran",) not in seq
    assert seq.tasks() == ["dep always", "dep error"]
    assert seq.last_body() < seq.first_task()


async def test_a_validation_failure_runs_the_tasks_a_dependency_added_after_its_400(direct: bool) -> None:
    seq = Sequence()
    answer = await drive(app_for(seq, direct), seq, "POST", "/invalid", b'{"count": "many"}')
    assert answer["status"] == 400
    assert json.loads(answer["body"])["errors"][0]["loc"] == ["body", "count"]
    assert seq.tasks() == ["dep always", "dep error"]
    assert seq.last_body() < seq.first_task()


async def test_a_yield_dependency_failing_in_its_cleanup_after_an_error_runs_them_once_after_the_500(
    direct: bool,
) -> None:
    seq = Sequence()
    answer = await drive(app_for(seq, direct), seq, "POST", "/cleanup-after-error")
    assert answer["status"] == 500
    # the clean-up runs before the error response (its exception replaces the handler's)
    assert seq.index(("cleanup",)) < seq.last_body() < seq.first_task()
    assert seq.tasks() == ["always", "error"]
    assert seq[-1] == ("raised", "RuntimeError")


async def test_a_cleanup_failing_after_a_sent_success_leaves_the_outcome_a_success(direct: bool) -> None:
    seq = Sequence()
    answer = await drive(app_for(seq, direct), seq, "POST", "/cleanup-after-success")
    assert answer["status"] == 201
    # the tasks ran after the 201, before the clean-up; the clean-up's failure runs no "error" task
    assert seq.tasks() == ["always", "success"]
    assert seq.last_body() < seq.first_task() < seq.index(("cleanup",))
    assert seq[-1] == ("raised", "RuntimeError")


async def test_a_client_that_disconnected_before_its_body_gets_the_error_tasks_run(direct: bool) -> None:
    seq = Sequence()
    answer = await drive(app_for(seq, direct), seq, "POST", "/disconnect", disconnect=True)
    assert answer["status"] == 400
    assert b"client_disconnected" in answer["body"]
    assert ("handler ran",) not in seq
    assert seq.tasks() == ["dep always", "dep error"]
    assert seq.last_body() < seq.first_task()


async def test_a_client_gone_while_the_answer_is_sent_gets_the_error_tasks_run(direct: bool) -> None:
    seq = Sequence()
    await drive(app_for(seq, direct), seq, "POST", "/ok", send_fails=True)
    assert seq.tasks() == ["always", "error"]
    assert seq[-1] == ("raised", "OSError")


async def test_a_stream_that_breaks_after_its_start_runs_the_error_tasks(direct: bool) -> None:
    seq = Sequence()
    answer = await drive(app_for(seq, direct), seq, "GET", "/stream")
    assert answer["status"] == 200
    assert seq.tasks() == ["always", "error"]
    assert seq.index(("sent", "http.response.start", "False")) < seq.first_task()
    assert seq[-1] == ("raised", "ExceptionGroup")  # Lilya streams in a task group


async def test_a_result_that_cannot_be_encoded_is_an_error_outcome(direct: bool) -> None:
    seq = Sequence()
    answer = await drive(app_for(seq, direct), seq, "POST", "/unencodable")
    assert answer["status"] == 500
    assert seq.tasks() == ["always", "error"]
    assert seq.last_body() < seq.first_task()


async def test_the_decorators_task_follows_its_policy_on_both_outcomes(direct: bool) -> None:
    seq = Sequence()
    app = app_for(seq, direct)
    failed = await drive(app, seq, "POST", "/route-task", b'{"fail": true}')
    assert failed["status"] == 409
    assert seq.tasks() == ["route always"]
    assert seq.last_body() < seq.first_task()
    seq.clear()
    succeeded = await drive(app, seq, "POST", "/route-task", b'{"fail": false}')
    assert succeeded["status"] == 201
    assert seq.tasks() == ["route always"]


async def test_a_cancelled_request_runs_none_and_says_which_were_left(
    direct: bool, caplog: pytest.LogCaptureFixture
) -> None:
    seq = Sequence()
    with caplog.at_level(logging.WARNING):
        await drive(app_for(seq, direct), seq, "POST", "/cancelled")
    assert seq.tasks() == []
    assert seq[-1] == ("raised", "CancelledError")
    lines = [r.getMessage() for r in caplog.records if r.name == "ravyn.background"]
    assert len(lines) == 1
    assert lines[0].startswith(
        "2 background task(s) for after an error not run: the request ended with CancelledError"
    )


async def test_the_warning_names_only_the_success_tasks_left_out(caplog: pytest.LogCaptureFixture) -> None:
    seq = Sequence()

    def charge(order: int) -> None: ...

    def release_stock(order: int) -> None: ...

    @post("/orders")
    def order(tasks: BackgroundTasks) -> None:
        tasks.add_task(charge, 1)
        tasks.add_task(release_stock, 1, when="error")
        tasks.add_task(charge, 2)
        raise ValueError("no stock")

    with caplog.at_level(logging.WARNING, "ravyn.routing"):
        await drive(Ravyn(routes=[order]), seq, "POST", "/orders")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "ravyn.routing"]
    assert line == (
        "2 background task(s) of order not run: the handler raised ValueError before the response: "
        "BackgroundTasks[test_the_warning_names_only_the_success_tasks_left_out.<locals>.charge, "
        "test_the_warning_names_only_the_success_tasks_left_out.<locals>.charge]"
    )


async def test_error_tasks_are_counted_logged_and_isolated_like_any_other(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    def fails() -> None:
        raise KeyboardInterrupt  # a BaseException from a task: contained, the next one runs

    @post("/fail")
    def fail(tasks: BackgroundTasks) -> None:
        tasks.add_task(fails, when="error")
        tasks.add_task(ran.append, "after", when="always")
        raise HTTPException(status_code=422, detail="no")

    app = Ravyn(routes=[fail])
    with caplog.at_level(logging.ERROR, "ravyn.background"):
        timeline = await record(app, "POST", "/fail")
    assert timeline.status == 422
    assert ran == ["after"]
    assert timeline.response_complete < timeline.first("task_started")
    assert timeline.task_names("task_failed") == [
        "test_error_tasks_are_counted_logged_and_isolated_like_any_other.<locals>.fails"
    ]
    stats = app.task_stats()
    assert (stats["started"], stats["succeeded"], stats["failed"], stats["running"]) == (2, 1, 1, 0)
    assert app.task_runner.pending == 0  # the place the request reserved was given back
    assert any("fails" in r.getMessage() for r in caplog.records)


async def test_error_tasks_are_bounded_by_max_pending_tasks() -> None:
    ran: list[int] = []

    @post("/fail")
    def fail(tasks: BackgroundTasks) -> None:
        for n in range(5):  # the third is past the room: TooManyTasks, a 503
            tasks.add_task(ran.append, n, when="error")

    app = Ravyn(routes=[fail], max_pending_tasks=2)
    seq = Sequence()
    answer = await drive(app, seq, "POST", "/fail")
    assert answer["status"] == 503
    assert ran == [0, 1]  # the two within the room, after the 503
    stats = app.task_stats()
    assert (stats["refused"], stats["started"], stats["rejected"]) == (1, 2, 0)
    assert app.task_runner.pending == 0


async def test_a_hanging_error_task_is_drained_like_any_other() -> None:
    started = asyncio.Event()

    async def hangs() -> None:
        seq.append(("task", "hangs"))
        started.set()
        await asyncio.sleep(3600)

    @post("/fail")
    def fail(tasks: BackgroundTasks) -> None:
        tasks.add_task(hangs, when="error")
        raise HTTPException(status_code=400, detail="no")

    app = Ravyn(routes=[fail])
    seq = Sequence()
    request = asyncio.create_task(drive(app, seq, "POST", "/fail"))
    await asyncio.wait_for(started.wait(), 10)
    assert seq.last_body() < seq.first_task()
    lost = await app.task_runner.drain(0.05)
    assert lost == 1
    await asyncio.wait_for(request, 10)
    assert app.task_stats()["lost"] == 1


async def test_head_requests_run_no_task_whatever_its_policy() -> None:
    ran: list[str] = []

    @get("/page")
    def page(tasks: BackgroundTasks) -> None:
        tasks.add_task(ran.append, "always", when="always")
        raise HTTPException(status_code=404, detail="gone")

    app = Ravyn(routes=[page])
    for method in ("GET", "HEAD"):
        await drive(app, Sequence(), method, "/page")
    assert ran == ["always"]  # the GET's only


async def test_a_collections_policy_reaches_its_children_that_set_none() -> None:
    seq = Sequence()

    @post("/fail")
    def fail() -> JSONResponse:
        raise HTTPException(status_code=400, detail="no")

    cleanup = BackgroundTasks(when="error")
    cleanup.add_task(seq.append, ("task", "inherits error"))
    cleanup.add_task(seq.append, ("task", "own success"), when="success")
    inner = BackgroundTasks(tasks=[BackgroundTask(seq.append, ("task", "nested inherits error"))])
    cleanup.tasks.append(inner)

    @post("/with-collection")
    def with_collection(tasks: BackgroundTasks) -> None:
        tasks.tasks.append(cleanup)
        raise HTTPException(status_code=400, detail="no")

    app = Ravyn(routes=[fail, with_collection])
    await drive(app, seq, "POST", "/with-collection")
    assert seq.tasks() == ["inherits error", "nested inherits error"]


@pytest.mark.parametrize(
    "policies_in_use", [False, True], ids=["no_policy_in_the_process", "policies_in_use"]
)
async def test_a_failed_request_with_only_default_tasks_runs_none_and_warns_once(
    policies_in_use: bool, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(when, "in_use", policies_in_use)
    seq = Sequence()

    @post("/plain")
    def plain(tasks: BackgroundTasks) -> None:
        tasks.add_task(seq.append, ("task", "success"))
        raise HTTPException(status_code=403, detail="no")

    with caplog.at_level(logging.WARNING, "ravyn.routing"):
        answer = await drive(Ravyn(routes=[plain]), seq, "POST", "/plain")
    assert answer == {"status": 403, "body": b'{"detail":"no"}'}
    assert seq.tasks() == []
    (line,) = [r.getMessage() for r in caplog.records if r.name == "ravyn.routing"]
    assert line.startswith("1 background task(s) of plain not run: the handler raised HTTPException before")


FAILURES = {
    "success": ("/model/fine", b'{"count": 1}', 201),
    "http_error": ("/model/http", b'{"count": 1}', 403),
    "server_error": ("/model/crash", b'{"count": 1}', 500),
    "dependency": ("/model/dependency", b'{"count": 1}', 401),
    "validation": ("/model/fine", b'{"count": "x"}', 400),
}


def model_app(ran: list[str], tree: list[Any]) -> Ravyn:
    """An app whose first dependency adds the model's tasks, and whose request
    then ends as its path says: fine, an HTTP error, a crash, a refusing dependency."""

    def adds(tasks: BackgroundTasks) -> None:
        tasks.tasks.extend(build_tasks(tree, [], ran.append))

    def refuses(kind: str) -> None:
        if kind == "dependency":
            raise HTTPException(status_code=401, detail="refused")

    @post("/model/{kind}")
    def ends(
        kind: str, _: None = Depends(adds), __: None = Depends(refuses), *, count: int
    ) -> dict[str, int]:
        if kind == "http":
            raise HTTPException(status_code=403, detail="forbidden")
        if kind == "crash":
            raise ValueError("crash")
        return {"count": count}

    return Ravyn(routes=[ends])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees(), ending=st.sampled_from(sorted(FAILURES)), direct=st.booleans())
def test_a_request_runs_exactly_the_tasks_the_model_of_the_rule_selects(
    tree: list[Any], ending: str, direct: bool
) -> None:
    ran: list[str] = []
    app = model_app(ran, tree)
    app.direct_dispatch = direct
    path, body, status = FAILURES[ending]
    seq = Sequence()
    answer = asyncio.run(drive(app, seq, "POST", path, body))
    assert answer["status"] == status
    expected = model_runs(tree, "success" if ending == "success" else "error")
    assert ran == [str(number) for number in expected]
    assert app.task_runner.pending == 0


async def test_a_body_too_large_runs_the_routes_task_for_after_an_error_after_its_413() -> None:
    seq = Sequence()
    audit = BackgroundTask(seq.append, ("task", "route always")).configure(when="always")

    @post("/upload", background=audit)
    def upload(note: str) -> dict[str, str]:
        return {"note": note}

    app = Ravyn(routes=[upload], max_body_size=16)
    answer = await drive(app, seq, "POST", "/upload", b'{"note": "' + b"x" * 100 + b'"}')
    assert answer["status"] == 413
    assert seq.tasks() == ["route always"]
    assert seq.last_body() < seq.first_task()


async def test_an_error_response_the_handler_returns_is_a_success_outcome() -> None:
    seq = Sequence()

    @get("/missing")
    def missing(tasks: BackgroundTasks) -> JSONResponse:
        add_three(tasks, seq)
        return JSONResponse({"detail": "not here"}, status_code=404)

    answer = await drive(Ravyn(routes=[missing]), seq, "GET", "/missing")
    assert answer["status"] == 404
    assert seq.tasks() == ["always", "success"]


async def test_a_request_refused_by_backpressure_runs_no_task_whatever_its_policy() -> None:
    seq = Sequence()
    release = asyncio.Event()

    async def holds_the_place() -> None:
        await release.wait()

    @post("/busy")
    def busy(tasks: BackgroundTasks) -> None:
        tasks.add_task(holds_the_place)

    audit = BackgroundTask(seq.append, ("task", "route always")).configure(when="always")

    @post("/audited", background=audit)
    def audited() -> None: ...

    app = Ravyn(routes=[busy, audited], max_pending_tasks=1)
    first = asyncio.create_task(drive(app, Sequence(), "POST", "/busy"))
    while app.task_stats()["running"] == 0:
        await asyncio.sleep(0.01)
    answer = await drive(app, seq, "POST", "/audited")
    release.set()
    await asyncio.wait_for(first, 10)
    assert answer["status"] == 503
    assert seq.tasks() == []
    assert app.task_stats()["refused"] == 1


async def test_a_task_added_by_an_error_task_while_it_runs_follows_the_same_outcome() -> None:
    seq = Sequence()

    @post("/fail")
    def fail(tasks: BackgroundTasks) -> None:
        def adds_more() -> None:
            seq.append(("task", "adds more"))
            tasks.add_task(seq.append, ("task", "added error"), when="error")
            tasks.add_task(seq.append, ("task", "added success"))

        tasks.add_task(adds_more, when="error")
        tasks.add_task(seq.append, ("task", "success"))
        raise HTTPException(status_code=409, detail="no")

    await drive(Ravyn(routes=[fail]), seq, "POST", "/fail")
    assert seq.tasks() == ["adds more", "added error"]


async def test_an_error_task_that_ignores_its_cancellation_is_abandoned_by_the_drain() -> None:
    stop = False
    started = asyncio.Event()

    async def stubborn() -> None:
        started.set()
        while not stop:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                continue  # ignores the drain's cancellation

    @post("/fail")
    def fail(tasks: BackgroundTasks) -> None:
        tasks.add_task(stubborn, when="error")
        raise HTTPException(status_code=400, detail="no")

    app = Ravyn(routes=[fail])
    request = asyncio.create_task(drive(app, Sequence(), "POST", "/fail"))
    await asyncio.wait_for(started.wait(), 10)
    lost = await asyncio.wait_for(app.task_runner.drain(0.05), 30)  # ends although the task does not
    assert lost == 1
    assert app.task_stats()["abandoned"] == 1
    stop = True
    await asyncio.wait_for(request, 10)


async def test_a_second_signal_gives_up_on_a_running_error_task_at_once() -> None:
    started = asyncio.Event()

    async def hangs() -> None:
        started.set()
        await asyncio.sleep(3600)

    @post("/fail")
    def fail(tasks: BackgroundTasks) -> None:
        tasks.add_task(hangs, when="always")
        raise ValueError("crash")

    app = Ravyn(routes=[fail])
    seq = Sequence()
    request = asyncio.create_task(drive(app, seq, "POST", "/fail"))
    await asyncio.wait_for(started.wait(), 10)
    assert app.task_runner.finish_now() == 1
    await asyncio.wait_for(request, 10)
    assert app.task_stats()["lost"] == 1
    assert seq[-1] == ("raised", "ValueError")  # the 500's error still reaches the server


class OutOfStock(Exception):
    """An error the app has its own exception handler for."""


async def test_the_tasks_of_an_exception_handlers_response_run_as_given_then_the_parked_ones(
    direct: bool,
) -> None:
    seq = Sequence()

    def out_of_stock(request: Request, exc: Exception) -> JSONResponse:
        tasks = BackgroundTasks()
        tasks.add_task(seq.append, ("task", "handler's default"))
        tasks.add_task(seq.append, ("task", "handler's error"), when="error")
        tasks.add_task(seq.append, ("task", "handler's success"), when="success")
        return JSONResponse({"detail": "out of stock"}, status_code=409, background=tasks)

    @post("/order")
    def order(tasks: BackgroundTasks) -> None:
        add_three(tasks, seq)
        raise OutOfStock

    app = Ravyn(routes=[order], exception_handlers={OutOfStock: out_of_stock})
    app.direct_dispatch = direct
    answer = await drive(app, seq, "POST", "/order")
    assert answer == {"status": 409, "body": b'{"detail":"out of stock"}'}
    # the error response's own tasks exist because of the error: all run, with it
    assert seq.tasks() == ["handler's default", "handler's error", "handler's success", "always", "error"]
    assert seq.last_body() < seq.first_task()


async def test_a_failed_request_with_thousands_of_tasks_names_ten_in_one_line_and_runs_its_error_ones(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[int] = []

    def charge(order: int) -> None: ...

    @post("/bulk")
    def bulk(tasks: BackgroundTasks) -> None:
        for order in range(1500):
            tasks.add_task(charge, order)
            tasks.add_task(ran.append, order, when="error")
        raise HTTPException(status_code=422, detail="one order is invalid")

    with caplog.at_level(logging.WARNING, "ravyn.routing"):
        answer = await drive(Ravyn(routes=[bulk], max_pending_tasks=4000), Sequence(), "POST", "/bulk")
    assert answer["status"] == 422
    assert ran == list(range(1500))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "ravyn.routing"]
    assert line.startswith("1500 background task(s) of bulk not run: the handler raised HTTPException")
    assert line.endswith(" and 1490 more]")
    assert line.count("charge") == 10
