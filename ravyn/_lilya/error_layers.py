"""Lilya's two error layers, fed an exception our own pipeline caught.

Lilya wraps every app in a `ServerErrorMiddleware` (outermost: the 500 page,
`debug`, the re-raise to the server) and an `ExceptionMiddleware` (innermost,
under the user's middleware: the app's exception and status handlers). Our
pipeline keeps their behaviour exactly by building the very same classes with
their public constructors, around an app that raises again what the pipeline
caught: they then answer, or re-raise, as if the exception had come up
through them. On the happy path they cost nothing.

Private parts used: `ExceptionMiddleware._exception_handlers` and
`._status_handlers`, which Lilya also puts in each request's scope under
`lilya.exception_handlers` for the routes below it.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from lilya.middleware.exceptions import ExceptionMiddleware
from lilya.middleware.server_error import ServerErrorMiddleware
from lilya.types import Message, Receive, Scope, Send

from ravyn._lilya.assumptions import broken

__all__ = ["ErrorLayers", "error_handler", "exception_handlers"]


def error_handler(app: Any) -> Any:
    """The handler Lilya gives its `ServerErrorMiddleware` (`Lilya._get_error_handler`)."""
    handlers = app.exception_handlers
    return handlers.get(500) or handlers.get(Exception)


def exception_handlers(app: Any) -> dict[Any, Any]:
    """The handlers Lilya gives its `ExceptionMiddleware` (`Lilya._get_exception_handlers`)."""
    return {key: value for key, value in app.exception_handlers.items() if key not in (500, Exception)}


_replaying: ContextVar[tuple[BaseException, bool] | None] = ContextVar("ravyn_error_replay", default=None)

_STARTED: Message = {"type": "http.response.start", "ravyn.replay": True}
"""Sent up through a replayed layer when the response had already begun, so the
layer knows it as it would have from the real start; never reaches the server."""


async def _raise_again(scope: Scope, receive: Receive, send: Send) -> None:
    """Where the layer's app was: raise the exception being replayed."""
    replaying = _replaying.get()
    assert replaying is not None
    exc, started = replaying
    if started:
        await send(_STARTED)
    raise exc


class ErrorLayers:
    """One app's `ServerErrorMiddleware` and `ExceptionMiddleware`, as Lilya
    would build them at its first request, ready to be fed an exception."""

    __slots__ = ("exception_handlers", "exceptions", "server_errors")

    def __init__(self, app: Any) -> None:
        self.server_errors = ServerErrorMiddleware(_raise_again, handler=error_handler(app), debug=app.debug)
        self.exceptions = ExceptionMiddleware(_raise_again, handlers=exception_handlers(app), debug=app.debug)
        self.exception_handlers: tuple[Any, Any] = (
            self.exceptions._exception_handlers,
            self.exceptions._status_handlers,
        )

    @classmethod
    def for_app(cls, app: Any) -> ErrorLayers | None:
        """The layers for `app`, or None (reported once) if Lilya's layers no
        longer look as this module expects."""
        try:
            return cls(app)
        except (AttributeError, TypeError) as exc:
            broken(f"Lilya's error middleware changed ({type(exc).__name__}: {exc})")
            return None

    async def handle(
        self, scope: Scope, receive: Receive, send: Send, exc: BaseException, started: bool
    ) -> None:
        """Feed `exc` to the `ExceptionMiddleware`: it answers with the app's
        handler for it, or raises it again."""
        await self._replay(self.exceptions, scope, receive, send, exc, started)

    async def answer_server_error(
        self, scope: Scope, receive: Receive, send: Send, exc: BaseException, started: bool
    ) -> None:
        """Feed `exc` to the `ServerErrorMiddleware`: it answers 500 (unless the
        response had begun) and raises it again, for the server to log."""
        await self._replay(self.server_errors, scope, receive, send, exc, started)

    @staticmethod
    async def _replay(
        layer: Any, scope: Scope, receive: Receive, send: Send, exc: BaseException, started: bool
    ) -> None:
        async def forward(message: Message) -> None:
            if message is not _STARTED:
                await send(message)

        token = _replaying.set((exc, started))
        try:
            await layer(scope, receive, forward)
        finally:
            _replaying.reset(token)
