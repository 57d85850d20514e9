"""A Lilya `Request`'s body, read by ravyn and left where Lilya's own methods find it.

A handler binds its parameters from the body before it runs, then may still
call `request.body()`, `json()` or `form()`. Lilya keeps what it has read in
private attributes of `Request` (`_body`, `_stream_consumed`,
`_stored_receive_message`) and under the scope's `_body` key, where a
`Request` built later from the same scope finds it. These functions set them
as Lilya's own reading would; `tests/_lilya/test_requests.py` pins each.
"""

from __future__ import annotations

from lilya.requests import Request
from lilya.types import Message, Scope

__all__ = ["keep_body", "mark_stream_consumed", "stream_from"]


def keep_body(scope: Scope, request: Request | None, body: bytes) -> None:
    """Leave `body`, read whole, for `request` and any `Request` built later from `scope`."""
    if request is not None:
        request._stream_consumed = True
        request._body = body  # type: ignore[assignment]
    scope["_body"] = body


def mark_stream_consumed(request: Request) -> None:
    """Tell `request` that its body's messages were all received (by ravyn)."""
    request._stream_consumed = True


def stream_from(request: Request, message: Message) -> Request:
    """Make `request.stream()` start from `message`, already received by ravyn."""
    request._stored_receive_message = message
    return request
