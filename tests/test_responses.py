"""Our `JSONResponse`, `HTMLResponse` and `PlainTextResponse` defer Lilya's
`Header` object: what a client gets must be exactly what Lilya's classes send."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from lilya import responses as lilya_responses
from lilya.responses import Response as LilyaResponse

from ravyn import BackgroundTask, Ravyn, get, post
from ravyn.responses import HTMLResponse, JSONResponse, PlainTextResponse
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
