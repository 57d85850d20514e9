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

import functools
from collections.abc import Awaitable, Mapping, Sequence
from inspect import isawaitable
from typing import Any, NoReturn, cast

from lilya import responses as lilya_responses
from lilya.background import Task
from lilya.datastructures import Header
from lilya.encoders import json_encode
from lilya.responses import (
    RESPONSE_TRANSFORM_KWARGS,
    FileResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from lilya.serializers import CompactSerializer
from lilya.types import Receive, Scope, Send

from ravyn._json import CompactEncoder
from ravyn._lilya.names import HeaderHelper, json_encode_default
from ravyn._pipeline.started import marking, note_started
from ravyn.runner import METHODS_WITHOUT_TASKS

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]


# `json_encode(content, post_transform_fn=None)` calls the serializer bound when
# Lilya was imported, `CompactSerializer.dumps`, which is `json.dumps` with these
# arguments: building that `JSONEncoder` on every call costs more than encoding
# a small body. One encoder, built once (`ravyn._json`), gives the same text
# (`json_encode_default` still reads the encoders registered at the time of the call).
_COMPACT = (json_encode.__kwdefaults__ or {}).get("json_encode_fn") is CompactSerializer.dumps
_ENCODER = CompactEncoder(default=json_encode_default)


def encode_json(content: Any) -> bytes:
    """`content` encoded as Lilya's `JSONResponse` encodes it when no
    response transform is in effect: `lilya.encoders.json_encode(content,
    post_transform_fn=None)` as UTF-8 bytes (custom encoders apply; the same
    errors for what cannot be encoded).

    Example:
        ```python
        from ravyn.responses import encode_json

        assert encode_json({"name": "Zoë", "tags": [1, None]}) == '{"name":"Zoë","tags":[1,null]}'.encode()
        ```
    """
    if _COMPACT:
        return _ENCODER.encode(content).encode("utf-8")
    encoded = json_encode(content, post_transform_fn=None)
    if isinstance(encoded, bytearray | memoryview):
        return bytes(encoded)
    return encoded if isinstance(encoded, bytes) else encoded.encode("utf-8")


@functools.lru_cache(maxsize=64)
def _content_type_header(content_type: str) -> tuple[bytes, bytes]:
    # the same few content types on every response: encoded once each
    return (b"content-type", content_type.encode("latin-1"))


class _DeferredHeaders(Response):
    """Lilya's headers, built on first read instead of in the constructor.

    Only the plain case is deferred (no headers given, a status with a body, a
    body already encoded): there Lilya's headers are exactly a content length
    and a content type, computed here as two strings. Anything else builds
    Lilya's `Header` at once, as Lilya does.
    """

    # (("content-length", ...),) or (("content-length", ...), ("content-type", ...))
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
            await super().__call__(scope, receive, marking(send))
            return
        # what Lilya's __call__ sends for such a response, without its Header object
        headers = [(b"content-length", deferred[0][1].encode("latin-1"))]
        if len(deferred) > 1:
            headers.append(_content_type_header(deferred[1][1]))
        note_started()
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})
        if self.background is not None and scope.get("method", "").upper() not in METHODS_WITHOUT_TASKS:
            await self.background()


def respond(response: Response, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
    """`await respond(response, scope, receive, send)`: send `response`, noting
    when it starts for the error handling of the app's core (see
    `ravyn._pipeline.started`; our responses note it themselves)."""
    if isinstance(response, _DeferredHeaders):
        return response(scope, receive, send)
    return response(scope, receive, marking(send))


# the statuses whose plain JSON response has a body, a length and a type (see make_headers)
_BODY_STATUSES = frozenset(
    code
    for code in range(200, 600)
    if code not in (204, 304) and not HeaderHelper.has_entity_header_status(code)
)
# what JSONResponse.__init__ sets besides the body and headers; a subclass that
# changes one of these is built by Lilya's own constructor
_JSON_PLAIN = ("make_response", "make_headers", "media_type", "charset", "passthrough_body_types", "headers")


class JSONResponse(_DeferredHeaders, lilya_responses.JSONResponse):
    """Lilya's `JSONResponse` (content encoded with `lilya.encoders.json_encode`),
    its headers built only when read.

    The usual call, `JSONResponse(content, status_code=..., background=...)`,
    sets the attributes Lilya's constructor sets, to the same values, without
    going through it; any other argument (headers, media type, encoders), a
    response transform in effect, awaitable content or a subclass that changes
    how the body or headers are made takes Lilya's constructor.
    """

    _plain_init = True  # this class makes its body and headers as JSONResponse does

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_init = all(getattr(cls, name) is getattr(JSONResponse, name) for name in _JSON_PLAIN)

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Task | None = None,
        encoders: Sequence[Any] | None = None,
        passthrough_body_types: tuple[type, ...] | None = None,
    ) -> None:
        if (
            self._plain_init
            and status_code in _BODY_STATUSES
            and headers is None
            and media_type is None
            and not encoders
            and passthrough_body_types is None
            and (type(content) in (dict, list) or not (content is NoReturn or isawaitable(content)))
            and not RESPONSE_TRANSFORM_KWARGS.get()
        ):
            # `encode_json(content)`, its usual case without the call
            body = _ENCODER.encode(content).encode("utf-8") if _COMPACT else encode_json(content)
            # the attributes lilya.responses.Response.__init__ sets, with its values
            self.status_code = status_code
            self.background = background
            self.cookies = None
            self.deduce_media_type_from_body = False
            self.encoders = []
            self.body = body
            self._deferred = (("content-length", str(len(body))), _JSON_CONTENT_TYPE)
            return
        super().__init__(
            content,
            status_code=status_code,
            headers=headers,
            media_type=media_type,
            background=background,
            encoders=encoders,
            passthrough_body_types=passthrough_body_types,
        )


_JSON_CONTENT_TYPE = (
    "content-type",
    cast(str, HeaderHelper.get_content_type(charset="utf-8", media_type=JSONResponse.media_type)),
)


class HTMLResponse(_DeferredHeaders, lilya_responses.HTMLResponse):
    """Lilya's `HTMLResponse` (`text/html`), its headers built only when read."""


class PlainTextResponse(_DeferredHeaders, lilya_responses.PlainText):
    """A `text/plain` response: Lilya's `PlainText`, its headers built only when read."""
