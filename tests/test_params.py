"""Tests for ravyn/params.py: where each parameter's value comes from, conversion, and every 4xx."""

from __future__ import annotations

import asyncio
import dataclasses
import decimal
import enum
import json
import logging
import math
import sys
import time
from typing import Annotated, Any, Literal, Optional, TypedDict
from unittest.mock import ANY

import anyio
import anyio.lowlevel
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from ravyn import BackgroundTasks, Depends, Ravyn, Request, get, post
from ravyn._binding.forms import group
from ravyn._binding.json_body import ONE_PASS_LIMIT
from ravyn.exceptions import RequestError
from ravyn.params import MAX_FIELDS, read_signature
from ravyn.testing import record

pytestmark = pytest.mark.anyio

ANY_STRING = ANY


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
    assert errors[("body", "pinned")]["type"] == "bool_parsing"
    assert errors[("body", "plan")]["type"] == "enum"
    assert "'free'" in errors[("body", "plan")]["msg"] and "'pro'" in errors[("body", "plan")]["msg"]
    assert errors[("body", "tags", 0)] == {
        "loc": ["body", "tags", 0],
        "type": "string_type",
        "msg": "Input should be a valid string",
    }


@pytest.mark.parametrize(
    ("path", "loc", "type_"),
    [
        ("/search", ["query", "q"], "missing"),
        ("/search?q=x&limit=ten", ["query", "limit"], "int_parsing"),
        ("/search?q=x&limit=" + "9" * 5000, ["query", "limit"], "int_parsing_size"),
        ("/search?q=x&ratio=nan", ["query", "ratio"], "finite_number"),
        ("/search?q=x&ratio=1e999", ["query", "ratio"], "finite_number"),
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
        {"loc": ["body", "city"], "type": "string_type", "msg": "Input should be a valid string"}
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


async def _post_messages(target: Ravyn, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drive one raw ASGI `POST /echo` (JSON, no content-length) whose body arrives
    as `messages`; return what the app sent."""
    pending = list(messages)
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
    return sent


async def _send_in_chunks(target: Ravyn, chunks: list[bytes]) -> tuple[int, Any]:
    """The status and JSON answer to a body sent in several messages."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    sent = await _post_messages(target, messages)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body)


async def test_a_body_streamed_in_several_messages_is_read_whole_and_limited() -> None:
    status, body = await _send_in_chunks(app, [b'{"mess', b'age": "in ', b'parts"}'])
    assert (status, body) == (201, {"message": "in parts"})
    status, body = await _send_in_chunks(app, [b'{"message": "', b"x" * 1500, b"x" * 1500, b'"}'])
    assert status == 413 and "larger than the limit of 2048 bytes" in body["detail"]


# --- pydantic models as bodies -------------------------------------------------------------


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)


class Order(BaseModel):
    customer: str
    items: list[Item]


class Customer(BaseModel):
    email: str


@post("/orders")
def create_order(order: Order, tasks: BackgroundTasks, rush: bool = False) -> dict[str, Any]:
    return {"customer": order.customer, "total": sum(i.price for i in order.items), "rush": rush}


@post("/bulk")
def create_items(items: list[Item]) -> dict[str, Any]:
    return {"names": [item.name for item in items]}


@post("/checkout")
def checkout(order: Order, customer: Customer, note: str = "") -> dict[str, Any]:
    return {"customer": customer.email, "items": len(order.items), "note": note}


@get("/pages")
def pages(page: Annotated[int, Field(ge=1)] = 1, size: Literal[10, 50] = 10, q: str | None = None) -> Any:
    return {"page": page, "size": size, "q": q}


models_app = Ravyn(routes=[create_order, create_items, checkout, pages])


async def test_a_model_parameter_of_any_name_receives_the_whole_validated_body() -> None:
    body = {"customer": "ada", "items": [{"name": "tea", "price": 2.5}, {"name": "cake", "price": 4}]}
    timeline = await record(models_app, "POST", "/orders", json={**body, "rush": True})
    assert (timeline.status, timeline.json()) == (201, {"customer": "ada", "total": 6.5, "rush": True})
    listed = await record(models_app, "POST", "/bulk", json=[{"name": "a", "price": 1}])
    assert listed.json() == {"names": ["a"]}


async def test_nested_model_errors_carry_pydantics_loc_type_and_msg() -> None:
    timeline = await record(models_app, "POST", "/orders", json={"customer": "ada", "items": [{"name": "x"}]})
    assert timeline.status == 400
    assert timeline.json()["errors"] == [
        {"loc": ["body", "items", 0, "price"], "type": "missing", "msg": "Field required"}
    ]
    negative = await record(
        models_app, "POST", "/orders", json={"customer": "ada", "items": [{"name": "x", "price": -1}]}
    )
    assert negative.json()["errors"][0]["loc"] == ["body", "items", 0, "price"]
    assert negative.json()["errors"][0]["type"] == "greater_than"


async def test_several_models_each_read_the_key_of_their_own_name() -> None:
    body = {"order": {"customer": "ada", "items": []}, "customer": {"email": "a@x"}, "note": "hi"}
    timeline = await record(models_app, "POST", "/checkout", json=body)
    assert timeline.json() == {"customer": "a@x", "items": 0, "note": "hi"}
    missing = await record(models_app, "POST", "/checkout", json={"order": {"customer": "a", "items": []}})
    assert missing.status == 400
    assert missing.json()["errors"] == [
        {"loc": ["body", "customer"], "type": "missing", "msg": "Field required"}
    ]


@pytest.mark.parametrize(
    ("query", "status", "body_or_type"),
    [
        ("", 200, {"page": 1, "size": 10, "q": None}),
        ("?page=3&size=50&q=x", 200, {"page": 3, "size": 50, "q": "x"}),
        ("?page=0", 400, "greater_than_equal"),
        ("?size=20", 400, "literal_error"),
    ],
)
async def test_constraints_literals_and_optionals_apply_to_query_values(
    query: str, status: int, body_or_type: Any
) -> None:
    timeline = await record(models_app, "GET", "/pages" + query)
    assert timeline.status == status
    if status == 200:
        assert timeline.json() == body_or_type
    else:
        assert timeline.json()["errors"][0]["type"] == body_or_type


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


@post("/levels")
def set_level(level: Level) -> dict[str, str]:
    return {"level": level.name}


@get("/levels")
def get_level(level: Level) -> dict[str, str]:
    return {"level": level.name}


@pytest.mark.parametrize(("value", "status"), [(1, 201), (2, 201), (True, 400), (1.0, 400), (3, 400)])
async def test_a_number_enum_takes_its_numbers_but_not_true_or_floats(value: Any, status: int) -> None:
    timeline = await record(Ravyn(routes=[set_level]), "POST", "/levels", json={"level": value})
    assert timeline.status == status, timeline.json()
    if status == 400:
        assert timeline.json()["errors"][0]["loc"] == ["body", "level"]


async def test_a_number_enum_is_read_from_query_text() -> None:
    timeline = await record(Ravyn(routes=[get_level]), "GET", "/levels?level=2")
    assert timeline.json() == {"level": "HIGH"}


@dataclasses.dataclass
class TreeNode:
    label: str
    children: list[TreeNode] = dataclasses.field(default_factory=list)


async def test_a_self_referential_dataclass_registers_and_validates() -> None:
    @post("/trees")
    def plant(tree: TreeNode) -> dict[str, int]:
        def count(node: TreeNode) -> int:
            return 1 + sum(count(child) for child in node.children)

        return {"nodes": count(tree)}

    app_ = Ravyn(routes=[plant])
    timeline = await record(app_, "POST", "/trees", json={"label": "a", "children": [{"label": "b"}]})
    assert timeline.json() == {"nodes": 2}
    bad = await record(app_, "POST", "/trees", json={"label": "a", "children": [{"children": []}]})
    assert bad.json()["errors"][0]["loc"] == ["body", "children", 0, "label"]


# --- client input that used to give a 500 (issue 13) ---------------------------------------


@get("/numbers/{n:int}")
def read_number(n: int) -> dict[str, int]:
    return {"n": n}


hostile_app = Ravyn(routes=[echo, search, read_number, save_address])


async def test_a_json_integer_over_the_digit_limit_is_a_400() -> None:
    content = b'{"message": "x", "n": ' + b"9" * 5000 + b"}"
    timeline = await record(
        hostile_app, "POST", "/echo", content=content, headers={"content-type": "application/json"}
    )
    assert timeline.status == 400
    assert timeline.json()["errors"][0]["type"] == "int_too_long"
    assert "4300 digits" in timeline.json()["errors"][0]["msg"]


async def test_a_lone_surrogate_in_json_is_refused_naming_the_field() -> None:
    content = b'{"message": "a\\ud800b"}'
    timeline = await record(
        hostile_app, "POST", "/echo", content=content, headers={"content-type": "application/json"}
    )
    assert timeline.status == 400
    assert timeline.json()["errors"] == [
        {"loc": ["body", "message"], "type": "string_surrogate", "msg": ANY_STRING}
    ]
    paired = await record(
        hostile_app,
        "POST",
        "/echo",
        content=b'{"message": "\\ud83d\\ude00"}',
        headers={"content-type": "application/json"},
    )
    assert (paired.status, paired.json()) == (201, {"message": "\N{GRINNING FACE}"})


@pytest.mark.parametrize(
    ("method", "target", "content", "loc"),
    [
        ("GET", "/search?q=%ED%A0%80", None, ["query", "q"]),
        ("POST", "/echo", b"message=%ED%A0%80", ["body", "message"]),
    ],
)
async def test_a_lone_surrogate_in_form_or_query_is_refused_naming_the_field(
    method: str, target: str, content: bytes | None, loc: list[str]
) -> None:
    headers = {"content-type": "application/x-www-form-urlencoded"} if content else {}
    timeline = await record(hostile_app, method, target, content=content, headers=headers)
    assert timeline.status == 400
    assert timeline.json()["errors"][0]["loc"] == loc
    assert timeline.json()["errors"][0]["type"] == "string_surrogate"


async def test_a_path_integer_of_thousands_of_digits_is_a_400_naming_it() -> None:
    timeline = await record(hostile_app, "GET", "/numbers/" + "9" * 5000)
    assert timeline.status == 400
    assert timeline.json()["errors"][0]["loc"] == ["path", "n"]
    assert (await record(hostile_app, "GET", "/numbers/12")).json() == {"n": 12}


@pytest.mark.parametrize(
    "part",
    [
        b'Content-Disposition: form-data; name="message"\r\nbad header line\r\n\r\nhi',
        b'Content-Disposition: form-data; name="message"\r\n\r\n\xed\xa0\x80',
        b"Content-Disposition: form-data\r\n\r\nno name",
    ],
)
async def test_a_malformed_multipart_part_is_a_400(part: bytes) -> None:
    body = b"--zz\r\n" + part + b"\r\n--zz--\r\n"
    headers = {"content-type": "multipart/form-data; boundary=zz"}
    timeline = await record(hostile_app, "POST", "/echo", content=body, headers=headers)
    assert timeline.status == 400, timeline.body
    assert timeline.json()["errors"][0]["loc"][0] == "body"


@pytest.mark.parametrize(
    ("method", "target", "content"),
    [
        ("GET", "/search?" + "q=&" * (MAX_FIELDS + 1), None),
        ("POST", "/echo", ("x=&" * 100_000).encode()),
    ],
)
async def test_more_fields_than_the_limit_is_a_413_naming_it(method: str, target: str, content: Any) -> None:
    headers = {"content-type": "application/x-www-form-urlencoded"} if content else {}
    big_app = Ravyn(routes=[echo, search], max_body_size=10 * 1024 * 1024)
    timeline = await record(big_app, method, target, content=content, headers=headers)
    assert timeline.status == 413
    assert timeline.json()["errors"][0]["type"] == "too_many_fields"
    assert str(MAX_FIELDS) in timeline.json()["detail"]


def test_grouping_repeated_keys_is_linear() -> None:
    """100 000 values of one key: the old merge copied the list per key (~4.5 s); one pass takes ms."""
    pairs = [("x", "")] * 100_000
    started = time.perf_counter()
    grouped = group(pairs)
    assert len(grouped["x"]) == 100_000
    assert time.perf_counter() - started < 1.0  # generous: the quadratic merge took seconds


async def test_repeated_form_keys_up_to_the_limit_are_all_kept_in_order() -> None:
    @post("/tags")
    def tag(tags: list[str]) -> dict[str, int]:
        return {"count": len(tags), "last": int(tags[-1])}

    content = "&".join(f"tags={i}" for i in range(MAX_FIELDS)).encode()
    headers = {"content-type": "application/x-www-form-urlencoded"}
    timeline = await record(Ravyn(routes=[tag]), "POST", "/tags", content=content, headers=headers)
    assert timeline.json() == {"count": MAX_FIELDS, "last": MAX_FIELDS - 1}


async def test_a_client_that_leaves_mid_body_logs_no_error(caplog: pytest.LogCaptureFixture) -> None:
    messages = [
        {"type": "http.request", "body": b'{"message": "', "more_body": True},
        {"type": "http.disconnect"},
    ]
    with caplog.at_level(logging.DEBUG):
        sent = await _post_messages(app, messages)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert not any(r.exc_info for r in caplog.records)
    assert sent[0]["status"] == 400  # to nobody: the server drops it


# --- fields validated in one pass over a JSON body ------------------------------------------


def _simple_fields(
    s: str,
    i: int,
    f: float,
    b: bool,
    request: Request,
    tasks: BackgroundTasks,
    o: int | None = None,
    d: str = "default",
    of: float | None = 0.5,
) -> None: ...


FIELD_NAMES = ["s", "i", "f", "b", "o", "d", "of"]
_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**15, max_value=10**40)
    | st.floats()
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=6)
    | st.sampled_from(
        ["1", " 1 ", "1_000", "0x10", "1e3", "1.0", "-0", "inf", "nan", "true", "off", "yes", "", "é"]
    )
)
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
)


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    """JSON text (often an object with the handler's keys, sometimes repeated) and
    variations of it that the json module or pydantic may read differently."""
    pairs = draw(
        st.lists(st.tuples(st.sampled_from(FIELD_NAMES) | st.text(max_size=3), _JSON_VALUES), max_size=8)
    )
    ascii_only = draw(st.booleans())
    if draw(st.integers(0, 9)) == 0:
        text = json.dumps(draw(_JSON_VALUES), ensure_ascii=ascii_only)  # not an object
    else:
        members = [
            f"{json.dumps(key, ensure_ascii=ascii_only)}: {json.dumps(value, ensure_ascii=ascii_only)}"
            for key, value in pairs
        ]
        text = "{" + ", ".join(members) + "}"
    raw = text.encode("utf-8", "surrogatepass")
    mutation = draw(st.integers(0, 11))
    if mutation == 1 and raw:  # one byte replaced by something JSON forbids or treats specially
        at = draw(st.integers(0, len(raw) - 1))
        swap = draw(
            st.sampled_from([b"\t", b"\n", b"\x00", b"\xff", b"\\", b'"', b",", b"}", b" ", b"\x0c", b"\xa0"])
        )
        raw = raw[:at] + swap + raw[at + 1 :]
    elif mutation == 2:
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif mutation == 3:
        raw = draw(st.sampled_from([b"\xef\xbb\xbf", b" ", b"\r\n", b"\x0c"])) + raw
    elif mutation == 4:
        raw += draw(st.sampled_from([b" ", b"\n", b" x", b",", b"{}", b"\x00"]))
    elif mutation == 5:
        raw = raw.replace(b'"s": "', b'"s": "\\ud800', 1).replace(b'"d": "', b'"d": "\\udc00x', 1)
    elif mutation == 6:
        raw = raw.replace(b'"i": ', b'"i": ' + b"7" * draw(st.sampled_from([639, 640, 4301, 4302])), 1)
    return raw


def _outcome_of(signature: Any, raw: bytes, query: bytes) -> Any:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": query,
        "headers": [(b"content-type", b"application/json")],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def run() -> Any:
        try:
            inputs = await signature.read(scope, receive, None, max_body_size=1 << 20)
            values = await signature.bind("the request", inputs, "the tasks")
        except RequestError as exc:
            return ("refused", exc.status_code, exc.detail, exc.errors)
        return ("bound", {key: (type(value), repr(value)) for key, value in values.items()})

    return asyncio.run(run())


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=json_bodies(), query=st.sampled_from([b"", b"d=from-query", b"i=5&i=6", b"o=x", b"s=q&b=no"]))
@example(raw=b'{"s": "a", "i": 1, "f": 1.5, "b": true}', query=b"")
@example(raw=b'{"s": "a", "s": "b", "i": 1, "f": 1, "b": "on"}', query=b"d=q")
@example(raw=b'{"s": "a\\ud800", "i": 1, "f": 1, "b": 1}', query=b"")
@example(raw=b'{"s": "a", "i": ' + b"9" * 5000 + b', "f": 1, "b": 1}', query=b"")
@example(raw=b'{"s": "a\tb", "i": 1, "f": 1, "b": 1}', query=b"")
@example(raw=b'{"i": 1, "f": NaN, "b": 1}', query=b"s=q")
def test_one_pass_over_a_json_body_binds_what_the_field_by_field_reading_binds(
    raw: bytes, query: bytes
) -> None:
    fast = read_signature(_simple_fields, path_params=set())
    slow = read_signature(_simple_fields, path_params=set())
    slow.json_fields = None
    assert fast.json_fields is not None
    assert _outcome_of(fast, raw, query) == _outcome_of(slow, raw, query)


@pytest.mark.parametrize(
    ("annotation", "one_pass"),
    [
        (str, True),
        (int | None, True),
        (Optional[bool], True),  # noqa: UP045 - the typing spelling reads the same
        (Plan, False),
        (list[str], False),
        (int | str, False),
        (Annotated[int, Field(ge=1)], False),
        (Literal["a", "b"], False),
    ],
)
def test_only_fields_of_types_read_alike_from_text_take_the_one_pass(annotation: Any, one_pass: bool) -> None:
    def handler(x: Any) -> None: ...

    handler.__annotations__ = {"x": annotation}
    assert (read_signature(handler, path_params=set()).json_fields is not None) is one_pass


def test_models_and_dependencies_keep_the_field_by_field_reading() -> None:
    def dependency(token: str) -> str:
        return token

    def with_model(order: Order, note: str) -> None: ...
    def with_dependency(note: str, token: str = Depends(dependency)) -> None: ...

    assert read_signature(with_model, path_params=set()).json_fields is None
    assert read_signature(with_dependency, path_params=set()).json_fields is None


@post("/raw-too")
async def raw_too(name: str, request: Request, count: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "count": count,
        "raw": (await request.body()).decode(),
        "json": await request.json(),
    }


async def test_a_request_still_reads_the_body_its_fields_came_from() -> None:
    timeline = await record(
        Ravyn(routes=[raw_too]),
        "POST",
        "/raw-too?count=3",
        content=b'{"name": "ada"}',
        headers={"content-type": "application/json"},
    )
    assert timeline.json() == {"name": "ada", "count": 3, "raw": '{"name": "ada"}', "json": {"name": "ada"}}


def test_under_a_lower_interpreter_digit_limit_both_readings_refuse_a_long_integer() -> None:
    fast = read_signature(_simple_fields, path_params=set())
    slow = read_signature(_simple_fields, path_params=set())
    slow.json_fields = None
    raw = b'{"s": "a", "i": 1, "f": 1, "b": 1, "x": ' + b"9" * 700 + b"}"
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)  # pydantic's parser would take 700 digits; Python refuses them
    try:
        outcome = _outcome_of(fast, raw, b"")
        assert outcome == _outcome_of(slow, raw, b"")
    finally:
        sys.set_int_max_str_digits(before)
    assert outcome[:2] == ("refused", 400) and outcome[3][0]["type"] == "int_too_long"


# --- numbers that are not finite, into parameters that take anything (issue 21) -------------


class Anything(BaseModel):
    value: Any


@post("/anything")
def take_anything(value: Any) -> dict[str, Any]:
    return {"value": value}


@post("/untyped")
def take_untyped(value) -> dict[str, Any]:  # type: ignore[no-untyped-def]  # what is tested: no annotation
    return {"value": value}


@post("/anything-dict")
def take_dict(data: dict[str, Any]) -> dict[str, Any]:
    return data


@post("/anything-model")
def take_model(item: Anything) -> dict[str, Any]:
    return {"value": item.value}


@post("/finite")
def take_finite(value: float, note: str = "") -> dict[str, Any]:
    return {"value": value}


untyped_app = Ravyn(routes=[take_anything, take_untyped, take_dict, take_model, take_finite])
NON_FINITE = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e400",
    b"-1e999",
    b"9" * 320 + b".0",
    b"1" + b"0" * 300 + b"e9",
]


@pytest.mark.parametrize("path", ["/anything", "/untyped", "/anything-dict", "/anything-model", "/finite"])
@pytest.mark.parametrize("number", NON_FINITE, ids=lambda n: n[:12].decode())
async def test_a_number_that_is_not_finite_is_a_400_naming_where_it_is(path: str, number: bytes) -> None:
    content = b'{"value": [1, {"deep": ' + number + b"}]}"
    timeline = await record(
        untyped_app, "POST", path, content=content, headers={"content-type": "application/json"}
    )
    assert timeline.status == 400
    assert timeline.json()["errors"] == [
        {
            "loc": ["body", "value", 1, "deep"],
            "type": "finite_number",
            "msg": "Input should be a finite number",
        }
    ]


@pytest.mark.parametrize("number", [b"1e308", b"-1.5e-400", b"9" * 299 + b"e9", b"12e+99", b'"NaN"'])
async def test_large_finite_numbers_and_the_text_nan_still_pass(number: bytes) -> None:
    content = b'{"value": ' + number + b"}"
    timeline = await record(
        untyped_app, "POST", "/anything", content=content, headers={"content-type": "application/json"}
    )
    assert timeline.status == 201
    assert timeline.json() == {"value": json.loads(content)["value"]}


@pytest.mark.parametrize("padding", [0, ONE_PASS_LIMIT], ids=["one-pass", "too-large-for-one-pass"])
@pytest.mark.parametrize("number", [b"NaN", b"-Infinity", b"1e400"])
async def test_a_non_finite_number_is_refused_even_in_a_key_no_parameter_reads(
    padding: int, number: bytes
) -> None:
    # the one-pass reading and the field-by-field reading must agree: both refuse the body
    content = b'{"value": 1.5, "note": "' + b"n" * padding + b'", "other": ' + number + b"}"
    timeline = await record(
        untyped_app, "POST", "/finite", content=content, headers={"content-type": "application/json"}
    )
    assert timeline.status == 400
    assert timeline.json()["errors"][0]["loc"] == ["body", "other"]
    finite = content.replace(number, b"1e300")
    timeline = await record(
        untyped_app, "POST", "/finite", content=finite, headers={"content-type": "application/json"}
    )
    assert (timeline.status, timeline.json()) == (201, {"value": 1.5})


class FiniteLine(BaseModel):
    """The documented way out for a model's own floats: pydantic's default takes the text "inf"."""

    model_config = ConfigDict(allow_inf_nan=False)
    price: float


@post("/finite-lines")
def take_finite_lines(lines: list[FiniteLine]) -> dict[str, Any]:
    return {"total": sum(line.price for line in lines)}


@pytest.mark.parametrize("text", [b'"inf"', b'"-Infinity"', b'"nan"', b'"1e400"'])
async def test_a_model_configured_to_refuse_non_finite_floats_answers_their_text_with_a_400(
    text: bytes,
) -> None:
    content = b'[{"price": 1.5}, {"price": ' + text + b"}]"
    timeline = await record(
        Ravyn(routes=[take_finite_lines]),
        "POST",
        "/finite-lines",
        content=content,
        headers={"content-type": "application/json"},
    )
    assert timeline.status == 400
    assert timeline.json()["errors"] == [
        {"loc": ["body", 1, "price"], "type": "finite_number", "msg": "Input should be a finite number"}
    ]


json_with_non_finite = st.recursive(
    st.sampled_from(NON_FINITE) | st.integers(-5, 5).map(lambda n: str(n).encode()) | st.just(b'"x"'),
    lambda inner: (
        st.lists(inner, max_size=3).map(lambda items: b"[" + b",".join(items) + b"]")
        | st.dictionaries(st.sampled_from([b"a", b"b", b"c"]), inner, max_size=3).map(
            lambda pairs: b"{" + b",".join(b'"' + key + b'":' + value for key, value in pairs.items()) + b"}"
        )
    ),
    max_leaves=10,
)


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    value=json_with_non_finite, path=st.sampled_from(["/anything", "/untyped", "/anything-dict", "/finite"])
)
def test_a_body_holding_non_finite_numbers_anywhere_is_never_a_5xx(value: bytes, path: str) -> None:
    content = b'{"value": ' + value + b"}"
    timeline = asyncio.run(
        record(untyped_app, "POST", path, content=content, headers={"content-type": "application/json"})
    )
    assert timeline.status < 500
    decoded = json.loads(content)
    has_non_finite = "inf" in repr(decoded) or "nan" in repr(decoded)
    if has_non_finite:
        assert timeline.status == 400
        for error in timeline.json()["errors"]:
            assert error["type"] == "finite_number"
            found: Any = decoded
            for key in error["loc"][1:]:  # each loc leads to a number that is not finite
                found = found[key]
            assert not math.isfinite(found)


@get("/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}


@post("/bulk")
async def bulk(items: list[Item]) -> dict[str, int]:
    return {"count": len(items)}


async def test_a_request_arriving_during_a_large_bodys_validation_is_answered_before_it() -> None:
    # recorded order, no timing: the large body's handling yields to the loop after
    # decoding it, where the request that arrived meanwhile is served whole
    app = Ravyn(routes=[ping, bulk], max_body_size=4 * 1024 * 1024)
    body = json.dumps([{"name": 1, "price": "x"}] * 20_000).encode()
    order: list[str] = []

    async with anyio.create_task_group() as group:

        async def call(method: str, path: str, content: bytes) -> None:
            scope = {
                "type": "http",
                "method": method,
                "path": path,
                "query_string": b"",
                "headers": [(b"content-type", b"application/json")],
                "root_path": "",
            }

            async def receive() -> dict[str, Any]:
                if path == "/bulk":  # another client's request arrives while this body is read
                    group.start_soon(call, "GET", "/ping", b"")
                return {"type": "http.request", "body": content, "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    order.append(f"{path} {message['status']}")

            await app(scope, receive, send)

        group.start_soon(call, "POST", "/bulk", body)
    assert order == ["/ping 200", "/bulk 400"]


class _Address(BaseModel):
    street: str
    number: int | None = None


class _Signup(BaseModel):
    name: str
    age: int = 0
    score: float = 0.0
    admin: bool = False
    tags: list[str] = []
    address: _Address | None = None


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20) | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_signup_bodies = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=20) | _json_values,
        "age": st.integers(min_value=-(10**30), max_value=10**30) | st.floats() | st.text(max_size=4),
        "score": st.floats() | st.integers() | st.text(max_size=4),
        "admin": st.booleans() | st.integers(0, 2) | st.sampled_from(["true", "no", "yes"]),
        "tags": st.lists(st.text(max_size=5) | st.integers(), max_size=4) | _json_values,
        "address": st.none()
        | st.fixed_dictionaries({"street": st.text(max_size=5) | st.integers()})
        | _json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(body=_signup_bodies | _json_values, duplicate=st.booleans())
@example(body={"name": "\ud800"}, duplicate=False)  # a lone surrogate: refused the usual way
@example(body={"name": "ada", "score": math.nan}, duplicate=False)
@example(body={"name": "ada", "score": math.inf}, duplicate=False)
@example(body={"name": "ada", "age": 10**700}, duplicate=False)  # past the integer digit limit
@example(body={"name": "ada", "tags": ["x"] * 20000}, duplicate=False)  # past the one-pass size
def test_a_body_model_read_in_one_pass_binds_exactly_as_the_usual_reading(body: Any, duplicate: bool) -> None:
    """The one-pass shortcut for a handler's body model gives the same value, or
    (when it cannot stand for the usual reading) the same errors, as decoding
    the body and validating the decoded value."""

    async def create(signup: _Signup) -> None: ...

    raw = json.dumps(body, allow_nan=True).encode()
    if duplicate and raw.startswith(b"{") and len(raw) > 2:
        raw = b'{"name": "first", ' + raw[1:]  # a repeated key: the last one wins, both ways
    shortcut = read_signature(create, path_params=set())
    assert shortcut.json_model is not None
    usual = read_signature(create, path_params=set())
    usual.json_model = None

    async def bound(signature: Any) -> Any:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        scope = {"type": "http", "method": "POST", "headers": [(b"content-type", b"application/json")]}
        try:
            inputs = await signature.read(scope, receive, None, max_body_size=1 << 20)
            return ("ok", (await signature.bind(None, inputs, None))["signup"])
        except RequestError as exc:
            return ("error", exc.status_code, [dict(error) for error in exc.errors], exc.total)

    assert asyncio.run(bound(shortcut)) == asyncio.run(bound(usual))


class _Price(BaseModel):
    amount: decimal.Decimal


class _StrictCount(BaseModel, strict=True):
    count: int


def test_a_body_model_with_a_type_read_otherwise_from_text_takes_the_usual_reading() -> None:
    async def create(price: _Price) -> None: ...

    async def count(value: _StrictCount) -> None: ...

    assert read_signature(create, path_params=set()).json_model is None
    assert read_signature(count, path_params=set()).json_model is None


@settings(max_examples=300)
@given(
    annotation=st.sampled_from([int, str, bool, float, int | None, Annotated[int, Field(gt=0)]]),
    value=st.one_of(
        st.integers(min_value=-(10**40), max_value=10**40),
        st.text(),
        st.booleans(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.none(),
    ),
)
def test_a_value_taken_without_the_adapter_is_what_the_adapter_returns(annotation: Any, value: Any) -> None:
    from ravyn._binding.errors import ErrorLog
    from ravyn.params import _validate, read_signature

    async def handler(x: Any) -> None:
        return None

    handler.__annotations__ = {"x": annotation, "return": None}

    param = read_signature(handler, path_params={"x"}).parameters[0]
    assert (param.exact is not None) == (annotation in (int, str, bool))
    taken: dict[str, Any] = {}
    log = ErrorLog()
    _validate(param, value, ("path", "x"), taken, log)
    assert param.adapter is not None
    try:
        expected: Any = ("value", param.adapter.validate_python(value))
    except Exception as exc:
        expected = ("refused", type(exc).__name__)
    got = ("value", taken["x"]) if "x" in taken else ("refused", "ValidationError")
    assert got == expected and (got[0] == "refused" or type(got[1]) is type(expected[1]))
