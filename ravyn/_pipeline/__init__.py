"""A Ravyn app's middleware stack: the user's middleware composed around a lean core.

Lilya builds an app's stack as its `ServerErrorMiddleware`, the user's
middleware, its `ExceptionMiddleware` and the router, each layer behind two
scope-isolation wrappers. [`compose`][ravyn._pipeline.compose] builds the same
stack with the same semantics, cheaper: Lilya's error layers are kept (fed an
exception only when one comes up), each layer gets its own copy of the scope
once (none for a layer that declares `keeps_scope_unchanged = True`, such as
`ravyn.middleware.CORSMiddleware`), and the router at the bottom is preceded by a compiled route table that
serves our handlers directly, static paths and paths with parameters alike.
`Ravyn.build_middleware_stack` uses it; `Ravyn.direct_dispatch = False` keeps
Lilya's own stack (the reference the differential tests compare against).
"""

from __future__ import annotations

from typing import Any

from lilya.middleware.base import DefineMiddleware
from lilya.middleware.lilya_exception import LilyaExceptionMiddleware
from lilya.types import ASGIApp

from ravyn._lilya.error_layers import ErrorLayers, exception_handlers
from ravyn._pipeline.core import Core, ServerErrors
from ravyn._pipeline.isolation import Isolated

__all__ = ["compose"]


def compose(app: Any) -> ASGIApp | None:
    """`app`'s middleware stack, or None if Lilya's error layers cannot be
    reproduced (then the app keeps Lilya's own stack; reported once)."""
    errors = ErrorLayers.for_app(app)
    if errors is None:
        return None
    middleware: list[DefineMiddleware[Any]] = list(app.custom_middleware)
    if app.enable_intercept_global_exceptions:
        middleware.insert(0, DefineMiddleware(LilyaExceptionMiddleware, handlers=exception_handlers(app)))
    if not middleware:
        return Core(app, errors, outermost=True)
    stack: ASGIApp = Core(app, errors, outermost=False)
    for cls, args, options in reversed(middleware):
        layer = cls(stack, *args, **options)
        # a boundary keeps the layer's scope changes from its callers: one that makes none needs none
        stack = layer if getattr(cls, "keeps_scope_unchanged", False) else Isolated(layer)
    return ServerErrors(stack, errors)
