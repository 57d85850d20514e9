"""What `Lilya.__call__` does around an HTTP request before its middleware
stack runs, done here without its other branches (the lifespan, its own
one-route shortcut, which a Ravyn app never takes: it always has exception
handlers).

In order, as Lilya: the scope gets the app, the app's `root_path` and its error
handler; the request's `g` is marked active (`lilya.context._G_ACTIVE`, a
private name) and filled by `populate_global_context`; and the settings
system's context is entered for the app unless it is already its current
instance (`lilya.conf._monkay`, private too). A test compares the scope, `g`
and the settings seen under this function and under `Lilya.__call__`.
"""

from __future__ import annotations

from inspect import isawaitable
from typing import Any

from lilya.context import G, g_context
from lilya.types import Receive, Scope, Send

from ravyn._lilya.assumptions import broken
from ravyn._lilya.error_layers import error_handler

try:
    from lilya._internal._connection import Connection
    from lilya.conf import _monkay
    from lilya.context import _G_ACTIVE
except ImportError:  # pragma: no cover - a Lilya without them: apps take Lilya's own __call__
    Connection = _monkay = _G_ACTIVE = None  # type: ignore[assignment,misc]

__all__ = ["available", "call_http"]


def available() -> bool:
    """Whether the private names this module needs are in the installed Lilya
    (reported once when they are not)."""
    if _G_ACTIVE is None or _monkay is None or Connection is None:
        broken("lilya.context._G_ACTIVE, lilya.conf._monkay or lilya's Connection is gone")
        return False
    return True


async def call_http(app: Any, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve an HTTP request through `app.middleware_stack` (built if need be)
    as `Lilya.__call__` would."""
    scope["app"] = app
    if app.root_path:
        scope["root_path"] = app.root_path
    handler = error_handler(app)
    if handler:
        scope["lilya.error_handler"] = handler
    token = g_context.set(_G_ACTIVE)
    try:
        populate = app.populate_global_context
        if populate is not None:
            initial = populate(Connection(scope))
            if isawaitable(initial):
                initial = await initial
            if initial is not None:
                g_context.set(G(initial))
        stack = app.middleware_stack
        if stack is None:
            stack = app.middleware_stack = app.build_middleware_stack()
        try:
            current = app.settings_module is None and _monkay.instance is app
        except Exception:  # the settings system could not tell: enter its context as Lilya does
            current = False
        if current:
            await stack(scope, receive, send)
        else:
            assert _monkay is not None
            with _monkay.with_settings(app.settings), _monkay.with_instance(app):
                await stack(scope, receive, send)
    finally:
        g_context.reset(token)
