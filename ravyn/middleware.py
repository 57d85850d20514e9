"""Middleware that ships with Ravyn.

[`CORSMiddleware`][ravyn.middleware.CORSMiddleware] is Lilya's CORS
middleware with the same options and the same answers, made cheap for the
common request: Lilya's parses every request's headers into a `Header` object
and every response's headers into another, which costs a small app more than
its router and handler together. Ours reads the raw header list once and edits
the response's list in place.

Example:
    ```python
    from lilya.middleware import DefineMiddleware

    from ravyn import Ravyn
    from ravyn.middleware import CORSMiddleware

    app = Ravyn(middleware=[DefineMiddleware(CORSMiddleware, allow_origins=["https://example.com"])])
    ```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from lilya.middleware.cors import CORSMiddleware as LilyaCORSMiddleware
from lilya.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CORSMiddleware"]

_ALLOW_ORIGIN = b"access-control-allow-origin"
_EXPOSE = b"access-control-expose-headers"
_VARY = b"vary"


class CORSMiddleware(LilyaCORSMiddleware):
    """Cross-origin resource sharing: `lilya.middleware.cors.CORSMiddleware`,
    whose options, preflight answers and header rules it inherits, with its
    per-request path rewritten on raw headers (a test compares the two on
    generated requests).

    Options: `allow_origins`, `allow_methods`, `allow_headers`,
    `allow_credentials`, `allow_origin_regex`, `allow_private_networks`,
    `expose_headers`, `max_age`, as in Lilya.

    What differs: the app below sees the request's headers as the list the
    server sent (Lilya's replaces it with a `Header` object), and a header that
    is not UTF-8 is carried through instead of raising a `UnicodeDecodeError`.
    """

    keeps_scope_unchanged: ClassVar[bool] = True
    """It neither changes the scope it is given nor calls the app below with
    another: a Ravyn app's stack needs no scope copy around it."""

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Sequence[str] | None = None,
        allow_methods: Sequence[str] | None = None,
        allow_headers: Sequence[str] | None = None,
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        allow_private_networks: bool = False,
        expose_headers: Sequence[str] | None = None,
        max_age: int = 600,
    ) -> None:
        super().__init__(
            app,
            allow_origins=allow_origins,
            allow_methods=allow_methods,
            allow_headers=allow_headers,
            allow_credentials=allow_credentials,
            allow_origin_regex=allow_origin_regex,
            allow_private_networks=allow_private_networks,
            expose_headers=expose_headers,
            max_age=max_age,
        )
        self.raw_simple_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in self.simple_headers.items()
        ]
        """The headers every answer to a cross-origin request gets, as ASGI bytes."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin: bytes | None = None
        has_cookie = preflight = False
        for name, value in scope["headers"]:
            name = name.lower()
            if name == b"origin":
                if origin is None:
                    origin = value
            elif name == b"cookie":
                has_cookie = True
            elif name in (b"access-control-request-method", b"access-control-request-private-network"):
                preflight = True
        if origin is None:
            await self.app(scope, receive, send)
            return
        if preflight and scope["method"] == "OPTIONS":
            await super().__call__(scope, receive, send)  # a preflight: Lilya's own answer
            return
        text = origin.decode("utf-8", errors="surrogateescape")
        explicit = self.validate_origin(text) if not self.allow_all_origins else has_cookie

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                for name, value in self.raw_simple_headers:
                    _set(headers, name, value)
                if explicit:
                    _set(headers, _ALLOW_ORIGIN, origin)
                    _add_vary(headers, b"Origin")
                    if _get(headers, _EXPOSE):
                        _add_vary(headers, b"Access-Control-Expose-Headers")
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _get(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _set(headers: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> None:
    """Replace every `name` header (any case) with one."""
    headers[:] = [(key, old) for key, old in headers if key.lower() != name]
    headers.append((name, value))


def _add_vary(headers: list[tuple[bytes, bytes]], vary: bytes) -> None:
    existing = _get(headers, _VARY)
    _set(headers, _VARY, existing + b", " + vary if existing is not None else vary)
