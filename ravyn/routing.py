"""Route decorators (`get`, `post`, `put`, `patch`, `delete`, `route`) and
the route handlers they make.

A decorated function becomes a [`RouteHandler`][ravyn.routing.RouteHandler]:
still callable like the function, plus the path, methods, status code,
background tasks and OpenAPI details that `Ravyn.add_route` needs. Its
signature is compiled once, here, not on every request.

Example:
    ```python
    from ravyn import BackgroundTasks, Ravyn, post

    def audit(event: str) -> None:
        print("audit:", event)

    @post("/notes")
    def create_note(text: str, tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(audit, "note_created")
        return {"text": text}

    app = Ravyn()
    app.add_route(create_note)
    ```
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Generic, ParamSpec, TypeVar

from lilya.background import Task
from lilya.compat import is_async_callable
from lilya.exceptions import HTTPException
from lilya.requests import Request
from lilya.responses import RESPONSE_TRANSFORM_KWARGS, Response
from lilya.transformers import Transformer
from lilya.types import Receive, Scope, Send

from ravyn._lilya.names import ClientDisconnect
from ravyn._pipeline.started import note_started
from ravyn.background import BackgroundTasks
from ravyn.dependencies import RequestDependencies
from ravyn.exceptions import FieldError, RequestError, error_response
from ravyn.params import HandlerSignature, read_signature
from ravyn.responses import JSONResponse, encode_json, respond
from ravyn.runner import METHODS_WITHOUT_TASKS, default_runner, when
from ravyn.runner.logs import escape_text
from ravyn.runner.requests import current_request
from ravyn.threads import run_sync

__all__ = [
    "LenientTransformer",
    "MethodRoute",
    "PathEndpoint",
    "RouteHandler",
    "delete",
    "get",
    "patch",
    "post",
    "put",
    "route",
]

P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger("ravyn.routing")

DEFAULT_STATUS = {"POST": 201, "DELETE": 204}
TOO_MANY_TASKS = HTTPException(
    status_code=503,
    detail="Too many background tasks pending: try again shortly",
    headers={"retry-after": "1"},
)
JOURNAL_UNAVAILABLE = HTTPException(
    status_code=503,
    detail="The task journal could not record this request's durable tasks: nothing was done; "
    "try again shortly",
    headers={"retry-after": "5"},
)
NO_BODY_STATUSES = frozenset({204, 304})
DEFAULT_MAX_BODY_SIZE = 1024 * 1024

CLIENT_LEFT = RequestError(
    400,
    "The client disconnected before sending the whole body",
    [FieldError(["body"], "client_disconnected", "the body ended early")],
)

_PATH_PARAM = re.compile(r"{([^}:]+)(?::([^}]+))?}")


def path_param_names(path: str) -> set[str]:
    """The parameter names in a path template: `/u/{id:int}` gives `{"id"}`."""
    return set(path_param_order(path))


def path_param_order(path: str) -> list[str]:
    """The parameter names in a path template, in order: `/u/{a}/{b:int}` gives `["a", "b"]`."""
    return [match.group(1) for match in _PATH_PARAM.finditer(path)]


def path_shape(path: str) -> str:
    """A path with parameter names erased, so `/u/{id}` and `/u/{uid}` compare equal."""
    return _PATH_PARAM.sub(lambda m: "{:" + (m.group(2) or "str") + "}", path.rstrip("/") or "/")


@functools.lru_cache(maxsize=64)
def _json_headers(status_code: int) -> tuple[tuple[bytes, bytes], ...] | None:
    """The headers Lilya's `JSONResponse` sends with `status_code`, but for the
    content length (added per body); None for a status whose headers differ
    (no body, say), which is then answered by a real `JSONResponse`.

    (Lilya's header order varies from one process to the next; ours is fixed.)
    """
    probe = JSONResponse(None, status_code=status_code)
    headers = dict(probe.encoded_headers)
    if sorted(headers) != [b"content-length", b"content-type"]:
        return None
    return ((b"content-type", headers[b"content-type"]),)


async def _send_json(
    content: Any, status_code: int, headers: tuple[tuple[bytes, bytes], ...], send: Send
) -> None:
    """Send `content` as Lilya's `JSONResponse(content, status_code)` would:
    the same encoding (`ravyn.responses.encode_json`: `lilya.encoders.json_encode`'s,
    custom encoders included), the same headers and messages, without building
    the response object and its `Header` (a third of a small request's cost)."""
    body = encode_json(content)
    note_started()
    await send(
        {
            "type": "http.response.start",
            "status": status_code,
            "headers": [*headers, (b"content-length", str(len(body)).encode("latin-1"))],
        }
    )
    await send({"type": "http.response.body", "body": body})


# a tuple made once: `dict | list` in the call builds a union object per request
_JSON_CONTAINERS = (dict, list)


class RouteHandler(Generic[P, R]):
    """A handler function with everything needed to route requests to it.

    Made by the route decorators; calling it calls the function unchanged, so
    handlers stay easy to unit-test.
    """

    def __init__(
        self,
        func: Callable[P, R],
        *,
        path: str | None,
        methods: Sequence[str],
        status_code: int | None = None,
        background: Task | None = None,
        name: str | None = None,
        summary: str | None = None,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        include_in_schema: bool = True,
    ) -> None:
        if not callable(func):
            raise TypeError(f"a route handler must be a function, got {func!r}")
        if background is not None and not isinstance(background, Task):
            raise TypeError(
                f"background= takes a BackgroundTask or BackgroundTasks, got {type(background).__name__}"
            )
        self.func = func
        self._call: Callable[..., Any] = func
        self.methods = [method.upper() for method in methods]
        self.status_code: int = status_code or DEFAULT_STATUS.get(self.methods[0], 200)
        self.background = background
        self.name: str = name or str(getattr(func, "__name__", "handler"))
        doc = inspect.getdoc(func) or ""
        self.summary = summary or (doc.splitlines()[0] if doc else self.name.replace("_", " ").capitalize())
        self.description = description if description is not None else doc or None
        self.tags = list(tags or [])
        self.include_in_schema = include_in_schema
        self.is_async = is_async_callable(func)
        self.path: str | None = None
        self.signature: HandlerSignature
        if path is None:  # given later, by add_route("/path", handler)
            self.signature = read_signature(func, path_params=set())
        else:
            self.bind_path(path)
        functools.update_wrapper(self, func)
        declares_tasks = self.signature.wants_tasks or background is not None
        if declares_tasks and ("OPTIONS" in self.methods or set(self.methods) <= METHODS_WITHOUT_TASKS):
            logger.warning(
                "%s is declared for %s and adds background tasks: HEAD and OPTIONS "
                "responses run none, so its tasks never run for those methods",
                self.name,
                "/".join(self.methods),
            )

    @property
    def adds_tasks(self) -> bool:
        """Whether the handler may add tasks: it takes a task collector, has
        `background=`, or is annotated to return a response (which may carry
        `background=`). Then a request may be refused (503) before the handler
        runs when the app holds too many tasks, instead of its tasks being
        rejected after the client got its answer."""
        return self.signature.wants_tasks or self.background is not None or self.signature.returns_response

    def bind_path(self, path: str) -> None:
        """Set the path and compile the signature against its parameters."""
        if not path.startswith("/"):
            raise ValueError(f"route paths start with '/': got {path!r} for {self.name}")
        self.path = path
        names = path_param_names(path)
        self.signature = read_signature(self.func, path_params=names)
        unused = names - {p.name for p in self.signature.parameters}
        if unused:
            logger.debug("%s ignores path parameters %s", self.name, sorted(unused))

    def with_path(self, path: str) -> RouteHandler[P, R]:
        """A copy of this handler served at another path."""
        copy = RouteHandler(
            self.func,
            path=path,
            methods=self.methods,
            status_code=self.status_code,
            background=self.background,
            name=self.name,
            summary=self.summary,
            description=self.description,
            tags=self.tags,
            include_in_schema=self.include_in_schema,
        )
        return copy

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.func(*args, **kwargs)

    def handle(self, scope: Scope, receive: Receive, send: Send) -> Coroutine[Any, Any, None]:
        """Serve one request: bind, call, respond, then run the tasks
        (`await handler.handle(scope, receive, send)`).

        Tasks come from three places and run in this order, each once: the
        injected collector, the returned response's `background`, the
        decorator's `background`. The clean-up of `yield` dependencies runs
        last, after the tasks.
        """
        # the coroutine that serves, returned rather than awaited: one frame less per request
        if not self.signature.has_dependencies:
            return self._serve(scope, receive, send, None)
        return self._serve_with_dependencies(scope, receive, send)

    async def _serve_with_dependencies(self, scope: Scope, receive: Receive, send: Send) -> None:
        dependencies = RequestDependencies()
        async with dependencies.cleanup:
            await self._serve(scope, receive, send, dependencies)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, dependencies: RequestDependencies | None
    ) -> None:
        app = scope.get("app")
        serving = current_request()
        runner = default_runner if serving is None else serving.runner  # `current_runner()`
        safe = scope["method"] in METHODS_WITHOUT_TASKS
        if self.adds_tasks and not safe and not runner.admit():
            await respond(error_response(TOO_MANY_TASKS), scope, receive, send)
            return
        signature = self.signature
        request = Request(scope, receive, send) if signature.needs_request else None
        tasks = BackgroundTasks() if signature.wants_tasks else None
        try:
            inputs = await signature.read(
                scope, receive, request, max_body_size=getattr(app, "max_body_size", DEFAULT_MAX_BODY_SIZE)
            )
            kwargs = await signature.bind(request, inputs, tasks, dependencies)
        except RequestError as exc:
            self._after_failure(tasks, f"a {exc.status_code} answered the request before the response")
            await respond(error_response(exc), scope, receive, send)
            return
        except ClientDisconnect:
            # one quiet line, not a traceback per connection; the answer goes nowhere (the
            # server drops it) but keeps Lilya from answering a 404 for a route that exists
            logger.debug("%s %s: client left before sending its body", scope["method"], scope["path"])
            self._after_failure(tasks, "the client disconnected before the response")
            await respond(error_response(CLIENT_LEFT), scope, receive, send)
            return
        except BaseException as exc:
            self._after_failure(tasks, f"a dependency raised {type(exc).__name__} before the response")
            raise
        try:
            if self.is_async:
                result = await self._call(**kwargs)
            else:
                result = await run_sync(functools.partial(self._call, **kwargs))
        except BaseException as exc:
            self._after_failure(tasks, f"the handler raised {type(exc).__name__} before the response")
            raise
        background: Task | None = None
        own = self.background
        json_headers = _json_headers(self.status_code) if isinstance(result, _JSON_CONTAINERS) else None
        response: Response | None = None
        held: list[int] | None = None
        unrecorded = False
        try:
            if json_headers is None or RESPONSE_TRANSFORM_KWARGS.get() is not None:
                response = result if isinstance(result, Response) else self.make_response(result)
                background, response.background = response.background, None
            if runner.journal is not None and not safe:
                # imported here: sqlite3 is not there in a browser (Pyodide), where there is no journal
                from ravyn._journal.boundary import record_before_response

                # durable tasks are committed before the first byte, or the request gets a 503
                recorded = await record_before_response(runner.journal, tasks, background, own)
                if recorded is None:
                    unrecorded = True
                else:
                    background, own, held = recorded
            # a 503 for unrecorded tasks is sent below, outside this block: its failure is not the response's
            if not unrecorded and response is None:
                # what make_response's JSONResponse would send, without building it
                await _send_json(result, self.status_code, json_headers, send)  # type: ignore[arg-type]
            elif response is not None and not unrecorded:
                await respond(response, scope, receive, send)
        except BaseException as exc:
            if held and runner.journal is not None:
                runner.journal.release(held)  # recorded, never handed over: another claim runs them
            # the handler's answer could not be encoded or sent: an error answers instead, or nothing
            self._after_failure(tasks, f"its response failed with {type(exc).__name__}", background)
            raise
        if unrecorded:
            self._after_failure(tasks, "the task journal could not record its durable tasks", background)
            await respond(error_response(JOURNAL_UNAVAILABLE), scope, receive, send)
            return
        if safe:
            # HEAD and OPTIONS must be safe to repeat (monitors, preflights): like Lilya, no tasks
            logger.debug("%s %s: background tasks not run", scope["method"], scope.get("path"))
            return
        if tasks or background is not None or own is not None:
            await runner.run(tasks, background, own)

    def _after_failure(self, tasks: BackgroundTasks | None, why: str, background: Task | None = None) -> None:
        """The request failed before its handler's response was sent: park the
        tasks whose `when=` runs them after an error (the collector's, the
        response's `background`, the decorator's) on the request, to run once
        the error response is out (`ravyn.runner.when.run_parked`), and say
        which of the collector's and the response's tasks will never run."""
        if not when.in_use:  # no task anywhere runs after an error: none of them runs
            if tasks:
                self._tasks_not_run(len(tasks.tasks), tasks.describe(), why)
            return
        runs, skipped = when.split((tasks, background), "error")
        request = current_request()
        if request is None:  # served outside a Ravyn app: nothing runs after its error response
            runs, skipped = [], runs + skipped
        elif runs or when.split((self.background,), "error")[0]:
            request.park((tasks, background, self.background))
        else:  # marked failed all the same: the error response's own tasks then run as given
            request.park(())
        if skipped:
            described = f"{BackgroundTasks.__name__}[{when.first_names(skipped)}]"
            self._tasks_not_run(len(skipped), described, why)

    def _tasks_not_run(self, count: int, described: str, why: str) -> None:
        """Say which of the request's tasks will never run, and why: tasks run
        only after a response the handler produced, unless their `when=` says otherwise."""
        logger.warning(
            "%d background task(s) of %s not run: %s: %s",
            count,
            self.name,
            escape_text(why),  # it names the exception's class, which a client's text may have named
            described,
        )

    def make_response(self, result: Any) -> Response:
        """Turn a handler's return value into a response.

        A `Response` is sent as it is; anything else is encoded as JSON with
        the route's status code (no body for 204 and 304).
        """
        if isinstance(result, Response):
            return result
        if self.status_code in NO_BODY_STATUSES:
            return Response(status_code=self.status_code)
        return JSONResponse(result, status_code=self.status_code)

    def __repr__(self) -> str:
        return f"RouteHandler({'/'.join(self.methods)} {self.path} -> {self.name})"


def route(
    path: str | None = None,
    methods: Sequence[str] = ("GET",),
    *,
    status_code: int | None = None,
    background: Task | None = None,
    name: str | None = None,
    summary: str | None = None,
    description: str | None = None,
    tags: Sequence[str] | None = None,
    include_in_schema: bool = True,
) -> Callable[[Callable[P, R]], RouteHandler[P, R]]:
    """Make a function a handler for `methods` at `path`.

    `status_code` defaults to 201 for POST, 204 for DELETE and 200 otherwise.
    `background` (a `BackgroundTask` or `BackgroundTasks`) runs after every
    response of this route. `name`, `summary`, `description` and `tags` go to
    the OpenAPI document (the docstring fills summary and description).

    Example:
        ```python
        from ravyn import route

        @route("/ping", methods=["GET", "POST"])
        def ping() -> str:
            return "pong"
        ```
    """

    def decorator(func: Callable[P, R]) -> RouteHandler[P, R]:
        return RouteHandler(
            func,
            path=path,
            methods=methods,
            status_code=status_code,
            background=background,
            name=name,
            summary=summary,
            description=description,
            tags=tags,
            include_in_schema=include_in_schema,
        )

    return decorator


class MethodRoute:
    """A decorator factory for one HTTP method: `get`, `post`, `put`, `patch`
    and `delete` are instances. `@post("/users")` and `@post(path="/users")`
    both work; the options are those of `route`."""

    def __init__(self, method: str) -> None:
        self.method = method

    def __call__(
        self,
        path: str | None = None,
        *,
        status_code: int | None = None,
        background: Task | None = None,
        name: str | None = None,
        summary: str | None = None,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        include_in_schema: bool = True,
    ) -> Callable[[Callable[P, R]], RouteHandler[P, R]]:
        return route(
            path,
            [self.method],
            status_code=status_code,
            background=background,
            name=name,
            summary=summary,
            description=description,
            tags=tags,
            include_in_schema=include_in_schema,
        )

    def __repr__(self) -> str:
        return f"MethodRoute({self.method!r})"


get = MethodRoute("GET")
"""`@get(path)`: a `GET` handler, answered with 200 by default (see `route`)."""
post = MethodRoute("POST")
"""`@post(path)`: a `POST` handler, answered with 201 by default (see `route`)."""
put = MethodRoute("PUT")
"""`@put(path)`: a `PUT` handler, answered with 200 by default (see `route`)."""
patch = MethodRoute("PATCH")
"""`@patch(path)`: a `PATCH` handler, answered with 200 by default (see `route`)."""
delete = MethodRoute("DELETE")
"""`@delete(path)`: a `DELETE` handler, answered with 204 and no body by default (see `route`)."""


class LenientTransformer(Transformer[Any]):
    """A Lilya path transformer that gives the raw text when its conversion fails.

    Lilya converts `{x:int}` with `int()` while matching the route, so a value
    of thousands of digits (or a `datetime` that fits the pattern but not the
    calendar) raised there, a 500. With the text instead, the handler's
    parameter validation answers a 400 that names the path value.
    """

    def __init__(self, inner: Transformer[Any]) -> None:
        self.inner = inner
        self.regex = inner.regex  # type: ignore[misc]

    def transform(self, value: str) -> Any:
        """`value` converted by Lilya's transformer, or as it is if that fails."""
        try:
            return self.inner.transform(value)
        except (ValueError, OverflowError):
            return value

    def normalise(self, value: Any) -> str:
        """Lilya's transformer's text for `value` (for `url_path_for`)."""
        return self.inner.normalise(value)


class PathEndpoint:
    """The ASGI endpoint of one path: dispatches each method to its handler.

    Mounted in a `lilya.routing.Path`, which answers 405 (with `Allow`) for a
    method no handler takes.
    """

    def __init__(self, path: str = "/") -> None:
        self.path = path
        self.handlers: dict[str, RouteHandler[Any, Any]] = {}
        self.renames: dict[str, dict[str, str]] = {}

    def add(self, handler: RouteHandler[Any, Any]) -> None:
        """Serve `handler`'s methods from this path.

        Its path may name the parameters otherwise (`/items/{item_id}` for GET,
        `/items/{id}` for POST): values are matched by position, and each
        handler sees its own names (in `request.path_params` too).
        """
        ours, theirs = path_param_order(self.path), path_param_order(handler.path or self.path)
        rename = {old: new for old, new in zip(ours, theirs, strict=True) if old != new}
        for method in handler.methods:
            self.handlers[method] = handler
            if rename:
                self.renames[method] = rename

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Coroutine[Any, Any, None]:
        """The ASGI call: `await endpoint(scope, receive, send)` serves the request
        with the handler of its method (a plain method returning the handler's
        coroutine, which saves a frame per request)."""
        method = scope["method"]
        if method not in self.handlers and method == "HEAD":
            method = "GET"
        handler = self.handlers[method]
        rename = self.renames.get(method)
        if rename is not None:
            values = scope.get("path_params", {})
            scope = {**scope, "path_params": {rename.get(key, key): value for key, value in values.items()}}
        return handler.handle(scope, receive, send)
