"""Tests for ravyn/_lilya/requests.py: a body ravyn read is found where Lilya's `Request` looks for it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lilya.requests import Request

from ravyn._lilya.requests import keep_body, mark_stream_consumed, stream_from


async def nothing_more() -> dict[str, Any]:
    raise AssertionError("the body was already read: nothing more may be received")


def test_a_kept_body_is_what_body_and_json_return() -> None:
    scope: dict[str, Any] = {"type": "http", "method": "POST", "headers": []}
    request = Request(scope, nothing_more)
    keep_body(scope, request, b'{"a": 1}')
    assert asyncio.run(request.body()) == b'{"a": 1}'
    assert asyncio.run(request.json()) == {"a": 1}


def test_a_request_built_later_from_the_scope_finds_the_kept_body() -> None:
    scope: dict[str, Any] = {"type": "http", "method": "POST", "headers": []}
    keep_body(scope, None, b"later")
    assert asyncio.run(Request(scope, nothing_more).body()) == b"later"


def test_a_consumed_stream_is_never_received_again() -> None:
    request = Request({"type": "http", "method": "POST", "headers": []}, nothing_more)
    mark_stream_consumed(request)

    async def chunks() -> list[bytes]:
        return [chunk async for chunk in request.stream()]

    with pytest.raises(RuntimeError, match="Stream consumed"):  # Lilya's word for it
        asyncio.run(chunks())


def test_a_stream_starts_from_the_message_ravyn_received() -> None:
    later = [{"type": "http.request", "body": b" world", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return later.pop(0)

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    stream_from(request, {"type": "http.request", "body": b"hello", "more_body": True})

    async def chunks() -> bytes:
        return b"".join([chunk async for chunk in request.stream()])

    assert asyncio.run(chunks()) == b"hello world"
