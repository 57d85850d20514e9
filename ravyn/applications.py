"""The `Ravyn` application: a Lilya application that takes decorated handlers."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from lilya.apps import Lilya
from lilya.background import Task, Tasks
from lilya.exceptions import HTTPException, ImproperlyConfigured
from lilya.logging import StandardLoggingConfig
from lilya.requests import Request
from lilya.responses import JSONResponse, Response
from lilya.routing import Path
from lilya.types import ASGIApp, Message, Receive, Scope, Send

from ravyn._lilya import app_call
from ravyn._lilya.app_call import call_http
from ravyn._lilya.routes import refresh_fast_route
from ravyn._lilya.tasks import route_lilya_tasks_through_runner
from ravyn._logs import escape_server_error_logs
from ravyn._pipeline import compose
from ravyn.exceptions import error_response
from ravyn.openapi import serve_openapi
from ravyn.routing import (
    DEFAULT_MAX_BODY_SIZE,
    LenientTransformer,
    PathEndpoint,
    RouteHandler,
    path_shape,
    route,
)
from ravyn.runner import DEFAULT_MAX_PENDING_TASKS, TaskErrorHook, TaskRunner, serving
from ravyn.runner.when import run_parked
from ravyn.shutdown import drain_on_signals

if TYPE_CHECKING:
    from ravyn._journal.journal import TaskJournal

__all__ = ["LoggingUnlessConfigured", "Ravyn"]

logger = logging.getLogger("ravyn.applications")


class LoggingUnlessConfigured(StandardLoggingConfig):
    """Lilya's standard logging (INFO and up to the console), applied only if
    the process has no logging set up yet.

    Lilya configures the root logger each time an app is built, replacing
    whatever handlers the project had installed. With this default, a bare
    `uvicorn module:app` still shows the app's INFO logs (and every task
    failure), while a project that configured logging keeps its own setup.
    Pass `logging_config=` to `Ravyn` to choose differently.
    """

    def configure(self) -> None:
        if logging.getLogger().handlers:
            return
        super().configure()


class Ravyn(Lilya):
    """An ASGI application for handlers made with `get`, `post` and friends.

    Subclasses `lilya.apps.Lilya`: middleware, lifespan, `on_startup` /
    `on_shutdown`, `state` and Lilya routes all work as in Lilya. On top it
    adds `add_route(handler)`, JSON errors that name the problem, an OpenAPI
    document at `/openapi.json` (and Swagger UI at `/docs`), and a
    [`TaskRunner`][ravyn.runner.TaskRunner] (`app.task_runner`) that runs the
    background tasks of every request it serves, whichever route (ours, a
    Lilya `Path`, an `Include`d or mounted app) and whichever task classes
    (ours or Lilya's) gave them.

    Example:
        ```python
        from ravyn import Ravyn, get

        @get("/health")
        def health() -> dict[str, str]:
            return {"status": "ok"}

        app = Ravyn(routes=[health])
        ```

    Args:
        routes: handlers made by the route decorators, or Lilya routes.
        debug: Lilya's debug mode (tracebacks in 500 pages). Keep it off in production.
        max_body_size: the largest request body accepted, in bytes; larger gets a 413.
        stop_on_task_error: stop a request's remaining tasks after one fails.
        task_drain_timeout: at shutdown (SIGTERM/SIGINT under uvicorn, or the
            ASGI lifespan shutdown), how many seconds running background
            tasks get to finish before they are cancelled and logged as lost.
            From the first signal, the process ends within this plus
            `ravyn.shutdown.SHUTDOWN_MARGIN` seconds, whatever tasks and handlers do.
        on_task_error: called with `(task, exception)` when a task fails: a
            sync hook on a thread of its own, an async one on the loop, each
            given `on_task_error_timeout` seconds.
        on_task_error_timeout: how long a call of `on_task_error` may take
            before it is abandoned (and logged).
        task_threads: how many sync tasks may run at once, on threads of their own.
        max_pending_tasks: the most background tasks the app holds, waiting or
            running. At the bound, a request to a route that adds tasks is
            answered 503 with `Retry-After` before its handler runs
            (`task_stats()["refused"]`); a handler that adds more tasks than
            the room the app had when it started gets `TooManyTasks` from
            `add_task` (a 503 if it lets it propagate); tasks handed over by a
            route that could not be refused up front are logged and counted
            `rejected` past the bound.
        task_journal: a SQLite file (a path, or a `ravyn.journal.TaskJournal`
            for its options) that makes durable tasks (`durable=True`) survive
            a crash: each is committed before its response (or the request
            gets a 503) and, after a restart, run again once the startup hooks
            have run. The file also gives a crash report of the plain tasks a
            dead process lost, and lets the workers of `uvicorn --workers N`
            share the tasks. A file that cannot be used raises
            `ravyn.journal.JournalError` here. None (the default): no journal,
            nothing changes.
        enable_openapi: serve `/openapi.json` and `/docs`.
        title: the OpenAPI document's title.
        version: the OpenAPI document's version.
        **lilya_options: passed to `Lilya` (`lifespan`, `on_startup`,
            `on_shutdown`, `middleware`, `exception_handlers`, ...).
    """

    freeze_heap_at_startup: bool = True
    """Move every object alive at the lifespan startup out of reach of the
    garbage collector (`gc.freeze()`) until the shutdown (`gc.unfreeze()`).
    Under load the collector runs often; each full collection then walked the
    whole heap of imported modules (17-23 ms pauses, the p99 tail). Set it to
    False on a subclass or an instance to leave the collector alone."""

    direct_dispatch: bool = True
    """Build the app's middleware stack as `ravyn._pipeline.compose` does: the
    user's middleware around a lean core that serves the app's own routes from
    a compiled route table, with Lilya's semantics and error layers. Set it to
    False on a subclass or an instance (before the first request) to keep
    Lilya's own stack and router walk."""

    def __init__(
        self,
        routes: Sequence[Any] | None = None,
        *,
        debug: bool = False,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        stop_on_task_error: bool = False,
        on_task_error: TaskErrorHook | None = None,
        on_task_error_timeout: float = 5.0,
        task_threads: int = 40,
        task_drain_timeout: float = 30.0,
        max_pending_tasks: int = DEFAULT_MAX_PENDING_TASKS,
        task_journal: str | os.PathLike[str] | TaskJournal | None = None,
        enable_openapi: bool = True,
        title: str = "Ravyn",
        version: str = "0.1.0",
        **lilya_options: Any,
    ) -> None:
        handlers = [route for route in routes or [] if isinstance(route, RouteHandler)]
        others = [route for route in routes or [] if not isinstance(route, RouteHandler)]
        _refuse_handlers_inside(others)
        exception_handlers = {
            HTTPException: http_error_response,
            Exception: server_error_response,
            **(lilya_options.pop("exception_handlers", None) or {}),
        }
        lilya_options.setdefault("logging_config", LoggingUnlessConfigured(level="INFO"))
        super().__init__(
            debug=debug,
            routes=others,
            exception_handlers=exception_handlers,
            enable_openapi=False,
            **lilya_options,
        )
        self.max_body_size = max_body_size
        escape_server_error_logs()  # an exception's text cannot forge lines of the server's log
        runner_options: dict[str, Any] = {
            "stop_on_error": stop_on_task_error,
            "on_task_error": on_task_error,
            "thread_limit": task_threads,
            "max_pending": max_pending_tasks,
            "hook_timeout": on_task_error_timeout,
        }
        self.task_journal: TaskJournal | None = None
        """The app's task journal (`task_journal=`), or None."""
        if task_journal is None:
            self.task_runner = TaskRunner(**runner_options)
        else:
            # imported here: an app without a journal never loads sqlite3 (absent from Pyodide)
            from ravyn._journal.journal import TaskJournal
            from ravyn._journal.runner import JournaledRunner

            journal = task_journal if isinstance(task_journal, TaskJournal) else TaskJournal(task_journal)
            self.task_journal = journal
            self.task_runner = JournaledRunner(journal, **runner_options)
        self._unroute_lilya_tasks = route_lilya_tasks_through_runner(self)
        self.task_drain_timeout = task_drain_timeout
        self.drain_task: asyncio.Task[int] | None = None
        self._restore_signals: Callable[[], None] = _no_signals_hooked
        self.handlers: list[RouteHandler[Any, Any]] = []
        self._endpoints: dict[str, tuple[Path, PathEndpoint]] = {}
        self._lean_call = app_call.available()
        """Whether HTTP requests skip `Lilya.__call__`'s other branches (`ravyn._lilya.app_call`)."""
        self.title = title
        self.api_version = version
        for handler in handlers:
            self.add_route(handler)
        if enable_openapi:
            serve_openapi(self)

    def task_stats(self) -> dict[str, int]:
        """Counters of this app's background tasks (see
        [`TaskStats`][ravyn.runner.TaskStats]): started (handed to the runner),
        succeeded, failed, skipped, rejected, lost (at shutdown), running now,
        timed_out, retried, refused (requests answered 503 by backpressure)
        and abandoned (tasks still running that nobody waits for any more).

        With a `task_journal`, also (see `ravyn.journal.JournalStats`):
        recovered (unfinished durable tasks taken over at start or from a dead
        worker), rerun (of those, handed to the runner again), reported_lost
        (plain tasks a dead process lost, from the crash report),
        durable_recorded, durable_deduplicated (dropped: same `key` still
        unfinished), durable_unrecorded (requests answered 503: the commit
        failed), durable_gave_up (marked failed without running: too many
        attempts, or not importable) and durable_left_pending (kept at a
        shutdown, to run again)."""
        counts = self.task_runner.snapshot()
        if self.task_journal is not None:
            counts.update(self.task_journal.stats.counts())
        return counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            if self.task_journal is not None:
                send = self._journal_lifespan_send(send)
            await super().__call__(scope, self._lifespan_receive(receive), send)
        elif kind == "http" and (self.task_runner.draining or self.task_runner.closed):
            await error_response(SHUTTING_DOWN)(scope, receive, send)
        else:
            lean = kind == "http" and self._lean_call
            # whichever route serves it, this connection's tasks go to this app's runner
            with serving(
                self.task_runner, scope["method"] if lean else scope.get("method", "WEBSOCKET")
            ) as request:
                try:
                    if lean:
                        await call_http(self, scope, receive, send)
                    else:
                        await super().__call__(scope, receive, send)
                except BaseException as exc:
                    # the one place every stack's error response is known to be out: the
                    # tasks a failed request parked for `when="always"/"error"` run here
                    if request.failed is not None:
                        await run_parked(request, exc)
                    raise
                if request.failed is not None:
                    await run_parked(request, None)

    def build_middleware_stack(self) -> ASGIApp:
        """The app's middleware stack, built by Lilya at the first request: the
        user's middleware composed around a lean core (`ravyn._pipeline`), or
        Lilya's own stack when `direct_dispatch` is False."""
        if self.direct_dispatch:
            stack = compose(self)
            if stack is not None:
                return stack
        return super().build_middleware_stack()

    def add_exception_handler(
        self, exception_cls_or_status_code: int | type[Exception], handler: Any
    ) -> None:
        """Answer an exception (or a status code) with `handler`; refused with a
        `RuntimeError` once the app has served a request.

        The first request builds the app's error handling with the handlers
        known then; Lilya would take a later one and never call it."""
        if self.middleware_stack is not None:
            raise RuntimeError(
                "Exception handlers cannot be added once the application has started: "
                "pass them as Ravyn(exception_handlers=...) or add them before the first request."
            )
        super().add_exception_handler(exception_cls_or_status_code, handler)

    def add_permission(self, permission: Any, *args: Any, **kwargs: Any) -> None:
        """Refused with a `RuntimeError`: pass app-wide permissions as
        `Ravyn(permissions=[DefinePermission(...)])`.

        The app's permissions are put in place when it is built; Lilya's
        `add_permission` keeps a later one and never applies it, which let
        every request through silently."""
        raise RuntimeError(
            f"Permissions cannot be added to a built application ({permission!r}): "
            "pass them as Ravyn(permissions=[DefinePermission(...)])."
        )

    def endpoints_by_route(self) -> dict[int, PathEndpoint]:
        """Our endpoint behind each Lilya `Path` this app registered, by `id` of the `Path`."""
        return {id(lilya_path): endpoint for lilya_path, endpoint in self._endpoints.values()}

    def _journal_lifespan_send(self, send: Send) -> Send:
        """Start the task journal once the startup hooks have run (their
        `lifespan.startup.complete`): it re-runs the unfinished durable tasks then."""
        journal = self.task_journal
        assert journal is not None

        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                try:
                    await journal.start(self.task_runner)
                except Exception as exc:
                    logger.error("The task journal %s could not start: %s", journal.path, exc)
                    await send({"type": "lifespan.startup.failed", "message": f"task journal: {exc}"})
                    return
            await send(message)

        return lifespan_send

    def _lifespan_receive(self, receive: Receive) -> Receive:
        """Hook the app's own steps into the lifespan messages the server sends."""

        async def lifespan_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.freeze_heap_at_startup:
                    gc.freeze()  # full collections skip what the imports and the app made
                self.task_runner.reopen()
                self._restore_signals = drain_on_signals(self)
            elif message["type"] == "lifespan.shutdown":
                if self.drain_task is not None:
                    await self.drain_task  # started by the signal: let it finish its report
                    self.drain_task = None
                else:
                    await self.task_runner.drain(self.task_drain_timeout)
                if self.task_journal is not None:
                    await self.task_journal.stop()  # after the drain: what it left is pending
                if self.freeze_heap_at_startup:
                    gc.unfreeze()  # what startup froze can be collected again (tests start many apps)
                # each startup chains onto the signal handlers: unhook, or the chain grows
                self._restore_signals()
                self._restore_signals = _no_signals_hooked
            return message

        return lifespan_receive

    def add_route(  # type: ignore[override]
        self,
        path_or_handler: str | RouteHandler[Any, Any],
        handler: Callable[..., Any] | None = None,
        *,
        methods: Sequence[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> RouteHandler[Any, Any]:
        """Serve a handler.

        `app.add_route(handler)` takes the path and methods from the
        decorator; `app.add_route("/path", handler)` serves a decorated
        handler at another path, or a plain function (GET unless `methods`
        says otherwise). Registering a method and path twice raises
        `ImproperlyConfigured`.

        Returns the `RouteHandler` that serves the route.
        """
        route_handler = self._route_handler(path_or_handler, handler, methods, name, include_in_schema)
        self._register(route_handler)
        return route_handler

    @staticmethod
    def _route_handler(
        path_or_handler: str | RouteHandler[Any, Any],
        handler: Callable[..., Any] | None,
        methods: Sequence[str] | None,
        name: str | None,
        include_in_schema: bool,
    ) -> RouteHandler[Any, Any]:
        if isinstance(path_or_handler, RouteHandler):
            if path_or_handler.path is None:
                raise ImproperlyConfigured(
                    f"{path_or_handler.name} has no path: give one in its decorator "
                    f"(@post('/items')) or here (app.add_route('/items', {path_or_handler.name}))"
                )
            return path_or_handler
        if not isinstance(path_or_handler, str):
            raise ImproperlyConfigured(
                "add_route takes a handler made by @get/@post/... or a path and a handler: "
                f"got {path_or_handler!r}"
            )
        if handler is None:
            raise ImproperlyConfigured(f"add_route({path_or_handler!r}) needs a handler as well")
        if isinstance(handler, RouteHandler):
            return handler if handler.path == path_or_handler else handler.with_path(path_or_handler)
        return RouteHandler(
            handler,
            path=path_or_handler,
            methods=methods or ["GET"],
            name=name,
            include_in_schema=include_in_schema,
        )

    def route(  # type: ignore[override]
        self, path: str, methods: Sequence[str] = ("GET",), **options: Any
    ) -> Callable[[Callable[..., Any]], RouteHandler[Any, Any]]:
        """Decorate a function to serve it at `path` for `methods` (the options of `ravyn.route`)."""

        def decorator(func: Callable[..., Any]) -> RouteHandler[Any, Any]:
            return self.add_route(route(path, methods, **options)(func))

        return decorator

    def get(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], RouteHandler[Any, Any]]:  # type: ignore[override]
        """`@app.get(path)`: `@get(path)` registered on this app at once."""
        return self.route(path, ["GET"], **options)

    def post(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], RouteHandler[Any, Any]]:  # type: ignore[override]
        """`@app.post(path)`: `@post(path)` registered on this app at once."""
        return self.route(path, ["POST"], **options)

    def put(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], RouteHandler[Any, Any]]:  # type: ignore[override]
        """`@app.put(path)`: `@put(path)` registered on this app at once."""
        return self.route(path, ["PUT"], **options)

    def patch(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], RouteHandler[Any, Any]]:  # type: ignore[override]
        """`@app.patch(path)`: `@patch(path)` registered on this app at once."""
        return self.route(path, ["PATCH"], **options)

    def delete(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], RouteHandler[Any, Any]]:  # type: ignore[override]
        """`@app.delete(path)`: `@delete(path)` registered on this app at once."""
        return self.route(path, ["DELETE"], **options)

    def _register(self, handler: RouteHandler[Any, Any]) -> None:
        assert handler.path is not None
        shape = path_shape(handler.path)
        if shape not in self._endpoints:
            endpoint = PathEndpoint(handler.path)
            lilya_path = Path(handler.path, endpoint, methods=list(handler.methods), name=handler.name)
            # a path value that fits the pattern but not the type reaches the handler as text,
            # where its parameter's validation answers a 400 (not a 500 from Lilya's int())
            lilya_path.param_convertors = {
                key: LenientTransformer(transformer)
                for key, transformer in lilya_path.param_convertors.items()
            }
            self.router.routes.append(lilya_path)
            self._endpoints[shape] = (lilya_path, endpoint)
        lilya_path, endpoint = self._endpoints[shape]
        for method in handler.methods:
            existing = endpoint.handlers.get(method)
            if existing is not None:
                raise ImproperlyConfigured(
                    f"{method} {handler.path} is already handled by {existing.name}; "
                    f"{handler.name} cannot take it too. Use another path or method."
                )
        endpoint.add(handler)
        if self.task_journal is None and _holds_durable(handler.background):
            logger.warning(
                "%s has durable background tasks but the app has no task journal: they run as plain "
                "tasks and are lost if the process dies; give the app task_journal=...",
                handler.name,
            )
        allowed = lilya_path.methods if lilya_path.methods is not None else []
        for method in handler.methods:
            if method not in allowed:
                allowed.append(method)
        if "GET" in allowed and "HEAD" not in allowed:
            allowed.append("HEAD")
        lilya_path.methods = allowed
        self.handlers.append(handler)
        refresh_fast_route(self)


def _refuse_handlers_inside(routes: Sequence[Any], outer: str = "") -> None:
    """Raise `TypeError` naming a handler of ours put among a Lilya `Include`'s
    (or `Host`'s) routes: Lilya's router cannot serve it, and every request
    to it was a 500 (`'RouteHandler' object has no attribute 'search'`)."""
    for entry in routes:
        inner = getattr(entry, "routes", None)
        if not isinstance(inner, list):
            continue
        where = outer + str(getattr(entry, "path", "") or getattr(entry, "host", ""))
        for each in inner:
            if isinstance(each, RouteHandler):
                raise TypeError(
                    f"handler {each.func.__qualname__} ({each.path}) is among the routes of "
                    f"{type(entry).__name__}({where!r}), which cannot serve it: register it on the app "
                    f"with its whole path, or include an app of its own: "
                    f"Include({where!r}, app=Ravyn(routes=[...]))"
                )
        _refuse_handlers_inside(inner, where)


def _holds_durable(task: Task | None) -> bool:
    """Whether `task` is, or holds, a durable task."""
    if isinstance(task, Tasks):
        return any(_holds_durable(inner) for inner in task.tasks)
    return bool(getattr(task, "durable", False))


def _no_signals_hooked() -> None:
    """What there is to restore before the first lifespan startup: nothing."""


SHUTTING_DOWN = HTTPException(
    status_code=503, detail="The server is shutting down", headers={"connection": "close"}
)


def http_error_response(request: Request, exc: Exception) -> Response:
    """Answer an HTTP error (404, 405, ...) as JSON `{"detail": ...}`, keeping its headers."""
    assert isinstance(exc, HTTPException)
    return error_response(exc)


def server_error_response(request: Request, exc: Exception) -> Response:
    """Answer an unhandled error with a 500 and no traceback; the server logs it."""
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
