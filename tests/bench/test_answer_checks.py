"""The bench refuses to measure an app that answers its scenario wrongly: a wrong body, a
status outside 2xx, or (in R and M) no CORS header for the allowed origin."""

from __future__ import annotations

from typing import Any

import pytest

from bench import asgi_calls
from bench.apps.shapes import ORIGIN, SHAPES
from bench.contenders import BenchError
from bench.server import check_answer

GOOD = {"ok": True, "team": 42}


def test_the_right_answer_with_its_cors_header_passes() -> None:
    check_answer("x", SHAPES["R"], 201, GOOD, {"access-control-allow-origin": ORIGIN})
    check_answer("x", SHAPES["P"], 201, GOOD, {})
    check_answer("x", SHAPES["G"], 200, {"ok": True}, {})


@pytest.mark.parametrize(
    ("status", "body", "headers", "says"),
    [
        (201, GOOD, {}, "the CORS middleware did not run"),
        (201, GOOD, {"access-control-allow-origin": "*"}, "(got '*')"),
        (201, {"ok": True}, {"access-control-allow-origin": ORIGIN}, "answered 201 {'ok': True}, not"),
        (500, GOOD, {"access-control-allow-origin": ORIGIN}, "answered 500"),
        (404, "Not Found", {}, "answered 404 'Not Found'"),
    ],
)
def test_a_wrong_answer_stops_the_bench_saying_what_it_was(
    status: int, body: Any, headers: dict[str, str], says: str
) -> None:
    with pytest.raises(BenchError) as raised:
        check_answer("ravyn scenario R", SHAPES["R"], status, body, headers)
    assert str(raised.value).startswith("ravyn scenario R: POST /teams/42/signup")
    assert says in str(raised.value)


def message(status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    ]


def test_the_in_process_measure_refuses_a_wrong_answer_before_timing_it() -> None:
    allowed = [(b"access-control-allow-origin", ORIGIN.encode())]
    asgi_calls.check(message(201, b'{"ok":true,"team":42}', allowed), "R")
    for sent, says in (
        (message(201, b'{"ok":true,"team":42}', []), "the CORS middleware did not run"),
        (message(201, b"<html>", allowed), "answered 201 b'<html>'"),
        (message(422, b'{"detail":[]}', allowed), "answered 422"),
    ):
        with pytest.raises(SystemExit) as raised:
            asgi_calls.check(sent, "R")
        assert says in str(raised.value)
