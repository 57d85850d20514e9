"""The bottom of a Ravyn app's middleware stack: where Lilya has its
`ExceptionMiddleware` and router, a lean core that serves our handlers straight
from the compiled [`RouteTable`][ravyn._pipeline.route_table.RouteTable].

For a request the table serves, the core builds the route's scope with exactly
the keys Lilya's exception layer, router and `Path` would have put there, calls
our endpoint, and feeds an exception it lets out to the very error layers Lilya
would have used ([`ErrorLayers`][ravyn._lilya.error_layers.ErrorLayers]).
Every other request (a Lilya route, a mount, a websocket, a 404 or 405, a
redirect) goes down Lilya's own exception layer and router, unchanged.
"""

from __future__ import annotations

from typing import Any

from lilya.middleware.exceptions import ExceptionMiddleware
from lilya.routing import Router
from lilya.types import ASGIApp, Receive, Scope, Send

from ravyn._lilya.error_layers import ErrorLayers, exception_handlers
from ravyn._pipeline.isolation import Isolated, copy_scope
from ravyn._pipeline.route_table import RouteTable
from ravyn._pipeline.started import StartedSend
from ravyn.runner.requests import current_request

__all__ = ["Core", "ServerErrors"]


class Core:
    """Serves the app's own routes from the route table; Lilya's exception layer
    and router serve the rest."""

    __slots__ = ("app", "errors", "lilya", "outermost", "router", "table")

    def __init__(self, app: Any, errors: ErrorLayers, *, outermost: bool) -> None:
        self.app = app
        self.router: Router = app.router
        self.errors = errors
        self.outermost = outermost
        """No user middleware above: the core is the top of the stack too, and
        answers what Lilya's `ServerErrorMiddleware` would."""
        bottom: ASGIApp = Isolated(
            ExceptionMiddleware(Isolated(self.router), handlers=exception_handlers(app), debug=app.debug)
        )
        self.lilya = ServerErrors(bottom, errors) if outermost else bottom
        """Lilya's own bottom of the stack, for whatever the table does not serve."""
        self.table = RouteTable.compile(self.router, app.endpoints_by_route())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        router = self.router
        if (
            scope["type"] != "http"
            or router.before_request
            or router.after_request
            or router.settings_module is not None
        ):
            await self.lilya(scope, receive, send)
            return
        table = self.table
        # routes added or removed, or the router's own middleware changed: compile again
        if router.routes != table.routes or router.middleware_stack is not table.router_stack:
            table = self.table = RouteTable.compile(router, self.app.endpoints_by_route())
        path = scope["path"]
        root_path = scope.get("root_path", "")
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :]
        found = table.match(path, scope["method"])
        if found is None:
            await self.lilya(scope, receive, send)
            return
        entry, matched = found
        endpoint = entry.endpoint
        assert endpoint is not None  # the table answers with our routes only
        route = entry.route
        # the route's scope, as Lilya's exception layer, router and Path build it
        inner = copy_scope(scope)
        inner["lilya.exception_handlers"] = self.errors.exception_handlers
        if "router" not in inner:
            inner["router"] = router
        shared = scope.get("path_params")
        if shared is None:
            inner["path_params"] = matched if matched is not None else {}
        else:
            if matched:
                shared.update(matched)  # as Lilya's router does: the dict is the caller's too
            inner["path_params"] = dict(shared)
        inner["route"] = route
        inner["route_path_template"] = route.path
        if router.dependency_overrides:
            inner["dependency_overrides"] = router.dependency_overrides
        inner["handler"] = route.handler
        inner["dependencies"] = [*scope.get("dependencies", ()), route.dependencies]
        # what Lilya's isolation layers copy back up to the caller
        scope["route"] = route
        scope["route_path_template"] = route.path
        request = current_request()
        sender: Send = send
        if request is None:  # not under `serving` (Ravyn.__call__): watch the messages instead
            sender = watched = StartedSend(send)
        else:
            # our handlers note on the request when they start the response (ravyn._pipeline.started)
            request.response_started = False
        try:
            await endpoint(inner, receive, sender)
        except Exception as exc:
            started = watched.started if request is None else request.response_started
            await self._answer(scope, receive, send, exc, started)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, exc: Exception, started: bool
    ) -> None:
        """Feed the exception our endpoint let out to the error layers Lilya would have used."""
        # the exception layer's own scope: the caller's, with the handlers it adds
        outer = copy_scope(scope)
        outer["lilya.exception_handlers"] = self.errors.exception_handlers
        if not self.outermost:
            await self.errors.handle(outer, receive, send, exc, started)
            return
        sender = StartedSend(send)
        sender.started = started
        try:
            await self.errors.handle(outer, receive, sender, exc, started)
        except Exception as unhandled:
            await self.errors.answer_server_error(scope, receive, send, unhandled, sender.started)


class ServerErrors:
    """The top of the stack, where Lilya has its `ServerErrorMiddleware`: an
    exception that comes up this far is answered (500, or the app's handler, or
    the debug page) and raised again for the server, by Lilya's own layer."""

    __slots__ = ("app", "errors")

    def __init__(self, app: Any, errors: ErrorLayers) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sender = StartedSend(send)
        try:
            await self.app(scope, receive, sender)
        except Exception as exc:
            await self.errors.answer_server_error(scope, receive, send, exc, sender.started)
