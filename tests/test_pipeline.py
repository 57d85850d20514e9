"""Tests for ravyn/_pipeline: a Ravyn app's own middleware stack behaves exactly as Lilya's.

Each case builds the same app twice, once with `direct_dispatch` on and once
off, drives both with the same raw ASGI requests (drawn by Hypothesis), and
compares everything an observer could see: the messages sent, the exception
that reaches the server, the scope the handler saw, the server's scope after
the call, the exception handlers' view, and the tasks run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lilya.context import _G_ACTIVE, g_context
from lilya.exceptions import HTTPException
from lilya.middleware import DefineMiddleware
from lilya.middleware.cors import CORSMiddleware
from lilya.requests import Request
from lilya.responses import PlainText
from lilya.routing import Host, Include, Path, Router

from ravyn import BackgroundTask, BackgroundTasks, Depends, Ravyn, delete, get, post
from ravyn.responses import JSONResponse, Response, StreamingResponse
from tests.support.asgi import http_scope, receive_body


class Teapot(Exception):
    """An exception the app has its own handler for."""


class Tagging:
    """A user's middleware that changes its scope (a key, a request header) and
    reads the route's metadata from its own scope when the response starts."""

    def __init__(self, app: Any, seen: list[Any]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["tag"] = "tagged"
        scope["headers"] = [*scope["headers"], (b"x-tag", b"1")]

        async def noting(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.seen.append(("middleware saw", scope.get("route_path_template"), "handler" in scope))
                message = {**message, "headers": [*message.get("headers", []), (b"x-tagged", b"yes")]}
            await send(message)

        await self.app(scope, receive, noting)


def build(direct: bool, variant: str) -> tuple[Ravyn, list[Any]]:
    """One app of a variant, and the list its handlers, hooks and tasks write to."""
    seen: list[Any] = []

    def note_scope(request: Request) -> None:
        scope = request.scope
        g_value = g_context.get()
        seen.append(
            {
                "keys": sorted(scope),
                "app": scope.get("app") is app,
                "router": scope.get("router") is app.router,
                "route": getattr(scope.get("route"), "path", None),
                "template": scope.get("route_path_template"),
                "handler": type(scope.get("handler")).__name__,
                "path_params": scope.get("path_params"),
                "dependencies": len(scope.get("dependencies", [])),
                "headers": scope.get("headers"),
                "headers_copied": scope.get("headers") is not outer_headers[-1],
                "exception_handlers": sorted(
                    getattr(key, "__name__", str(key)) for key in scope["lilya.exception_handlers"][0]
                ),
                "error_handler": getattr(scope.get("lilya.error_handler"), "__name__", None),
                "g": "active" if g_value is _G_ACTIVE else repr(getattr(g_value, "_context", g_value)),
                "tag": scope.get("tag"),
            }
        )

    @post("/register")
    async def register(name: str, request: Request, tasks: BackgroundTasks) -> dict[str, str]:
        note_scope(request)
        tasks.add_task(seen.append, f"task {name}")
        return {"name": name}

    @post("/guide")
    async def guide(name: str, request: Request) -> JSONResponse:
        note_scope(request)
        return JSONResponse({"ok": name}, background=BackgroundTask(seen.append, f"guide {name}"))

    @get("/boom")
    async def boom(request: Request) -> None:
        note_scope(request)
        raise ValueError("boom")

    @get("/teapot")
    async def teapot(request: Request) -> None:
        note_scope(request)
        raise Teapot("short and stout")

    @get("/http")
    async def http_error(request: Request) -> None:
        note_scope(request)
        raise HTTPException(status_code=409, detail="conflict", headers={"x-why": "because"})

    def audit(tasks: BackgroundTasks) -> None:
        tasks.add_task(seen.append, "audit always", when="always")

    @post("/audited")
    async def audited(
        request: Request, tasks: BackgroundTasks, _: None = Depends(audit), *, name: str
    ) -> dict[str, str]:
        note_scope(request)
        tasks.add_task(seen.append, f"error {name}", when="error")
        tasks.add_task(seen.append, f"success {name}")
        if name == "ada":
            raise HTTPException(status_code=403, detail="refused", headers={"x-why": "audit"})
        if name == "crash":
            raise ValueError("crash")
        return {"name": name}

    @get("/late")
    async def late(request: Request) -> StreamingResponse:
        note_scope(request)

        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            raise RuntimeError("after the start")

        return StreamingResponse(chunks())

    @get("/unencodable")
    async def unencodable(request: Request) -> dict[str, Any]:
        note_scope(request)
        return {"when": object()}  # fails while encoding, before the response starts

    async def closing_badly() -> AsyncIterator[str]:
        yield "session"
        raise RuntimeError("the clean-up after yield failed")

    @get("/cleanup/{kind}")
    async def cleanup(kind: str, request: Request, session: str = Depends(closing_badly)) -> Any:
        note_scope(request)
        if kind == "dict":
            return {"session": session}  # the clean-up raises once this was sent
        return JSONResponse({"session": session}, headers={"x-kind": kind} if kind == "headers" else None)

    @get("/items/{item_id:int}")
    async def item(item_id: int, request: Request) -> dict[str, int]:
        note_scope(request)
        return {"item_id": item_id}

    @post("/users/{user_id:int}/posts/{slug}")
    async def user_post(user_id: int, slug: str, request: Request, tasks: BackgroundTasks) -> dict[str, Any]:
        note_scope(request)
        tasks.add_task(seen.append, f"post {user_id} {slug}")
        return {"user_id": user_id, "slug": slug}

    @get("/users/{user_id:int}/posts/{slug}")
    async def read_post(user_id: int, slug: str, request: Request) -> dict[str, Any]:
        note_scope(request)
        return {"read": slug}

    @get("/files/{rest:path}")
    async def files(rest: str, request: Request) -> dict[str, str]:
        note_scope(request)
        return {"rest": rest}

    @get("/price/{amount:float}")
    async def price(amount: float, request: Request) -> dict[str, float]:
        note_scope(request)
        return {"amount": amount}

    @get("/tags/{name}")
    async def tag(name: str, request: Request) -> dict[str, str]:
        note_scope(request)
        return {"tag": name}

    @get("/tags/all")  # after /tags/{name}: that one answers first, in both
    async def all_tags(request: Request) -> dict[str, str]:
        note_scope(request)
        return {"tags": "all"}

    @get("/plain")
    def plain(request: Request) -> Response:
        note_scope(request)
        return Response(b"plain", media_type="text/plain")

    async def shadow(request: Request) -> PlainText:
        return PlainText("lilya's")

    async def teapot_handler(request: Request, exc: Exception) -> PlainText:
        where = request.scope.get("route_path_template")
        params = request.scope.get("path_params")
        return PlainText(f"teapot: {exc} at {where} with {params}", status_code=418)

    def conflict_handler(request: Request, exc: Exception) -> PlainText:
        return PlainText(f"status handler: {request.url.path}", status_code=409)

    def hook(scope: Any, receive: Any, send: Any) -> None:
        seen.append(("router hook", scope.get("path")))

    ours: list[Any] = [register, guide, boom, teapot, http_error, late, item, user_post, read_post, files]
    ours += [price, tag, all_tags, plain, unencodable, cleanup, audited]
    routes: list[Any] = ours
    options: dict[str, Any] = {"exception_handlers": {Teapot: teapot_handler}}
    if (
        variant == "shadowed"
    ):  # earlier Lilya routes answer /guide, /tags/all and one-segment paths themselves
        routes = [
            Path("/guide", shadow, methods=["POST"]),
            Path("/tags/all", shadow),
            Path("/{name}", shadow),
        ]
        routes += ours
    elif variant == "included":  # an Include at / before our routes may answer anything
        routes = [Include("/", routes=[Path("/x", shadow)]), *ours]
    elif variant == "mounted":  # an Include at /sub (before ours: Ravyn registers Lilya routes first)
        routes = [*ours, Include("/sub", routes=[Path("/x", shadow)])]
    elif variant == "host":  # a Host route: Lilya's router decides everything after it
        routes = [Host("other.example", app=Include("/", routes=[Path("/x", shadow)])), *ours]
    elif variant == "status_handler":
        options["exception_handlers"][409] = conflict_handler
    elif variant == "debug":
        options["debug"] = True
    elif variant == "middleware":
        options["middleware"] = [
            DefineMiddleware(Tagging, seen=seen),
            DefineMiddleware(CORSMiddleware, allow_origins=["https://example.com"], allow_credentials=True),
        ]
    elif variant == "intercept":
        options["enable_intercept_global_exceptions"] = True
    elif variant == "root_path":
        options["root_path"] = "/api"
    app = Ravyn(routes=routes, **options)
    app.direct_dispatch = direct
    if variant == "overrides":
        app.router.dependency_overrides["unused"] = lambda: 1
    elif variant == "global_context":
        app.populate_global_context = lambda connection: {"user": connection.url.path}
    elif variant == "router_hook":
        app.router.before_request.append(hook)
    return app, seen


outer_headers: list[Any] = [None]

PATHS = ["/register", "/guide", "/boom", "/teapot", "/http", "/late", "/items/3", "/items/x", "/plain"]
PATHS += ["/register/", "/nowhere", "/", "/other/x", "/REGISTER", "/guide?x=1", "/sub/x", "/openapi.json"]
PATHS += ["/users/7/posts/hello", "/users/x/posts/a", "/users/7/posts/", "/files/a/b/c", "/files/"]
PATHS += ["/price/1.5", "/price/1e400", "/tags/all", "/tags/x", "/items/" + "9" * 5000, "/audited"]
PATHS += ["/unencodable", "/cleanup/dict", "/cleanup/response", "/cleanup/headers"]
METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]
WORDS = ["users", "items", "posts", "files", "price", "tags", "api", "sub", "all", ""]
SEGMENTS = (
    st.sampled_from(WORDS)
    | st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/?#"), max_size=8)
    | st.integers(min_value=-(10**30), max_value=10**30).map(str)
    | st.floats(allow_nan=True).map(str)
)
BODIES = [b'{"name": "ada"}', b'{"name": 3}', b"{}", b"not json", b"", b'{"name": "\\ud800"}']
BODIES += [b'{"name": "crash"}', b'{"name": "grace"}']  # /audited: a 500, a success
VARIANTS = ["plain", "shadowed", "included", "mounted", "host", "status_handler", "overrides", "debug"]
VARIANTS += ["middleware", "intercept", "root_path", "global_context", "router_hook"]


async def drive(app: Ravyn, method: str, path: str, body: bytes, root_path: str) -> dict[str, Any]:
    """One raw ASGI call: what the server would see of it."""
    headers = [
        (b"host", b"test"),
        (b"content-type", b"application/json"),
        (b"origin", b"https://example.com"),
    ]
    headers.append((b"content-length", str(len(body)).encode()))
    outer_headers[-1] = headers
    scope = http_scope(method, path, headers=headers, root_path=root_path)
    messages: list[Any] = []
    receive = receive_body(body, stays=True)

    async def send(message: Any) -> None:
        messages.append(
            {
                "type": message["type"],
                "status": message.get("status"),
                "headers": sorted(message.get("headers", [])),
                "body": message.get("body"),
            }
        )

    raised = None
    try:
        await app(scope, receive, send)
    except Exception as exc:  # what reaches the server
        raised = (type(exc).__name__, str(exc))
    after = {key: scope[key] for key in ("route_path_template", "path_params") if key in scope}
    after["keys"] = sorted(scope)
    after["route"] = getattr(scope.get("route"), "path", None)
    after["app"] = scope.get("app") is app
    return {"messages": messages, "raised": raised, "scope_after": after}


def normalised(outcome: dict[str, Any], seen: list[Any]) -> dict[str, Any]:
    """Drop what differs between two equal runs: the debug page's traceback lines."""
    messages = outcome["messages"]
    if any(message["body"] and b"Traceback" in message["body"] for message in messages):
        for message in messages:  # the frames, and so the length, differ
            message["body"] = message["body"] and b"(traceback)"
            message["headers"] = [h for h in message["headers"] if h[0] != b"content-length"]
    return {**outcome, "seen": seen}


async def both(variant: str, method: str, path: str, body: bytes, root_path: str) -> None:
    results = []
    for direct in (True, False):
        app, seen = build(direct, variant)
        outcome = await drive(app, method, path, body, root_path)
        await asyncio.sleep(0)
        results.append(normalised(outcome, seen))
    assert results[0] == results[1], (variant, method, path, body, root_path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    variant=st.sampled_from(VARIANTS),
    method=st.sampled_from(METHODS),
    path=st.sampled_from(PATHS)
    | st.text(alphabet="/abcgiudr", min_size=1, max_size=12).map(lambda p: "/" + p)
    | st.lists(SEGMENTS, min_size=1, max_size=5).map(lambda parts: "/" + "/".join(parts)),
    body=st.sampled_from(BODIES),
    root_path=st.sampled_from(["", "/api"]),
)
def test_direct_dispatch_is_indistinguishable_from_lilyas_walk(
    variant: str, method: str, path: str, body: bytes, root_path: str
) -> None:
    asyncio.run(both(variant, method, path, body, root_path))


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_path_and_method_of_a_variant_matches(variant: str) -> None:
    async def all_of_them() -> None:
        for path in PATHS:
            for method in ("GET", "POST", "HEAD"):
                await both(variant, method, path, b'{"name": "ada"}', "")

    asyncio.run(all_of_them())


AUDITED = {  # body: the status, and the tasks that run (`when=` after each outcome)
    b'{"name": "grace"}': (201, ["audit always", "success grace"]),
    b'{"name": "ada"}': (403, ["audit always", "error ada"]),
    b'{"name": "crash"}': (500, ["audit always", "error crash"]),
    b'{"name": 3}': (400, ["audit always"]),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_outcome_policies_run_the_same_tasks_after_the_same_answer_in_both_stacks(variant: str) -> None:
    async def each_outcome() -> None:
        for body, (status, tasks) in AUDITED.items():
            await both(variant, "POST", "/audited", body, "")
            app, seen = build(True, variant)
            outcome = await drive(app, "POST", "/audited", body, "")
            assert outcome["messages"][0]["status"] == status, (variant, body)
            assert [item for item in seen if isinstance(item, str)] == tasks, (variant, body)

    asyncio.run(each_outcome())


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the HTTP requests that reach an app's own Lilya router (its walk over the routes)."""
    seen: list[str] = []
    router_call = Router.__call__

    async def counted(self: Router, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not self.is_sub_router:
            seen.append(scope["path"])
        await router_call(self, scope, receive, send)

    monkeypatch.setattr(Router, "__call__", counted)
    return seen


@pytest.mark.parametrize("variant", ["plain", "middleware", "global_context", "intercept", "mounted"])
def test_our_routes_are_served_from_the_table_and_the_rest_by_lilyas_router(
    variant: str, walks: list[str]
) -> None:
    app, _ = build(True, variant)
    ours = [("POST", "/register"), ("POST", "/guide"), ("GET", "/boom"), ("GET", "/plain")]
    ours += [("GET", "/items/3"), ("POST", "/users/7/posts/hi"), ("GET", "/files/a/b"), ("GET", "/tags/x")]
    for method, path in ours:
        asyncio.run(drive(app, method, path, b'{"name": "ada"}', ""))
    assert walks == []
    for method, path in [("GET", "/register"), ("GET", "/nowhere"), ("GET", "/sub/x"), ("GET", "/items/x")]:
        asyncio.run(drive(app, method, path, b"", ""))
    assert walks == ["/register", "/nowhere", "/sub/x", "/items/x"]


@pytest.mark.parametrize("change", ["router_hook", "router_middleware", "settings_off", "shadowed", "host"])
def test_what_the_table_cannot_skip_goes_through_lilyas_router(change: str, walks: list[str]) -> None:
    class Tag:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

    app, _ = build(True, change if change in ("shadowed", "host") else "plain")
    if change == "router_hook":
        app.router.before_request.append(lambda scope, receive, send: None)
    elif change == "router_middleware":
        app.router.middleware_stack = Tag(app.router.middleware_stack)
    elif change == "settings_off":
        app.direct_dispatch = False
    path = "/guide" if change == "shadowed" else "/register"
    asyncio.run(drive(app, "POST", path, b'{"name": "ada"}', ""))
    assert walks == [path]


@pytest.mark.parametrize("change", ["router_hook", "router_middleware", "global_context"])
def test_a_hook_or_layer_set_after_the_first_request_is_honoured(change: str) -> None:
    app, seen = build(True, "plain")
    asyncio.run(drive(app, "POST", "/register", b'{"name": "ada"}', ""))
    calls: list[str] = []

    class Tag:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            calls.append("router middleware")
            await self.app(scope, receive, send)

    if change == "router_hook":
        app.router.before_request.append(lambda scope, receive, send: calls.append("router hook"))
    elif change == "router_middleware":
        app.router.middleware_stack = Tag(app.router.middleware_stack)
    else:
        app.populate_global_context = lambda connection: {"late": True}
    seen.clear()
    outcome = asyncio.run(drive(app, "POST", "/register", b'{"name": "ada"}', ""))
    assert outcome["messages"][0]["status"] == 201
    if change == "global_context":
        assert seen[0]["g"] == "{'late': True}"
    else:
        assert calls == [change.replace("_", " ")]


def test_middleware_added_after_the_first_request_is_refused_as_by_lilya() -> None:
    for direct in (True, False):
        app, _ = build(direct, "plain")
        asyncio.run(drive(app, "POST", "/register", b'{"name": "ada"}', ""))
        with pytest.raises(RuntimeError, match="cannot be added once the application has started"):
            app.add_middleware(CORSMiddleware, allow_origins=["*"])


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "through-lilya"])
def test_an_exception_handler_added_after_the_first_request_is_refused_loudly(direct: bool) -> None:
    # Lilya keeps it and never calls it: the first request built the error handling
    def teapot(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"handled": str(exc)}, status_code=418)

    early, _ = build(direct, "plain")
    early.add_exception_handler(HTTPException, teapot)  # before the first request: kept, and used
    assert asyncio.run(drive(early, "GET", "/missing", b"", ""))["messages"][0]["status"] == 418
    app, _ = build(direct, "plain")
    asyncio.run(drive(app, "POST", "/register", b'{"name": "ada"}', ""))
    with pytest.raises(
        RuntimeError, match="Exception handlers cannot be added once the application has started"
    ):
        app.add_exception_handler(HTTPException, teapot)
    assert asyncio.run(drive(app, "GET", "/missing", b"", ""))["messages"][0]["status"] == 404


def test_a_permission_added_to_a_built_app_is_refused_loudly_not_ignored() -> None:
    # Lilya's add_permission keeps it and never applies it: every request went through
    class Deny:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await JSONResponse({"denied": True}, status_code=403)(scope, receive, send)

    app, _ = build(True, "plain")
    with pytest.raises(RuntimeError, match=r"pass them as Ravyn\(permissions="):
        app.add_permission(Deny)


def test_a_route_added_later_is_seen(walks: list[str]) -> None:
    app, _ = build(True, "plain")
    asyncio.run(drive(app, "POST", "/register", b'{"name": "ada"}', ""))

    @post("/later/{n:int}")
    async def later(n: int, name: str) -> dict[str, Any]:
        return {"later": name, "n": n}

    app.add_route(later)
    walks.clear()
    outcome = asyncio.run(drive(app, "POST", "/later/5", b'{"name": "ada"}', ""))
    assert outcome["messages"][0]["status"] == 201
    assert outcome["messages"][1]["body"] == b'{"later":"ada","n":5}'
    assert walks == []


def test_a_method_added_to_a_served_path_later_is_seen() -> None:
    app, _ = build(True, "plain")
    assert asyncio.run(drive(app, "DELETE", "/items/3", b"", ""))["messages"][0]["status"] == 405

    @delete("/items/{item_id:int}")
    async def remove(item_id: int) -> None:
        return None

    app.add_route(remove)
    assert asyncio.run(drive(app, "DELETE", "/items/3", b"", ""))["messages"][0]["status"] == 204


def test_a_lilya_route_put_in_front_takes_the_path_back() -> None:
    app, _ = build(True, "plain")
    asyncio.run(drive(app, "POST", "/register", b'{"name": "ada"}', ""))

    async def other(request: Request) -> PlainText:
        return PlainText("lilya's")

    app.router.routes.insert(0, Path("/register", other, methods=["POST"]))
    outcome = asyncio.run(drive(app, "POST", "/register", b'{"name": "ada"}', ""))
    assert outcome["messages"][1]["body"] == b"lilya's"
    app.router.routes[0] = Path("/items/{n}", other)  # replaced in place: seen too
    outcome = asyncio.run(drive(app, "GET", "/items/3", b"", ""))
    assert outcome["messages"][1]["body"] == b"lilya's"


def test_the_replay_never_sends_its_marker_to_the_server() -> None:
    app, _ = build(True, "plain")
    outcome = asyncio.run(drive(app, "GET", "/late", b"", ""))
    starts = [m for m in outcome["messages"] if m["type"] == "http.response.start"]
    assert [m["status"] for m in starts] == [200]  # the marker was swallowed, no second start
    assert outcome["raised"] is not None  # and the error still reaches the server


HOSTILE_BODIES = [
    b"a" * (2 * 1024 * 1024),  # past max_body_size
    b'{"name": "' + b"x" * (1024 * 1024 - 20) + b'"}',  # just under it
    b'{"name": 1' + b"0" * 5000 + b"}",  # an integer past the digit limit
    b"[" * 20000 + b"]" * 20000,  # deep nesting
    b'{"name": "ada", "name": "bob"}',  # a repeated key
    b"\xff\xfe not utf-8",
]


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=lambda body: repr(body[:12]))
@pytest.mark.parametrize("path", ["/register", "/guide"])
def test_hostile_bodies_get_the_same_answer_both_ways(path: str, body: bytes) -> None:
    asyncio.run(both("plain", "POST", path, body, ""))
    app, _ = build(True, "plain")
    outcome = asyncio.run(drive(app, "POST", path, body, ""))
    assert outcome["raised"] is None and outcome["messages"][0]["status"] < 500


def test_the_scope_boundary_copies_back_the_route_keys_lilya_copies_back() -> None:
    from lilya._internal._middleware import ROUTE_SCOPE_KEYS as LILYAS

    from ravyn._pipeline.isolation import ROUTE_SCOPE_KEYS

    assert ROUTE_SCOPE_KEYS == LILYAS


@pytest.mark.parametrize("kind", ["list", "header"])
def test_a_scope_is_copied_for_the_next_layer_as_lilya_copies_it(kind: str) -> None:
    from lilya._internal._middleware import copy_scope_for_middleware
    from lilya.datastructures import Header

    from ravyn._pipeline.isolation import copy_scope

    raw = [(b"host", b"x"), (b"x-a", b"1"), (b"x-a", b"2")]
    scope: dict[str, Any] = {"type": "http", "path": "/", "headers": raw if kind == "list" else Header(raw)}
    ours, lilyas = copy_scope(scope), copy_scope_for_middleware(scope)
    assert ours == lilyas
    assert ours["headers"] is not scope["headers"] and isinstance(ours["headers"], list)


def test_the_boundary_keeps_a_layers_changes_below_it_but_the_route_keys() -> None:
    from lilya._internal._middleware import ScopeIsolationMiddleware

    from ravyn._pipeline.isolation import Isolated

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["route"] = "the route"
        scope["secret"] = "below"
        scope["headers"].append((b"x-added", b"1"))
        seen.append(dict(outer))  # what the caller's scope holds before the first message
        await send({"type": "http.response.start", "status": 200, "headers": []})
        seen.append(dict(outer))

    async def send(message: Any) -> None:
        pass

    results = []
    for boundary in (Isolated, ScopeIsolationMiddleware):
        seen: list[dict[str, Any]] = []
        outer: dict[str, Any] = {"type": "http", "headers": [(b"host", b"x")]}
        asyncio.run(boundary(app)(outer, None, send))
        results.append((seen, outer))
    assert results[0] == results[1]
    assert results[0][1] == {"type": "http", "headers": [(b"host", b"x")], "route": "the route"}
