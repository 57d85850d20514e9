"""Direct dispatch: a request for one of our own routes, sent straight to it.

For every request, Lilya's application walks a stack of layers before a
route's endpoint runs: the server-error and exception middleware, each behind
two scope-isolation wrappers (four copies of the scope and its headers), then
the router's search over its routes, then the route's own dispatch. For a
static path served by a Ravyn handler, nothing in that walk changes what the
handler does or what the client gets, as long as no layer was added around it.
[`DirectRoutes`][ravyn.dispatch.DirectRoutes] proves that for each of the app's
paths once, and then serves such requests with one lookup and one scope copy
holding exactly the keys Lilya's walk would have put there.

Errors keep Lilya's own handling: an exception the handler lets out is raised
again inside the very middleware objects Lilya built for the app (see
[`ErrorReplay`][ravyn.dispatch.ErrorReplay]), so the exception handlers, the
500 page, `debug` and the re-raise to the server are Lilya's, unchanged.

Anything the proof does not cover goes through Lilya as before: a path with
parameters, a method the route does not take, custom middleware, router or
route middleware and permissions, before/after-request hooks, a settings
module, `populate_global_context`, an app `root_path`, or an earlier route
(a Lilya `Path`, an `Include`, a `Host`...) that could answer the same path.
Set `Ravyn.direct_dispatch = False` to send everything through Lilya.

One thing differs: Lilya's internal `ContinueRouting`, raised from a handler
served directly, is not re-routed to the routes after it (Lilya's router would
try them); no Ravyn handler raises it.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from lilya._internal._middleware import ScopeIsolationMiddleware
from lilya.conf import _monkay
from lilya.context import _G_ACTIVE, g_context
from lilya.enums import Match
from lilya.middleware.exceptions import ExceptionMiddleware
from lilya.middleware.server_error import ServerErrorMiddleware
from lilya.routing import Path, Router
from lilya.routing.websocket import WebSocketPath
from lilya.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from ravyn.applications import Ravyn
    from ravyn.routing import PathEndpoint

__all__ = ["DirectRoute", "DirectRoutes", "ErrorReplay"]


class DirectRoute:
    """One static path of ours that requests may reach directly: the Lilya
    `Path` that routes it and our endpoint behind it."""

    __slots__ = ("endpoint", "methods", "path", "route")

    def __init__(self, route: Path, endpoint: PathEndpoint) -> None:
        self.route = route
        self.endpoint = endpoint
        self.path = route.path
        self.methods = frozenset(route.methods or ())


class DirectRoutes:
    """The app's paths that requests may reach without Lilya's router, and
    whether the app as a whole allows it. Worked out again (`refresh`) when
    the number of the router's routes changes and when `Ravyn.add_route`
    registers a handler, as Lilya's own fast path does; a route replaced in
    place in `app.router.routes` after the first request is not seen."""

    __slots__ = ("paths", "replay", "size", "usable")

    def __init__(self) -> None:
        self.paths: dict[str, DirectRoute] = {}
        self.replay: ErrorReplay | None = None
        self.size = -1
        self.usable = False

    def refresh(self, app: Ravyn) -> None:
        """Work out which of `app`'s paths are served directly."""
        routes = app.router.routes
        self.size = len(routes)
        self.paths = {}
        self.replay = None
        self.usable = False
        if app.middleware_stack is None:
            app.middleware_stack = app.build_middleware_stack()
        replay = ErrorReplay.from_stack(app.middleware_stack, app.router)
        if replay is None or not _app_is_plain(app):
            return
        ours = {id(route): endpoint for route, endpoint in app._endpoints.values()}
        earlier: list[Any] = []
        for route in routes:
            endpoint = ours.get(id(route))
            if (
                endpoint is not None
                and isinstance(route, Path)
                and _route_is_plain(route, endpoint)
                and not any(_may_answer(other, route.path) for other in earlier)
            ):
                self.paths[route.path] = DirectRoute(route, endpoint)
            earlier.append(route)
        self.replay = replay
        self.usable = bool(self.paths)

    def find(self, app: Ravyn, scope: Scope) -> DirectRoute | None:
        """The route to serve `scope` directly, or None to go through Lilya."""
        if len(app.router.routes) != self.size:
            self.refresh(app)
        if not self.usable:
            return None
        path = scope["path"]
        root_path = scope.get("root_path", "")
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :]
        found = self.paths.get(path)
        if found is None or scope["method"] not in found.methods:
            return None
        return found

    async def serve(self, app: Ravyn, found: DirectRoute, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request as Lilya's walk would, with the same scope keys."""
        scope["app"] = app
        error_handler = app._get_error_handler()  # read per request, as Lilya's __call__ does
        if error_handler:
            scope["lilya.error_handler"] = error_handler
        token = g_context.set(_G_ACTIVE)
        try:
            if _monkay_current(app):
                await self._serve(app, found, scope, receive, send)
            else:
                with _monkay.with_settings(app.settings), _monkay.with_instance(app):
                    await self._serve(app, found, scope, receive, send)
        finally:
            g_context.reset(token)

    async def _serve(
        self, app: Ravyn, found: DirectRoute, scope: Scope, receive: Receive, send: Send
    ) -> None:
        replay = self.replay
        assert replay is not None
        route = found.route
        inner = dict(scope)
        headers = inner.get("headers")
        if headers is not None:  # Lilya's scope isolation gives each layer its own header list
            encoded = getattr(headers, "encoded_multi_items", None)
            inner["headers"] = list(encoded()) if encoded is not None else list(headers)
        inner["lilya.exception_handlers"] = replay.exception_handlers
        if "router" not in inner:
            inner["router"] = app.router
        inner["route"] = route
        inner["route_path_template"] = route.path
        if app.router.dependency_overrides:
            inner["dependency_overrides"] = app.router.dependency_overrides
        path_params = inner.get("path_params")
        inner["handler"] = route.handler
        inner["path_params"] = dict(path_params) if path_params else {}
        inner["dependencies"] = [*inner.get("dependencies", []), route.dependencies]
        # what Lilya's isolation layers copy back to the server's scope
        scope["route"] = route
        scope["route_path_template"] = route.path
        started = False

        async def sender(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await found.endpoint(inner, receive, sender)
        except Exception as exc:
            await replay.raise_again(scope, receive, send, exc, started, found)


class ErrorReplay:
    """Lilya's own error layers for one app, fed an exception again.

    Built from the app's middleware stack: the same `ServerErrorMiddleware`
    and `ExceptionMiddleware` objects (with their handlers, `debug` and
    scope-isolation wrappers), the router at the bottom replaced by an app
    that re-raises what the direct call raised. The layers then answer (or
    re-raise to the server) exactly as they would have if the exception had
    come up through them.
    """

    __slots__ = ("exception_handlers", "stack")

    def __init__(self, stack: ASGIApp, exception_handlers: tuple[Any, Any]) -> None:
        self.stack = stack
        self.exception_handlers = exception_handlers

    @classmethod
    def from_stack(cls, stack: ASGIApp, router: Router) -> ErrorReplay | None:
        """A replay of `stack`, or None if it holds anything but Lilya's two
        error layers (and their isolation wrappers) around `router`."""
        layers: list[Any] = []
        current: Any = stack
        while current is not router:
            layers.append(current)
            current = getattr(current, "app", None)
            if current is None:
                return None
        kinds = [type(layer) for layer in layers]
        expected = [
            ScopeIsolationMiddleware,
            ServerErrorMiddleware,
            ScopeIsolationMiddleware,
            ScopeIsolationMiddleware,
            ExceptionMiddleware,
            ScopeIsolationMiddleware,
        ]
        if kinds != expected:
            return None
        exceptions = layers[4]
        replayed = _copy_chain(layers, _raise_again)
        return cls(replayed, (exceptions._exception_handlers, exceptions._status_handlers))

    async def raise_again(
        self, scope: Scope, receive: Receive, send: Send, exc: Exception, started: bool, found: DirectRoute
    ) -> None:
        """Hand `exc` to the error layers; `started` says whether the response had begun."""
        token = _replaying.set((exc, started, found))
        try:
            await self.stack(scope, receive, _without_marker(send))
        finally:
            _replaying.reset(token)


_STARTED_MARKER: Message = {"type": "http.response.start", "ravyn.replay": True}
"""Sent up through the error layers when the response had already begun, so
each of them knows it, as it would have seen the real start; never reaches the server."""

_replaying: ContextVar[tuple[Exception, bool, DirectRoute] | None] = ContextVar(
    "ravyn_replaying", default=None
)


async def _raise_again(scope: Scope, receive: Receive, send: Send) -> None:
    """The bottom of the error replay: where the router was, raise the handler's exception."""
    replaying = _replaying.get()
    assert replaying is not None
    exc, started, found = replaying
    scope["route"] = found.route  # the route metadata the isolation layers copy back up
    scope["route_path_template"] = found.path
    if started:
        await send(_STARTED_MARKER)
    raise exc


def _without_marker(send: Send) -> Send:
    async def forward(message: Message) -> None:
        if message is not _STARTED_MARKER:
            await send(message)

    return forward


def _copy_chain(layers: list[Any], bottom: ASGIApp) -> ASGIApp:
    """Shallow copies of `layers` (outermost first), each pointing at the next,
    the last at `bottom`: the app's own layers stay untouched."""
    child: ASGIApp = bottom
    for layer in reversed(layers):
        copy = object.__new__(type(layer))
        copy.__dict__.update(layer.__dict__)
        copy.app = child
        child = copy
    return child


def _monkay_current(app: Ravyn) -> bool:
    """Whether Lilya would skip its settings/instance context for `app`'s request."""
    if app.settings_module is not None:
        return False
    try:
        return _monkay.instance is app
    except Exception:
        return False


def _app_is_plain(app: Ravyn) -> bool:
    """No layer between the app and its routes that the direct path would skip."""
    router = app.router
    return (
        not app.custom_middleware
        and not app.enable_intercept_global_exceptions
        and app.populate_global_context is None
        and not app.root_path
        and type(router) is Router
        and router.settings_module is None
        and not router.before_request
        and not router.after_request
        and not router.is_sub_router
        and router.middleware_stack == router.app
    )


def _route_is_plain(route: Path, endpoint: PathEndpoint) -> bool:
    """A static path whose Lilya `Path` calls our endpoint with nothing in between."""
    return (
        type(route) is Path
        and route._static_path
        and route.path_regex.pattern == route._path_regex_str
        and route.app is endpoint
        and not route._has_exception_handlers
        and not route._has_before
        and not route._has_after
        and not route._is_controller
        and route.methods is not None
    )


def _may_answer(route: Any, path: str) -> bool:
    """Whether an earlier route could take an HTTP request for `path` before
    ours: anything but a plain `Path` that does not match it (or a WebSocket
    route) might."""
    if isinstance(route, WebSocketPath):
        return False
    if type(route) is not Path:
        return True
    probe: Scope = {"type": "http", "path": path, "root_path": "", "method": "GET", "path_params": {}}
    match, _ = route.search(probe)
    return bool(match != Match.NONE)
