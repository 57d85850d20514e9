"""A request's body read whole, within its size limit, straight from the ASGI messages."""

from __future__ import annotations

from collections.abc import Iterable

from lilya.requests import Request
from lilya.types import Receive, Scope

from ravyn._lilya.names import ClientDisconnect
from ravyn._lilya.requests import keep_body, mark_stream_consumed, stream_from
from ravyn.exceptions import FieldError, RequestError

__all__ = ["body_headers", "read_body", "request_with_body", "too_large"]


def body_headers(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str, str | None]:
    """The content type ("" when absent) and the declared content length of a request.

    Read straight from the ASGI headers, the first of each name winning as in
    `request.headers.get`: building Lilya's `Header` costs more than the rest
    of reading a small JSON body.
    """
    content_type: str | None = None
    length: str | None = None
    for key, value in headers:
        name = key.lower()
        if name == b"content-type":
            if content_type is None:
                content_type = value.decode("latin-1")
        elif name == b"content-length" and length is None:
            length = value.decode("latin-1")
    return content_type or "", length


async def read_body(
    scope: Scope, receive: Receive, request: Request | None, limit: int, declared: str | None
) -> bytes:
    """The whole body of a request, or a 413 once it is (or is declared) over `limit` bytes.

    `ClientDisconnect` when the client leaves before sending it all. The body
    is left where Lilya's `Request` finds it, so the handler can read it again.
    """
    if declared is not None and declared.isdigit() and len(declared) < 20 and int(declared) > limit:
        raise too_large(limit)
    # a Request not yet read receives straight from `receive` (it stores no message before)
    message = await (receive() if request is None else request.receive())
    if message["type"] == "http.disconnect":
        raise ClientDisconnect()
    if message["type"] == "http.request" and not message.get("more_body", False):
        # the usual small body, in one message: no async generator needed
        body: bytes = message.get("body", b"")
        if len(body) > limit:
            raise too_large(limit)
        if request is not None:
            mark_stream_consumed(request)
    else:
        streaming = stream_from(Request(scope, receive) if request is None else request, message)
        chunks: list[bytes] = []
        size = 0
        async for chunk in streaming.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
        body = b"".join(chunks)
    # let request.body()/json()/form() work again inside the handler (a Request
    # built later from this scope finds the body there)
    keep_body(scope, request, body)
    return body


def request_with_body(scope: Scope, receive: Receive, body: bytes) -> Request:
    """A Request whose body, already read, is `body` (as `_read_body` leaves one)."""
    request = Request(scope, receive)
    keep_body({}, request, body)  # the scope already holds it, from read_body
    return request


def too_large(limit: int) -> RequestError:
    """The 413 for a body over `limit` bytes."""
    return RequestError(
        413,
        f"Request body is larger than the limit of {limit} bytes",
        [FieldError(["body"], "too_large", f"at most {limit} bytes are accepted")],
    )
