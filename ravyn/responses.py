"""Responses. Every one takes `background=` (a task or a collection of tasks).

`Response`, `RedirectResponse`, `FileResponse` and `StreamingResponse` are
Lilya's classes. `JSONResponse`, `HTMLResponse` and `PlainTextResponse` are
Lilya's too, with one difference nobody sees: their headers object is built
only when someone reads `headers`, and a response whose headers nobody read
or changed is sent straight from its body and status (the same messages Lilya
sends). That makes the guide's style, `return JSONResponse({...},
background=BackgroundTask(...))`, as cheap as returning a dict.

When a Ravyn handler returns a response, its `background` tasks are taken off
the response and run by the app's `TaskRunner` after the last byte of the
body is sent, together with the handler's other tasks (see
`ravyn.routing.RouteHandler.handle`).

Example:
    ```python
    from ravyn import BackgroundTask
    from ravyn.responses import JSONResponse

    def log_export(user_id: int) -> None: ...

    response = JSONResponse(
        {"export": "queued"},
        status_code=202,
        background=BackgroundTask(log_export, 42),
    )
    ```
"""

from __future__ import annotations

from collections.abc import Mapping

from lilya import responses as lilya_responses
from lilya._internal._helpers import HeaderHelper
from lilya.datastructures import Header
from lilya.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from lilya.types import Receive, Scope, Send

from ravyn.runner import SAFE_METHODS

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]


class _DeferredHeaders(Response):
    """Lilya's headers, built on first read instead of in the constructor.

    Only the plain case is deferred (no headers given, a status with a body, a
    body already encoded): there Lilya's headers are exactly a content length
    and a content type, computed here as two strings. Anything else builds
    Lilya's `Header` at once, as Lilya does.
    """

    _deferred: tuple[tuple[str, str], ...] | None = None
    _built: Header | None = None

    def make_headers(self, content_headers: Mapping[str, str] | dict[str, str] | None = None) -> None:
        status_code = self.status_code
        if (
            content_headers is None
            and status_code is not None
            and not self.deduce_media_type_from_body
            and "body" in self.__dict__
            and HeaderHelper.has_body_message(status_code)
            and not HeaderHelper.has_entity_header_status(status_code)
        ):
            content_type = HeaderHelper.get_content_type(charset=self.charset, media_type=self.media_type)
            length = ("content-length", str(len(self.body)))
            self._deferred = (length,) if content_type is None else (length, ("content-type", content_type))
            return
        super().make_headers(content_headers)

    @property
    def headers(self) -> Header:
        """Lilya's `Header` of this response (built now if it was deferred)."""
        if self._built is None:
            self._built = Header(dict(self._deferred or ()))
            self._deferred = None
        return self._built

    @headers.setter
    def headers(self, value: Header) -> None:
        self._built = value
        self._deferred = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        deferred = self._deferred
        if (
            deferred is None
            or scope["type"] != "http"
            or self.cleanup_handler is not None
            or getattr(self, "async_content", None) is not None
        ):
            await super().__call__(scope, receive, send)
            return
        # what Lilya's __call__ sends for such a response, without its Header object
        headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in deferred]
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})
        if self.background is not None and scope.get("method", "").upper() not in SAFE_METHODS:
            await self.background()


class JSONResponse(_DeferredHeaders, lilya_responses.JSONResponse):
    """Lilya's `JSONResponse` (content encoded with `lilya.encoders.json_encode`),
    its headers built only when read."""


class HTMLResponse(_DeferredHeaders, lilya_responses.HTMLResponse):
    """Lilya's `HTMLResponse` (`text/html`), its headers built only when read."""


class PlainTextResponse(_DeferredHeaders, lilya_responses.PlainText):
    """A `text/plain` response: Lilya's `PlainText`, its headers built only when read."""
