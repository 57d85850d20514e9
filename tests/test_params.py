"""Tests for ravyn/params.py: where each parameter's value comes from, conversion, and every 4xx."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any, Literal, TypedDict

import pytest

from ravyn import BackgroundTasks, Ravyn, Request, get, post
from ravyn.params import read_signature
from ravyn.testing import record

pytestmark = pytest.mark.anyio


class Plan(enum.Enum):
    FREE = "free"
    PRO = "pro"


@dataclasses.dataclass
class Address:
    city: str
    zip_code: str = ""


class Profile(TypedDict):
    name: str
    age: int


@post("/users/{user_id:int}/notes")
def add_note(
    user_id: int,
    text: str,
    request: Request,
    tasks: BackgroundTasks,
    pinned: bool = False,
    plan: Plan = Plan.FREE,
    colour: Literal["red", "blue"] | None = None,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "text": text,
        "pinned": pinned,
        "plan": plan,
        "colour": colour,
        "tags": tags,
        "path": request.url.path,
        "tasks": type(tasks).__name__,
    }


@get("/search")
def search(q: str, limit: int = 10, ratio: float = 1.0, tag: list[str] | None = None) -> dict[str, Any]:
    return {"q": q, "limit": limit, "ratio": ratio, "tag": tag}


@post("/address")
def save_address(data: Address) -> dict[str, Any]:
    return {"city": data.city, "zip": data.zip_code}


@post("/profile")
def save_profile(payload: Profile) -> dict[str, Any]:
    return dict(payload)


@post("/raw")
def save_raw(data: dict[str, Any]) -> dict[str, Any]:
    return {"keys": sorted(data)}


@post("/echo")
def echo(message: str) -> dict[str, str]:
    return {"message": message}


app = Ravyn(routes=[add_note, search, save_address, save_profile, save_raw, echo], max_body_size=2048)


async def test_path_body_request_and_tasks_are_bound() -> None:
    timeline = await record(app, "POST", "/users/7/notes", json={"text": "hi", "pinned": True, "plan": "pro"})
    assert timeline.status == 201
    assert timeline.json() == {
        "user_id": 7,
        "text": "hi",
        "pinned": True,
        "plan": "pro",
        "colour": None,
        "tags": None,
        "path": "/users/7/notes",
        "tasks": "BackgroundTasks",
    }


async def test_fields_fall_back_to_the_query_string_and_are_converted() -> None:
    timeline = await record(app, "POST", "/users/1/notes?text=from-query&pinned=yes&colour=red&tags=a&tags=b")
    assert timeline.json() | {"path": None} == {
        "user_id": 1,
        "text": "from-query",
        "pinned": True,
        "plan": "free",
        "colour": "red",
        "tags": ["a", "b"],
        "path": None,
        "tasks": "BackgroundTasks",
    }


async def test_get_fields_come_from_the_query() -> None:
    timeline = await record(app, "GET", "/search", params={"q": "tea", "limit": "5", "ratio": "0.5"})
    assert timeline.json() == {"q": "tea", "limit": 5, "ratio": 0.5, "tag": None}


async def test_a_form_body_works_like_json() -> None:
    timeline = await record(app, "POST", "/users/2/notes", data={"text": "form", "tags": ["x", "y"]})
    assert timeline.status == 201
    assert timeline.json()["text"] == "form" and timeline.json()["tags"] == ["x", "y"]


async def test_a_multipart_body_works_too() -> None:
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\nhello\r\n--{boundary}--\r\n'
    ).encode()
    timeline = await record(
        app,
        "POST",
        "/echo",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert (timeline.status, timeline.json()) == (201, {"message": "hello"})


async def test_whole_body_parameters_take_dataclasses_typeddicts_and_dicts() -> None:
    address = await record(app, "POST", "/address", json={"city": "Lisbon"})
    assert address.json() == {"city": "Lisbon", "zip": ""}
    profile = await record(app, "POST", "/profile", json={"name": "Ada", "age": 36})
    assert profile.json() == {"name": "Ada", "age": 36}
    raw = await record(app, "POST", "/raw", json={"b": 1, "a": 2})
    assert raw.json() == {"keys": ["a", "b"]}


async def test_every_field_error_is_reported_at_once() -> None:
    timeline = await record(
        app, "POST", "/users/3/notes", json={"pinned": "maybe", "plan": "gold", "tags": [1]}
    )
    assert timeline.status == 400
    body = timeline.json()
    assert "body.text" in body["detail"]
    errors = {tuple(e["loc"]): e for e in body["errors"]}
    assert errors[("body", "text")]["type"] == "missing"
    assert errors[("body", "pinned")]["type"] == "invalid_type"
    assert "'free', 'pro'" in errors[("body", "plan")]["msg"]
    assert errors[("body", "tags", 0)]["msg"] == "expected a string, got 1"


@pytest.mark.parametrize(
    ("path", "loc", "type_"),
    [
        ("/search", ["query", "q"], "missing"),
        ("/search?q=x&limit=ten", ["query", "limit"], "invalid_type"),
        ("/search?q=x&limit=" + "9" * 5000, ["query", "limit"], "invalid_type"),
        ("/search?q=x&ratio=nan", ["query", "ratio"], "invalid_value"),
        ("/search?q=x&ratio=1e999", ["query", "ratio"], "invalid_value"),
    ],
)
async def test_bad_query_values_get_a_400_naming_the_field(path: str, loc: list[str], type_: str) -> None:
    timeline = await record(app, "GET", path)
    assert timeline.status == 400
    assert timeline.json()["errors"][0]["loc"] == loc
    assert timeline.json()["errors"][0]["type"] == type_


async def test_nested_dataclass_errors_name_the_inner_field() -> None:
    timeline = await record(app, "POST", "/address", json={"city": 5})
    assert timeline.status == 400
    assert timeline.json()["errors"] == [
        {"loc": ["body", "city"], "type": "invalid_type", "msg": "expected a string, got 5"}
    ]
    missing = await record(app, "POST", "/address")
    assert missing.json()["errors"][0]["loc"] == ["body"]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "detail"),
    [
        (b'{"message": ', "application/json", 400, "Malformed JSON body"),
        (b"\xff\xfe", "application/json", 400, "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 413, "larger than the limit"),
        (b"message=hi", "text/plain", 415, "Unsupported content type"),
        (b"message=hi", None, 415, "Unsupported content type"),
        (b"[1, 2]", "application/json", 400, "Invalid request"),
    ],
)
async def test_unreadable_bodies_get_a_clear_4xx(
    content: bytes, content_type: str | None, status: int, detail: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    timeline = await record(app, "POST", "/echo", content=content, headers=headers)
    assert timeline.status == status
    assert detail in timeline.json()["detail"]
    assert timeline.json()["errors"]


async def test_deeply_nested_json_within_the_limit_is_a_400_not_a_500() -> None:
    deep = b"[" * 1000 + b"]" * 1000
    big_app = Ravyn(routes=[echo])
    timeline = await record(
        big_app, "POST", "/echo", content=deep, headers={"content-type": "application/json"}
    )
    assert timeline.status == 400


async def test_a_declared_oversized_body_is_refused_before_reading() -> None:
    timeline = await record(
        app,
        "POST",
        "/echo",
        content=b"{}",
        headers={"content-type": "application/json", "content-length": "999999"},
    )
    assert timeline.status == 413


async def test_invalid_utf8_in_the_query_string_is_a_400() -> None:
    timeline = await record(app, "GET", "/search?q=%ff%fe")
    assert timeline.status == 400
    assert timeline.json()["errors"][0]["loc"] == ["query"]


class Opaque:
    """A type no request value can be converted to."""


def test_unsupported_annotations_fail_at_registration() -> None:
    def handler(thing: Opaque) -> None: ...

    with pytest.raises(TypeError, match="parameter 'thing'"):
        post("/x")(handler)


def test_var_args_fail_at_registration() -> None:
    def handler(*args: int) -> None: ...

    with pytest.raises(TypeError, match=r"\*args"):
        read_signature(handler, path_params=set())


def test_string_annotations_are_resolved() -> None:
    def handler(count: int, name: str = "x") -> None: ...

    handler.__annotations__ = {"count": "int", "name": "str", "return": "None"}
    signature = read_signature(handler, path_params=set())
    assert [p.annotation for p in signature.parameters] == [int, str]


async def _send_in_chunks(target: Ravyn, chunks: list[bytes]) -> tuple[int, Any]:
    """Drive one raw ASGI call whose body arrives in several messages, with no content-length."""
    pending = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/echo",
        "raw_path": b"/echo",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")],
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1),
    }
    await target(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body)


async def test_a_body_streamed_in_several_messages_is_read_whole_and_limited() -> None:
    status, body = await _send_in_chunks(app, [b'{"mess', b'age": "in ', b'parts"}'])
    assert (status, body) == (201, {"message": "in parts"})
    status, body = await _send_in_chunks(app, [b'{"message": "', b"x" * 1500, b"x" * 1500, b'"}'])
    assert status == 413 and "larger than the limit of 2048 bytes" in body["detail"]
