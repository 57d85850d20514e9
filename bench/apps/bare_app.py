"""A bare ASGI callable doing the realistic scenarios' work by hand, no framework:
the floor a framework's cost is measured against (scenarios R, M and P only).

It does what the frameworks' apps do for those requests: finds the route
(parsing the team's number out of the path), reads the body, validates it with
the same pydantic model, answers JSON (with the CORS headers a CORS middleware
adds for an allowed origin, in R and M), then runs the task after the body is
sent. A preflight or a bad body gets the answer a framework would give, so it
cannot win by skipping the cases the load never sends.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from scenario import ALLOWED_ORIGINS, SCENARIO, record, runs
from signup import Signup

if SCENARIO not in ("R", "M", "P"):
    raise SystemExit(f"the bare ASGI app serves scenarios R, M and P only, not {SCENARIO!r}")

CORS = SCENARIO in ("R", "M")
ALLOWED = {origin.encode() for origin in ALLOWED_ORIGINS}
ALLOWED_METHODS = {b"GET"}  # the CORS middlewares' default allow_methods, which the apps keep
JSON_TYPE = (b"content-type", b"application/json")
Send = Any


def origin_of(scope: dict[str, Any]) -> bytes | None:
    """The request's `Origin` header, if it has one."""
    for name, value in scope["headers"]:
        if name == b"origin":
            return bytes(value)
    return None


def cors_headers(origin: bytes | None) -> list[tuple[bytes, bytes]]:
    """What a CORS middleware adds to a simple request's answer: the origin, if allowed."""
    if CORS and origin is not None and origin in ALLOWED:
        return [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
    return []


async def answer(send: Send, status: int, payload: Any, extra: list[tuple[bytes, bytes]]) -> None:
    """A JSON answer, compact as the frameworks' `JSONResponse` writes it."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = [JSON_TYPE, (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Any) -> bytes:
    """The whole body, however many messages it comes in."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def team_of(path: str, suffix: str) -> int | None:
    """`42` from `/teams/42` + suffix, as an `{team_id:int}` route reads it; None if it is not one."""
    if not (path.startswith("/teams/") and path.endswith(suffix)):
        return None
    digits = path[len("/teams/") : len(path) - len(suffix)]
    return int(digits) if digits.isascii() and digits.isdigit() else None


async def preflight(send: Send, origin: bytes, scope: dict[str, Any]) -> None:
    """A CORS preflight, as the frameworks' middleware answers it with their defaults (GET only)."""
    asked = next((v for n, v in scope["headers"] if n == b"access-control-request-method"), b"")
    headers = [
        (b"access-control-allow-methods", b"GET"),
        (b"access-control-max-age", b"600"),
        (b"access-control-allow-headers", b"Accept, Accept-Language, Content-Language, Content-Type"),
        (b"vary", b"Origin"),
    ]
    if origin in ALLOWED:
        headers.append((b"access-control-allow-origin", origin))
    failures = [
        what for what, ok in (("origin", origin in ALLOWED), ("method", asked in ALLOWED_METHODS)) if not ok
    ]
    status, body = (400, f"Disallowed CORS {', '.join(failures)}".encode()) if failures else (200, b"OK")
    headers += [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Send) -> None:
    """The ASGI entry point: routes of the scenario's app, by hand."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    method, path = scope["method"], scope["path"]
    origin = origin_of(scope) if CORS else None
    preflight_request = method == "OPTIONS" and any(
        name == b"access-control-request-method" for name, _ in scope["headers"]
    )
    if CORS and origin is not None and preflight_request:
        await preflight(send, origin, scope)
        return
    extra = cors_headers(origin)
    if method == "GET" and path == "/count":
        await answer(send, 200, {"count": len(runs)}, extra)
        return
    if SCENARIO == "R" and method == "GET" and path == "/health":
        await answer(send, 200, {"status": "ok"}, extra)
        return
    team = team_of(path, "") if SCENARIO == "R" and method == "GET" else None
    if team is not None:
        await answer(send, 200, {"team": team}, extra)
        return
    signup = method == "POST" and (path == "/register" if SCENARIO == "M" else path.endswith("/signup"))
    team = team_of(path, "/signup") if signup and SCENARIO != "M" else None
    if signup and (SCENARIO == "M" or team is not None):
        try:
            data = Signup.model_validate_json(await read_body(receive))
        except ValidationError as exc:
            await answer(
                send,
                422,
                {"detail": exc.errors(include_url=False, include_input=False, include_context=False)},
                extra,
            )
            return
        payload: dict[str, Any] = {"ok": True} if team is None else {"ok": True, "team": team}
        await answer(send, 201, payload, extra)
        await record(data.name)  # after the body: the client is not waiting for it
        return
    await answer(send, 404, {"detail": "Not Found"}, extra)
