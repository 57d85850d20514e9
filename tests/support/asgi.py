"""The scope of one raw ASGI HTTP request, as a server would build it, for the
tests that drive an app without a server."""

from __future__ import annotations

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
