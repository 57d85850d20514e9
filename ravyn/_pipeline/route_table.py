"""The app's routes compiled once into a table: which of our handlers serves a
request, found the way Lilya's router would find it, at a fraction of the cost.

Lilya's router asks each route in turn (`route.search(scope)`), building a
child scope for every candidate. The table keeps, in the router's order, every
Lilya `Path`: ours (served by the table) and the others (which the table only
recognises, to hand such requests back to Lilya), and every `Include` (which
answers only the paths its own pattern matches). A route of any other kind (a
`Host`, a mounted app, a subclass of `Path` or `Include`) ends the table:
Lilya's router decides for everything from there on.

A request is served from the table only when the first route that matches its
path and method is ours, with nothing of its own between Lilya's `Path` and our
endpoint (no route middleware, permissions, exception handlers or
before/after-request hooks). Everything else, including the 404s, the 405s and
the trailing-slash redirects, goes to Lilya's router, unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lilya.routing import Include, Path, Router
from lilya.routing.websocket import WebSocketPath

from ravyn._lilya.routes import is_static

__all__ = ["Entry", "RouteTable"]


class Entry:
    """One Lilya `Path` of the router, in order: ours (`endpoint` set) or not."""

    __slots__ = ("convertors", "endpoint", "index", "regex", "route")

    def __init__(self, index: int, route: Any, endpoint: Any | None, regex: re.Pattern[str] | None) -> None:
        self.index = index
        self.route = route
        self.endpoint = endpoint
        self.regex = regex
        """None for a path matched as text (a static path), else the route's own pattern."""
        self.convertors = route.param_convertors


class RouteTable:
    """The router's routes, compiled (see the module's docstring).

    Example:
        ```python
        table = RouteTable.compile(app.router, endpoints)
        found = table.match("/items/3", "GET")  # (entry, path_params) or None
        ```
    """

    __slots__ = ("direct", "dynamic", "router_stack", "routes", "static")

    def __init__(self, router: Router) -> None:
        self.routes: list[Any] = list(router.routes)
        """The router's routes when the table was compiled: when they (or the
        router's own middleware, `router_stack`) change, the core compiles again."""
        self.router_stack = router.middleware_stack
        self.direct = (
            type(router) is Router and not router.is_sub_router and router.middleware_stack == router.app
        )
        """Whether the router is Lilya's own, with no middleware or permissions of its
        own: otherwise every request goes through it."""
        self.static: dict[str, list[Entry]] = {}
        self.dynamic: list[Entry] = []

    @classmethod
    def compile(cls, router: Router, endpoints: Mapping[int, Any]) -> RouteTable:
        """The table for `router`'s routes; `endpoints` maps `id(route)` to our
        endpoint for the routes we registered."""
        table = cls(router)
        if not table.direct:
            return table
        for index, route in enumerate(table.routes):
            kind = type(route)
            if kind is WebSocketPath:
                continue  # never answers an HTTP request
            if kind is Include:  # answers the paths its pattern matches, and no other
                table.dynamic.append(Entry(index, route, None, route.path_regex))
                continue
            if kind is not Path:
                break  # a Host, a mounted app, a Path subclass: Lilya's router decides from here
            endpoint = endpoints.get(id(route))
            if endpoint is not None and not _served_directly(route, endpoint):
                endpoint = None  # something of its own stands between the route and us
            entry = Entry(index, route, endpoint, None if is_static(route) else route.path_regex)
            if entry.regex is None:
                table.static.setdefault(route.path, []).append(entry)
            else:
                table.dynamic.append(entry)
        return table

    def match(self, path: str, method: str) -> tuple[Entry, dict[str, Any] | None] | None:
        """Our route for `path` (the path under the app's `root_path`) and
        `method`, with its converted path parameters (None for a static path);
        None when Lilya's router must decide."""
        if not self.direct:
            return None
        found: Entry | None = None
        for entry in self.static.get(path, ()):
            methods = entry.route.methods  # read live: `add_route` may add methods
            if entry.endpoint is None or methods is None or method in methods:
                found = entry
                break
        for entry in self.dynamic:
            if found is not None and entry.index > found.index:
                break
            assert entry.regex is not None
            matched = entry.regex.match(path)
            if matched is None:
                continue
            if entry.endpoint is None:  # a route of Lilya's, or an `Include`, answers it
                return None
            methods = entry.route.methods
            if methods is None or method in methods:
                values = matched.groupdict()
                for key, convertor in entry.convertors.items():
                    values[key] = convertor.transform(values[key])
                return entry, values
        if found is None or found.endpoint is None:
            return None
        return found, None


def _served_directly(route: Path, endpoint: Any) -> bool:
    """Nothing between Lilya's `Path` and our endpoint that its dispatch would run."""
    return (
        route.app is endpoint
        and not route.before_request
        and not route.after_request
        and not route.exception_handlers
        and route.methods is not None
    )
