"""Tests for ravyn/middleware.py: our CORS middleware answers exactly as Lilya's."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from lilya.middleware.cors import CORSMiddleware as LilyaCORSMiddleware

from ravyn.middleware import CORSMiddleware

ORIGINS = [
    "https://example.com",
    "https://evil.example",
    "http://localhost:3000",
    "https://café.example",
    "null",
]

options_strategy = st.fixed_dictionaries(
    {},
    optional={
        "allow_origins": st.lists(st.sampled_from([*ORIGINS[:3], "*"]), max_size=3),
        "allow_methods": st.lists(st.sampled_from(["GET", "POST", "PUT", "*"]), max_size=3),
        "allow_headers": st.lists(st.sampled_from(["x-token", "content-type", "*"]), max_size=2),
        "allow_credentials": st.booleans(),
        "allow_origin_regex": st.sampled_from([None, r"https://.*\.example", r"http://localhost:\d+"]),
        "allow_private_networks": st.booleans(),
        "expose_headers": st.lists(st.sampled_from(["x-total", "x-page"]), max_size=2),
        "max_age": st.integers(min_value=0, max_value=86400),
    },
)

request_headers_strategy = st.lists(
    st.one_of(
        st.tuples(st.sampled_from([b"origin", b"Origin"]), st.sampled_from([o.encode() for o in ORIGINS])),
        st.tuples(st.just(b"cookie"), st.just(b"session=1")),
        st.tuples(st.just(b"access-control-request-method"), st.sampled_from([b"GET", b"POST", b"DELETE"])),
        st.tuples(
            st.just(b"access-control-request-headers"), st.sampled_from([b"x-token", b"x-other, x-token"])
        ),
        st.tuples(st.just(b"access-control-request-private-network"), st.sampled_from([b"true", b"false"])),
        st.tuples(st.just(b"accept"), st.just(b"*/*")),
    ),
    max_size=5,
)

response_headers_strategy = st.lists(
    st.sampled_from(
        [
            (b"content-type", b"application/json"),
            (b"vary", b"Accept"),
            (b"access-control-allow-origin", b"https://app.example"),
            (b"access-control-expose-headers", b"x-total"),
            (b"x-total", b"3"),
        ]
    ),
    max_size=4,
    unique=True,
)


def inner_app(response_headers: list[tuple[bytes, bytes]], seen: list[Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope["method"], scope["path"]))
        await send({"type": "http.response.start", "status": 200, "headers": list(response_headers)})
        await send({"type": "http.response.body", "body": b"hello"})

    return app


async def drive(middleware: Any, method: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    messages: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        messages.append(message)

    scope = {"type": "http", "method": method, "path": "/x", "headers": list(headers), "query_string": b""}
    await middleware(scope, receive, send)
    start = messages[0]
    names = sorted((key.lower(), value) for key, value in start.get("headers", []))
    return {
        "status": start["status"],
        "headers": names,
        "body": b"".join(m.get("body", b"") for m in messages[1:]),
    }


@settings(max_examples=400, deadline=None)
@given(
    options=options_strategy,
    method=st.sampled_from(["GET", "POST", "OPTIONS", "DELETE"]),
    headers=request_headers_strategy,
    response_headers=response_headers_strategy,
)
def test_answers_exactly_as_lilyas_cors_middleware(
    options: dict[str, Any],
    method: str,
    headers: list[tuple[bytes, bytes]],
    response_headers: list[tuple[bytes, bytes]],
) -> None:
    seen_ours: list[Any] = []
    seen_lilyas: list[Any] = []
    ours = CORSMiddleware(inner_app(response_headers, seen_ours), **options)
    lilyas = LilyaCORSMiddleware(inner_app(response_headers, seen_lilyas), **options)
    assert asyncio.run(drive(ours, method, headers)) == asyncio.run(drive(lilyas, method, headers))
    assert seen_ours == seen_lilyas


def test_the_app_below_gets_the_servers_header_list_not_a_header_object() -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["headers"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    headers = [(b"origin", b"https://example.com")]
    answer = asyncio.run(drive(CORSMiddleware(app, allow_origins=["*"]), "GET", headers))
    assert seen == [headers]
    assert (b"access-control-allow-origin", b"*") in answer["headers"]


def test_an_origin_that_is_not_utf8_is_carried_through_not_a_500() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    middleware = CORSMiddleware(app, allow_origins=["*"], allow_credentials=True)
    answer = asyncio.run(drive(middleware, "GET", [(b"origin", b"\xff\xfe"), (b"cookie", b"a=1")]))
    assert answer["status"] == 200
    assert (b"access-control-allow-origin", b"\xff\xfe") in answer["headers"]
