"""Tests for ravyn/dependencies.py: what a dependency takes, its per-request cache, the tasks
it adds, and `yield` dependencies whose clean-up runs after the request's background tasks."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

import anyio
import pytest
from lilya.dependencies import _Depends, inject
from lilya.exceptions import HTTPException

from ravyn import BackgroundTasks, Depends, Ravyn, Request, get, post
from ravyn.testing import mark, record

pytestmark = pytest.mark.anyio


def current_user(token: str) -> str:
    return token.removeprefix("user-")


def page_size(request: Request, size: int = 10) -> dict[str, Any]:
    return {"size": size, "path": request.url.path}


def listing(user: str = Depends(current_user), paging: dict[str, Any] = Depends(page_size)) -> str:
    return f"{user}:{paging['size']}"


@get("/things")
def things(summary: Annotated[str, Depends(listing)], user: str = Depends(current_user)) -> dict[str, str]:
    return {"summary": summary, "user": user}


async def test_a_dependency_takes_fields_the_request_and_other_dependencies() -> None:
    app = Ravyn(routes=[things])
    timeline = await record(app, "GET", "/things?token=user-ada&size=5")
    assert timeline.json() == {"summary": "ada:5", "user": "ada"}


async def test_a_dependencys_field_errors_are_a_400_like_the_handlers() -> None:
    app = Ravyn(routes=[things])
    timeline = await record(app, "GET", "/things?size=many")
    assert timeline.status == 400
    locs = [error["loc"] for error in timeline.json()["errors"]]
    assert locs == [["query", "token"], ["query", "size"]]  # each problem once, the shared token too


async def test_a_result_is_computed_once_per_request_unless_told_otherwise() -> None:
    calls: list[str] = []

    def counted() -> int:
        calls.append("counted")
        return len(calls)

    def uncached() -> int:
        calls.append("uncached")
        return len(calls)

    def first(value: int = Depends(counted), again: int = Depends(uncached, use_cache=False)) -> int:
        return value

    @get("/count")
    def count(
        a: int = Depends(first),
        b: int = Depends(counted),
        c: int = Depends(uncached, use_cache=False),
    ) -> dict[str, int]:
        return {"a": a, "b": b}

    app = Ravyn(routes=[count])
    assert (await record(app, "GET", "/count")).json() == {"a": 1, "b": 1}
    assert calls == ["counted", "uncached", "uncached"]
    await record(app, "GET", "/count")  # a new request computes it again
    assert calls.count("counted") == 2


def audit(event: str) -> None:
    mark(f"audit {event}")


def log_search(tasks: BackgroundTasks, q: str = "") -> str:
    tasks.add_task(audit, f"search {q}")
    return q


def with_audit(tasks: BackgroundTasks) -> BackgroundTasks:
    tasks.add_task(audit, "opened")
    return tasks


@post("/search")
async def search(
    tasks: Annotated[BackgroundTasks, Depends(with_audit)], q: str = Depends(log_search)
) -> dict[str, str]:
    tasks.add_task(audit, "handler")
    return {"q": q}


async def test_tasks_a_dependency_adds_go_to_the_handlers_collector_after_the_response() -> None:
    timeline = await record(Ravyn(routes=[search]), "POST", "/search", json={"q": "tea"})
    assert timeline.json() == {"q": "tea"}
    marks = timeline.all("mark")
    assert [event.name for event in marks] == ["audit opened", "audit search tea", "audit handler"]
    assert timeline.response_complete < marks[0]
    assert timeline.task_names() == ["audit", "audit", "audit"]


class Session:
    """A stand-in for a database session: usable only while open."""

    def __init__(self) -> None:
        self.open = True

    def save(self, what: str) -> None:
        assert self.open, "the session was closed before the task ran"
        mark(f"saved {what}")


def sync_session() -> Iterator[Session]:
    session = Session()
    mark("sync opened")
    try:
        yield session
    finally:
        session.open = False
        mark("sync closed")


async def async_session() -> AsyncIterator[Session]:
    session = Session()
    mark("async opened")
    yield session
    await anyio.sleep(0)
    session.open = False
    mark("async closed")  # after the yield, not in a finally: runs as a context manager's exit


@post("/notes")
def add_note(
    text: str,
    tasks: BackgroundTasks,
    first: Session = Depends(sync_session),
    second: Session = Depends(async_session),
) -> dict[str, str]:
    tasks.add_task(first.save, f"{text} (sync)")
    tasks.add_task(second.save, f"{text} (async)")
    return {"text": text}


async def test_yield_dependencies_clean_up_after_the_background_tasks() -> None:
    timeline = await record(Ravyn(routes=[add_note]), "POST", "/notes", json={"text": "hi"})
    assert timeline.status == 201
    names = [event.name for event in timeline.all("mark")]
    assert names == [
        "sync opened",
        "async opened",
        "saved hi (sync)",
        "saved hi (async)",
        "async closed",
        "sync closed",
    ]
    assert timeline.task_names("task_failed") == []
    assert timeline.response_complete < timeline.first("mark", "saved hi (sync)")


async def test_a_yield_dependency_is_cleaned_up_when_the_request_is_refused() -> None:
    @get("/sessions")
    def use_sessions(
        first: Session = Depends(sync_session), second: Session = Depends(async_session), count: int = 0
    ) -> None: ...

    timeline = await record(Ravyn(routes=[use_sessions]), "GET", "/sessions?count=x")
    assert timeline.status == 400
    assert [event.name for event in timeline.all("mark")] == [
        "sync opened",
        "async opened",
        "async closed",
        "sync closed",
    ]


def test_depends_is_lilyas_marker_so_lilyas_inject_resolves_it_outside_a_request() -> None:
    marker = Depends(current_user)
    assert isinstance(marker, _Depends)

    @inject
    def greet(name: str = Depends(lambda: "ada")) -> str:
        return f"hello {name}"

    assert greet() == "hello ada"


def test_depends_needs_a_callable() -> None:
    with pytest.raises(TypeError, match="takes a function"):
        Depends(42)


# FastAPI's background-tasks tutorial (its docs_src/background_tasks): the plain one and both
# `Depends` variants, with only the imports changed.
FASTAPI_TUTORIAL = {
    "tutorial001": """
        from ravyn import BackgroundTasks, Ravyn as FastAPI

        app = FastAPI()


        def write_notification(email: str, message=""):
            with open("log.txt", mode="w") as email_file:
                content = f"notification for {email}: {message}"
                email_file.write(content)


        @app.post("/send-notification/{email}")
        async def send_notification(email: str, background_tasks: BackgroundTasks):
            background_tasks.add_task(write_notification, email, message="some notification")
            return {"message": "Notification sent in the background"}
    """,
    "tutorial002": """
        from ravyn import BackgroundTasks, Depends, Ravyn as FastAPI

        app = FastAPI()


        def write_log(message: str):
            with open("log.txt", mode="a") as log:
                log.write(message)


        def get_query(background_tasks: BackgroundTasks, q: str | None = None):
            if q:
                message = f"found query: {q}\\n"
                background_tasks.add_task(write_log, message)
            return q


        @app.post("/send-notification/{email}")
        async def send_notification(
            email: str, background_tasks: BackgroundTasks, q: str = Depends(get_query)
        ):
            message = f"message to {email}\\n"
            background_tasks.add_task(write_log, message)
            return {"message": "Message sent"}
    """,
    "tutorial002_an": """
        from typing import Annotated

        from ravyn import BackgroundTasks, Depends, Ravyn as FastAPI

        app = FastAPI()


        def write_log(message: str):
            with open("log.txt", mode="a") as log:
                log.write(message)


        def get_query(background_tasks: BackgroundTasks, q: str | None = None):
            if q:
                message = f"found query: {q}\\n"
                background_tasks.add_task(write_log, message)
            return q


        @app.post("/send-notification/{email}")
        async def send_notification(
            email: str, background_tasks: BackgroundTasks, q: Annotated[str, Depends(get_query)]
        ):
            message = f"message to {email}\\n"
            background_tasks.add_task(write_log, message)
            return {"message": "Message sent"}
    """,
}


@pytest.mark.parametrize("name", sorted(FASTAPI_TUTORIAL))
async def test_fastapis_background_tasks_tutorial_runs_with_our_imports(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / f"fastapi_{name}.py").write_text(textwrap.dedent(FASTAPI_TUTORIAL[name]))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(f"fastapi_{name}")
    try:
        timeline = await record(module.app, "POST", "/send-notification/foo@example.com?q=some-query")
    finally:
        sys.modules.pop(f"fastapi_{name}", None)
    assert timeline.status == 201  # FastAPI answers a POST with 200, Ravyn with 201
    assert timeline.response_complete < timeline.first("task_started")
    log = (tmp_path / "log.txt").read_text()
    if name == "tutorial001":
        assert timeline.json() == {"message": "Notification sent in the background"}
        assert log == "notification for foo@example.com: some notification"
    else:
        assert timeline.json() == {"message": "Message sent"}
        assert log == "found query: some-query\nmessage to foo@example.com\n"
        assert timeline.task_names() == ["write_log", "write_log"]


# --- a yield dependency that catches the handler's exception (issue 21) ---------------------

swallowed: list[str] = []


def swallowing_session() -> Iterator[str]:
    try:
        yield "session"
    except Exception as exc:  # what is tested: caught, not raised again
        swallowed.append(f"sync: {exc}")


async def swallowing_async_session() -> AsyncIterator[str]:
    try:
        yield "session"
    except Exception as exc:
        swallowed.append(f"async: {exc}")


def answering_session() -> Iterator[str]:
    try:
        yield "session"
    except RuntimeError:
        raise HTTPException(status_code=409, detail="conflict, rolled back") from None


@get("/swallow/sync")
def fail_sync(session: str = Depends(swallowing_session)) -> dict[str, str]:
    raise RuntimeError("handler failed")


@get("/swallow/async")
async def fail_async(session: str = Depends(swallowing_async_session)) -> dict[str, str]:
    raise RuntimeError("handler failed")


@get("/swallow/answer")
def fail_answered(session: str = Depends(answering_session)) -> dict[str, str]:
    raise RuntimeError("handler failed")


@get("/swallow/not-found")
async def fail_not_found(session: str = Depends(swallowing_async_session)) -> dict[str, str]:
    raise HTTPException(status_code=404, detail="no such note")


async def _raw_asgi(target: Ravyn, path: str) -> tuple[list[dict[str, Any]], BaseException | None]:
    """The messages `target` sends for a GET of `path`, and what it raised to the server."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    raised: BaseException | None = None
    try:
        await target(scope, receive, send)
    except Exception as exc:
        raised = exc
    return sent, raised


def _swallow_app(direct: bool) -> Ravyn:
    app = Ravyn(routes=[fail_sync, fail_async, fail_answered, fail_not_found])
    app.direct_dispatch = direct
    return app


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "through-lilya"])
@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_a_yield_dependency_that_swallows_the_handlers_error_still_leaves_a_json_500(
    direct: bool, flavour: str
) -> None:
    swallowed.clear()
    sent, raised = await _raw_asgi(_swallow_app(direct), f"/swallow/{flavour}")
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 500
    assert sent[1]["body"] == b'{"detail":"Internal Server Error"}'
    # the dependency's except block ran, and the error still reaches the server's log
    assert swallowed == [f"{flavour}: handler failed"]
    assert isinstance(raised, RuntimeError)


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "through-lilya"])
async def test_the_handlers_http_error_is_answered_though_a_dependency_caught_it(direct: bool) -> None:
    sent, raised = await _raw_asgi(_swallow_app(direct), "/swallow/not-found")
    assert sent[0]["status"] == 404
    assert sent[1]["body"] == b'{"detail":"no such note"}'
    assert raised is None


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "through-lilya"])
async def test_an_http_error_raised_in_a_dependencys_except_replaces_the_handlers_error(direct: bool) -> None:
    sent, raised = await _raw_asgi(_swallow_app(direct), "/swallow/answer")
    assert sent[0]["status"] == 409
    assert sent[1]["body"] == b'{"detail":"conflict, rolled back"}'
    assert raised is None


# --- unusual dependency callables and cycles, refused or served at registration (issue 21) ---


class Scaler:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    def __call__(self, n: int = 1) -> int:
        return n * self.factor


class AsyncScaler:
    async def __call__(self, n: int = 1) -> int:
        return n * 10


class AsyncYielder:
    async def __call__(self, n: int = 1) -> AsyncIterator[int]:
        yield n * 100


def multiply(n: int, by: int) -> int:
    return n * by


async def multiply_later(n: int, by: int) -> int:
    return n * by


def with_options(n: int, *, by: int = 2) -> int:
    return n * by


@pytest.mark.parametrize(
    ("dependency", "expected"),
    [
        (Scaler(3), 12),
        (AsyncScaler(), 40),
        (AsyncYielder(), 400),
        (functools.partial(multiply, by=5), 20),
        (functools.partial(multiply_later, by=6), 24),
        (functools.partial(functools.partial(with_options, by=7)), 28),
        (Scaler(2).__call__, 8),
    ],
    ids=[
        "instance",
        "async-instance",
        "async-yield-instance",
        "partial",
        "async-partial",
        "partial-of-partial",
        "bound-method",
    ],
)
async def test_callable_instances_partials_and_methods_are_served_as_what_they_run(
    dependency: Any, expected: int
) -> None:
    @get("/scaled")
    def scaled(value: int = Depends(dependency)) -> dict[str, int]:
        return {"value": value}

    timeline = await record(Ravyn(routes=[scaled]), "GET", "/scaled?n=4")
    assert (timeline.status, timeline.json()) == (200, {"value": expected})


def needs_itself(value: int = 0) -> int:
    return value


needs_itself.__defaults__ = (Depends(needs_itself),)


def first_of_loop(value: int = 0) -> int:
    return value


def second_of_loop(value: int = Depends(first_of_loop)) -> int:
    return value


first_of_loop.__defaults__ = (Depends(second_of_loop),)


def test_a_dependency_that_needs_itself_is_refused_naming_the_cycle() -> None:
    with pytest.raises(TypeError) as caught:

        @get("/loop")
        def looping(value: int = Depends(needs_itself)) -> dict[str, int]:
            return {}

    message = str(caught.value)
    assert message.startswith("handler test_a_dependency_that_needs_itself")
    assert "dependency cycle: " in message and message.endswith("looping -> needs_itself -> needs_itself")


def test_a_cycle_through_several_dependencies_is_refused_naming_each() -> None:
    with pytest.raises(
        TypeError, match=r"dependency cycle: .*looping -> first_of_loop -> second_of_loop -> first_of_loop$"
    ):

        @get("/loop")
        def looping(value: int = Depends(first_of_loop)) -> dict[str, int]:
            return {}


def test_the_same_dependency_twice_is_not_a_cycle() -> None:
    def shared(n: int = 1) -> int:
        return n

    def left(a: int = Depends(shared)) -> int:
        return a

    def right(b: int = Depends(shared)) -> int:
        return b

    @get("/diamond")
    def diamond(x: int = Depends(left), y: int = Depends(right), z: int = Depends(shared)) -> dict[str, int]:
        return {"sum": x + y + z}

    assert diamond.signature.has_dependencies


def takes_positional_only(n: int, /) -> int:
    return n


def takes_any(**options: Any) -> int:
    return 0


class Opaque:
    pass


@dataclasses.dataclass
class Paginate:
    """A configurable dependency; a dataclass defines __eq__, so its instances are not hashable."""

    size: int

    def __call__(self, page: int = 1) -> int:
        return (page - 1) * self.size


def reads_opaque(thing: Opaque) -> int:
    return 0


def wraps_opaque(inner: int = Depends(reads_opaque)) -> int:
    return inner


@pytest.mark.parametrize(
    ("dependency", "problem"),
    [
        (dict, r"dependency dict: its parameters cannot be read .*: wrap it in a function of your own"),
        (print, r"dependency print: \*args parameters are not supported"),
        (takes_any, r"dependency takes_any: \*options parameters are not supported"),
        (takes_positional_only, r"dependency takes_positional_only: parameter 'n' is positional-only"),
        (
            wraps_opaque,
            r"dependency wraps_opaque -> reads_opaque: parameter 'thing': cannot read a value of type Opaque",
        ),
        (Paginate(10), r"dependency Paginate instance: it is not hashable, .*use_cache=False\)"),
    ],
    ids=[
        "builtin-without-signature",
        "builtin-with-args",
        "kwargs",
        "positional-only",
        "nested-bad-annotation",
        "unhashable-instance",
    ],
)
def test_a_dependency_that_cannot_be_served_is_refused_naming_it_and_its_handler(
    dependency: Any, problem: str
) -> None:
    with pytest.raises(TypeError, match=r"^handler .*served_badly, " + problem):

        @get("/bad")
        def served_badly(value: Any = Depends(dependency)) -> dict[str, int]:
            return {}


async def test_an_unhashable_dependency_without_the_cache_is_served() -> None:
    @get("/page")
    def page(offset: int = Depends(Paginate(10), use_cache=False)) -> dict[str, int]:
        return {"offset": offset}

    answer = await record(Ravyn(routes=[page]), "GET", "/page?page=3")
    assert (answer.status, answer.json()) == (200, {"offset": 20})


async def swallowing_everything() -> AsyncIterator[str]:
    try:
        yield "session"
    except BaseException as exc:  # what is tested: even a cancellation caught and dropped
        swallowed.append(f"base: {type(exc).__name__}")


@get("/swallow/cancelled")
async def cancelled_handler(session: str = Depends(swallowing_everything)) -> dict[str, str]:
    raise anyio.get_cancelled_exc_class()()


async def test_a_cancellation_a_dependency_catches_is_not_swallowed() -> None:
    swallowed.clear()
    app = Ravyn(routes=[cancelled_handler])
    with pytest.raises(anyio.get_cancelled_exc_class()):
        await _raw_asgi(app, "/swallow/cancelled")
    assert swallowed == ["base: CancelledError"]


async def fetch_user() -> str:
    return "ada"


@get("/wrapped-async")
def wrapped_async(user: Any = Depends(lambda: fetch_user())) -> dict[str, str]:
    return {"user": str(user)}


async def test_a_sync_dependency_returning_a_coroutine_is_an_error_naming_it() -> None:
    sent, raised = await _raw_asgi(Ravyn(routes=[wrapped_async]), "/wrapped-async")
    assert sent[0]["status"] == 500
    assert isinstance(raised, TypeError)
    assert "dependency <lambda> returned a coroutine" in str(raised) and "async def" in str(raised)
