"""Our `JSONResponse`, `HTMLResponse` and `PlainTextResponse` defer Lilya's
`Header` object: what a client gets must be exactly what Lilya's classes send."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import decimal
import enum
import functools
import itertools
import uuid
from typing import Any, NoReturn

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lilya import encoders as lilya_encoders
from lilya import responses as lilya_responses
from lilya.encoders import json_encode
from lilya.responses import Response as LilyaResponse
from pydantic import BaseModel

from ravyn import BackgroundTask, Ravyn, get, post
from ravyn.responses import HTMLResponse, JSONResponse, PlainTextResponse, encode_json
from ravyn.testing import record

pytestmark = pytest.mark.anyio

PAIRS: list[tuple[type[LilyaResponse], type[LilyaResponse]]] = [
    (JSONResponse, lilya_responses.JSONResponse),
    (HTMLResponse, lilya_responses.HTMLResponse),
    (PlainTextResponse, lilya_responses.PlainText),
]
STATUSES = [200, 201, 202, 204, 304, 412, 418, 500]
CONTENTS: list[Any] = [None, "", "text é", b"raw", {"a": [1, None]}, []]
CASES = [
    (ours, theirs, status, content)
    for (ours, theirs), status, content in itertools.product(PAIRS, STATUSES, CONTENTS)
    if ours is JSONResponse or not isinstance(content, dict | list)
]


async def _sent(response: LilyaResponse, method: str = "POST") -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await response({"type": "http", "method": method}, receive, send)
    start, body = messages
    return [{**start, "headers": sorted(list(start["headers"]))}, body]


@pytest.mark.parametrize(("ours", "theirs", "status", "content"), CASES)
async def test_the_messages_are_lilyas(
    ours: type[LilyaResponse], theirs: type[LilyaResponse], status: int, content: Any
) -> None:
    mine, lilyas = ours(content, status_code=status), theirs(content, status_code=status)
    assert mine.body == lilyas.body
    assert sorted(mine.encoded_headers) == sorted(lilyas.encoded_headers)
    assert await _sent(ours(content, status_code=status)) == await _sent(theirs(content, status_code=status))


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
async def test_headers_given_read_or_changed_are_sent_as_lilya_sends_them(
    ours: type[LilyaResponse], theirs: type[LilyaResponse]
) -> None:
    def changed(cls: type[LilyaResponse]) -> LilyaResponse:
        response = cls("hi")
        response.headers["x-trace"] = "1"
        response.set_cookie("session", "abc")
        return response

    assert await _sent(changed(ours)) == await _sent(changed(theirs))
    given = {"x-given": "yes"}
    assert await _sent(ours("hi", headers=dict(given))) == await _sent(theirs("hi", headers=dict(given)))
    replaced_mine, replaced_lilyas = ours("hi"), theirs("hi")
    replaced_mine.headers = replaced_lilyas.headers
    assert await _sent(replaced_mine) == await _sent(replaced_lilyas)


async def test_an_untouched_response_is_sent_without_building_lilyas_header() -> None:
    response = JSONResponse({"ok": True}, status_code=202)
    messages = await _sent(response)
    assert messages[0]["status"] == 202 and messages[1]["body"] == b'{"ok":true}'
    assert response._built is None  # the deferred path was taken: no Header object made


async def test_background_runs_after_the_body_but_not_for_head() -> None:
    ran: list[str] = []

    async def note(what: str) -> None:
        ran.append(what)

    await _sent(JSONResponse({}, background=BackgroundTask(note, "post")))
    await _sent(JSONResponse({}, background=BackgroundTask(note, "head")), method="HEAD")
    assert ran == ["post"]


async def test_the_guides_style_through_an_app_runs_its_task_after_the_response() -> None:
    @post("/signup")
    async def signup(email: str) -> JSONResponse:
        return JSONResponse({"email": email}, background=BackgroundTask(print, f"welcome {email}"))

    @get("/page")
    async def page() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>", status_code=203)

    app = Ravyn(routes=[signup, page])
    timeline = await record(app, "POST", "/signup", json={"email": "ada@example.com"})
    assert (timeline.status, timeline.json()) == (200, {"email": "ada@example.com"})
    assert dict(timeline.headers)["content-type"] == "application/json"
    assert timeline.response_complete < timeline.first("output")
    timeline = await record(app, "GET", "/page")
    assert (timeline.status, timeline.body) == (203, b"<p>hi</p>")
    assert dict(timeline.headers) == {"content-length": "9", "content-type": "text/html; charset=utf-8"}


# --------------------------------------------------------------------------- JSONResponse's own constructor


@dataclasses.dataclass
class _Point:
    x: int
    label: str


class _Colour(enum.Enum):
    RED = "red"
    ONE = 1


class _Item(BaseModel):
    name: str
    price: float


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # nan and infinities: both classes refuse them alike
    | st.text()
    | st.sampled_from(
        [
            datetime.datetime(2026, 12, 4, 21, 15, tzinfo=datetime.UTC),
            datetime.date(2026, 12, 4),
            uuid.UUID(int=7),
            _Colour.RED,
            _Colour.ONE,
            _Point(1, "é"),
            _Item(name="pen", price=1.5),
            decimal.Decimal("1.5"),  # no encoder takes it: the same error from both
            b"raw",
            (1, "two"),
            {3, 4},
            object(),
        ]
    )
)
JSON_CONTENTS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
ANY_STATUS = st.sampled_from(
    [200, 201, 202, 203, 204, 206, 304, 400, 404, 412, 418, 422, 500, 503]
) | st.integers(100, 599)


def _outcome(build: Any) -> tuple[str, Any]:
    """What building a response gives: its state and messages, or the error it raises."""
    try:
        response = build()
    except Exception as exc:  # the same error, with the same message, is what must match
        return ("raised", (type(exc), str(exc)))
    state = {k: v for k, v in vars(response).items() if k not in ("headers", "_deferred", "_built")}
    headers = sorted(response.encoded_headers)
    return ("built", (state, headers, asyncio.run(_sent(build()))))


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(content=JSON_CONTENTS, status=ANY_STATUS)
def test_json_responses_match_lilyas_for_any_content_and_status(content: Any, status: int) -> None:
    task = BackgroundTask(print, "done")
    assert _outcome(lambda: JSONResponse(content, status_code=status, background=task)) == _outcome(
        lambda: lilya_responses.JSONResponse(content, status_code=status, background=task)
    )


@FUZZ
@given(content=JSON_CONTENTS)
def test_encode_json_is_lilyas_json_encode(content: Any) -> None:
    def lilyas() -> bytes:
        encoded = json_encode(content, post_transform_fn=None)
        return encoded if isinstance(encoded, bytes) else encoded.encode("utf-8")

    assert _result(lambda: encode_json(content)) == _result(lilyas)


def _result(call: Any) -> Any:
    try:
        return call()
    except Exception as exc:
        return (type(exc), str(exc))


def test_the_usual_json_response_does_not_go_through_lilyas_constructor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Lilya's constructor was called")

    monkeypatch.setattr(lilya_responses.Response, "__init__", refuse)
    response = JSONResponse({"ok": True}, status_code=202, background=BackgroundTask(print, "x"))
    assert (response.body, response.status_code, response.headers["content-length"]) == (
        b'{"ok":true}',
        202,
        "11",
    )
    with pytest.raises(AssertionError):  # anything unusual is Lilya's to build
        JSONResponse({"ok": True}, headers={"x-a": "1"})


class _Compact(lilya_responses.JSONResponse):
    media_type = "application/vnd.api+json"


class _OursCompact(JSONResponse):
    media_type = "application/vnd.api+json"


class _Upper(lilya_responses.JSONResponse):
    def make_response(self, content: Any) -> bytes:
        return super().make_response(content).upper()


class _OursUpper(JSONResponse):
    def make_response(self, content: Any) -> bytes:
        return super().make_response(content).upper()


class _Tagged(lilya_responses.JSONResponse):
    def make_headers(self, content_headers: Any = None) -> None:
        super().make_headers(content_headers)
        self.headers["x-tag"] = "1"


class _OursTagged(JSONResponse):
    def make_headers(self, content_headers: Any = None) -> None:
        super().make_headers(content_headers)
        self.headers["x-tag"] = "1"


class _Plain(lilya_responses.JSONResponse):
    """A subclass that only adds a method: built like the base class."""

    def describe(self) -> str:
        return "plain"


class _OursPlain(JSONResponse):
    def describe(self) -> str:
        return "plain"


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(_OursCompact, _Compact), (_OursUpper, _Upper), (_OursTagged, _Tagged), (_OursPlain, _Plain)],
)
@pytest.mark.parametrize("status", [200, 201, 204, 304, 412])
def test_subclasses_are_built_as_lilyas_subclasses_are(
    ours: type[LilyaResponse], theirs: type[LilyaResponse], status: int
) -> None:
    content = {"name": "ada", "tags": ["x"]}
    assert _outcome(lambda: ours(content, status_code=status)) == _outcome(
        lambda: theirs(content, status_code=status)
    )
    assert _OursPlain._plain_init and not _OursCompact._plain_init and not _OursTagged._plain_init


class _DayEncoder(lilya_encoders.Encoder[datetime.date]):
    __type__ = datetime.date

    def serialize(self, obj: datetime.date) -> str:
        return f"day {obj.day}"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"headers": {"x-a": "1"}},
        {"media_type": "application/problem+json"},
        {"encoders": [_DayEncoder()]},
        {"passthrough_body_types": (bytes, str)},
    ],
)
def test_the_other_arguments_are_lilyas(kwargs: dict[str, Any]) -> None:
    for content in ({"a": datetime.date(2026, 1, 2)}, "text", b"raw"):
        assert _outcome(functools.partial(JSONResponse, content, **kwargs)) == _outcome(
            functools.partial(lilya_responses.JSONResponse, content, **kwargs)
        )


def test_a_response_transform_in_effect_is_applied_as_lilya_applies_it() -> None:
    content = {"a": None, "b": [1, None]}
    for params in ({"exclude_none": True}, {}):
        with LilyaResponse.with_transform_kwargs(params):
            assert _outcome(lambda: JSONResponse(content)) == _outcome(
                lambda: lilya_responses.JSONResponse(content)
            )


def test_awaitable_and_noreturn_content_are_lilyas() -> None:
    async def later() -> dict[str, int]:
        return {"a": 1}

    mine, lilyas = JSONResponse(later()), lilya_responses.JSONResponse(later())
    assert asyncio.run(_sent(mine)) == asyncio.run(_sent(lilyas))
    assert _outcome(lambda: JSONResponse(NoReturn)) == _outcome(
        lambda: lilya_responses.JSONResponse(NoReturn)
    )
