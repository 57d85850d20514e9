"""The scope and the `receive` of one raw ASGI HTTP request, as a server would
give them, for the tests that drive an app without a server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


def http_scope(
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    root_path: str = "",
) -> dict[str, Any]:
    """An HTTP scope for `method` and `path` (which may carry `?query`): a JSON
    content type and the body's length unless `headers` are given, the path
    under `root_path` when one is."""
    raw_path, _, query = path.partition("?")
    if headers is None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": root_path + raw_path,
        "raw_path": (root_path + raw_path).encode(),
        "query_string": query.encode(),
        "root_path": root_path,
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("test", 80),
        "state": {},
    }


def receive_body(
    body: bytes, *, gone: bool = False, stays: bool = False
) -> Callable[[], Awaitable[dict[str, Any]]]:
    """A `receive` that gives `body` in one message, then `http.disconnect`.

    `gone`: the client left before sending anything (a disconnect at once).
    `stays`: after the body, the client keeps the connection open (the next
    call waits, as a server's `receive` does until the client goes).
    """
    delivered = gone

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        if stays:
            await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    return receive
