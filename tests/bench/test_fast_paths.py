"""The request path's fast paths (added for the benchmarks) change nothing a client sees.

* a handler's dict or list is sent without building Lilya's `JSONResponse`:
  the body and headers must be those `JSONResponse` would send;
* a body that arrives in one message is read without `request.stream()`, and
  the headers it needs are read from the ASGI scope: bodies in several
  messages, limits, mixed-case and repeated headers behave as before.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from typing import Any

import pytest
from lilya.responses import JSONResponse

from ravyn import BackgroundTasks, Ravyn, Request, post
from ravyn.testing import record

pytestmark = pytest.mark.anyio


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


PAYLOADS: list[Any] = [
    {"ok": True},
    {},
    [],
    [1, 2.5, None, "x"],
    {"name": "Zoë ✓", "nested": {"list": [1, {"deep": [True, False]}]}},
    {"when": datetime.datetime(2024, 5, 1, 12, 30), "day": datetime.date(2024, 5, 1)},
    {"colour": Colour.RED, "point": Point(1, 2), "id": uuid.UUID(int=7)},
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
@pytest.mark.parametrize("status", [200, 201, 202, 418])
async def test_a_returned_dict_or_list_is_sent_as_lilya_would(payload: Any, status: int) -> None:
    @post("/echo", status_code=status)
    async def echo() -> Any:
        return payload

    timeline = await record(Ravyn(routes=[echo]), "POST", "/echo")
    expected = JSONResponse(payload, status_code=status)
    assert timeline.status == status
    assert timeline.body == expected.body
    assert sorted(timeline.headers) == sorted((k.decode(), v.decode()) for k, v in expected.encoded_headers)


async def test_a_value_lilya_cannot_encode_is_still_a_500() -> None:
    @post("/odd")
    async def odd() -> dict[str, Any]:
        return {"what": object()}

    timeline = await record(Ravyn(routes=[odd]), "POST", "/odd", raise_app_exceptions=False)
    assert (timeline.status, timeline.json()) == (500, {"detail": "Internal Server Error"})


async def test_no_content_statuses_still_have_no_body() -> None:
    @post("/gone", status_code=204)
    async def gone() -> dict[str, bool]:
        return {"ok": True}

    timeline = await record(Ravyn(routes=[gone]), "POST", "/gone")
    assert (timeline.status, timeline.body) == (204, b"")
    assert "content-type" not in dict(timeline.headers)


async def test_lilya_transform_kwargs_still_apply() -> None:
    @post("/sparse")
    async def sparse() -> dict[str, Any]:
        return {"kept": 1, "dropped": None}

    with JSONResponse.with_transform_kwargs({"exclude_none": True}):
        timeline = await record(Ravyn(routes=[sparse]), "POST", "/sparse")
    assert timeline.json() == {"kept": 1}


@post("/sign-up")
async def sign_up(name: str, request: Request, tasks: BackgroundTasks) -> dict[str, Any]:
    return {"name": name, "body": (await request.body()).decode(), "json": await request.json()}


async def call(app: Ravyn, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, bytes]:
    """One raw ASGI call whose body arrives in `chunks`, one message each."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/sign-up",
        "raw_path": b"/sign-up",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def test_a_body_in_several_messages_is_read_whole_and_readable_again() -> None:
    status, body = await call(
        Ravyn(routes=[sign_up]), [(b"content-type", b"application/json")], [b'{"name": ', b'"ada"', b"}"]
    )
    assert status == 201
    assert body == b'{"name":"ada","body":"{\\"name\\": \\"ada\\"}","json":{"name":"ada"}}'


async def test_a_body_over_the_limit_in_several_messages_gets_a_413() -> None:
    app = Ravyn(routes=[sign_up], max_body_size=8)
    status, _ = await call(app, [(b"content-type", b"application/json")], [b'{"name": ', b'"ada"}'])
    assert status == 413
    status, _ = await call(app, [(b"content-type", b"application/json")], [b'{"name": "ada"}'])
    assert status == 413
    status, _ = await call(app, [(b"content-type", b"application/json"), (b"content-length", b"99")], [b"{}"])
    assert status == 413


async def test_header_names_in_any_case_and_the_first_of_a_repeated_one() -> None:
    app = Ravyn(routes=[sign_up])
    status, _ = await call(app, [(b"Content-Type", b"application/json")], [b'{"name": "ada"}'])
    assert status == 201
    status, _ = await call(
        app, [(b"content-type", b"text/plain"), (b"content-type", b"application/json")], [b'{"name": "ada"}']
    )
    assert status == 415
