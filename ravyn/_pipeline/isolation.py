"""Scope isolation between two layers of the middleware stack.

The ASGI specification asks a layer to copy the scope before changing it for
the app it calls. Lilya does it for every layer it stacks (its
`ScopeIsolationMiddleware`, on both sides of each layer) and copies back only
the route's metadata, so that response-side middleware (tracing, logging) can
read which route answered. [`Isolated`][ravyn._pipeline.isolation.Isolated]
is the same boundary, once between two layers: a copy on each side would give
two adjacent copies of the same scope, which nobody can tell apart.
"""

from __future__ import annotations

from lilya.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ROUTE_SCOPE_KEYS", "Isolated", "copy_route_metadata", "copy_scope"]

ROUTE_SCOPE_KEYS = ("route", "route_path_template", "handler")
"""The keys copied back up from a layer's scope to its caller's (Lilya's
`lilya._internal._middleware.ROUTE_SCOPE_KEYS`; a test pins them together)."""


def copy_scope(scope: Scope) -> Scope:
    """A copy of `scope` for the next layer, with a request-header list of its
    own (a layer that rewrites headers must not change its caller's)."""
    copied = dict(scope)
    headers = copied.get("headers")
    if headers is not None:
        encoded = getattr(headers, "encoded_multi_items", None)  # a Lilya `Header` a layer put there
        copied["headers"] = list(encoded()) if encoded is not None else list(headers)
    return copied


def copy_route_metadata(source: Scope, target: Scope) -> None:
    """Copy the route's metadata found in `source` into `target`."""
    for key in ROUTE_SCOPE_KEYS:
        if key in source:
            target[key] = source[key]


class Isolated:
    """Calls `app` with its own copy of the scope; copies the route's metadata
    back at the response's first message and when `app` returns or raises."""

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        child = copy_scope(scope)
        synced = False

        async def send_with_route_metadata(message: Message) -> None:
            nonlocal synced
            if not synced:
                copy_route_metadata(child, scope)
                synced = True
            await send(message)

        try:
            await self.app(child, receive, send_with_route_metadata)
        finally:
            copy_route_metadata(child, scope)

    def __repr__(self) -> str:
        return f"Isolated({self.app!r})"
