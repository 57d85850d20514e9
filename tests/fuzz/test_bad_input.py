"""Hypothesis throws malformed requests at every docs_src app and at the binding layer.

Whatever arrives (random JSON, wrong types, huge numbers, deep nesting,
invalid UTF-8, wrong content types, oversized bodies, odd query strings,
integers of thousands of digits, lone surrogates in JSON, forms and queries,
thousands of repeated keys, malformed multipart parts), the
answer is never a 5xx, every 4xx body is JSON with a `detail`, and no
traceback leaks, with `debug=False`. Background tasks are switched off here:
this suite is about reading input, and a fuzzed webhook URL must never be
called.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import anyio
import anyio.from_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docs_src.catalogue import EXAMPLES
from ravyn import Ravyn
from ravyn.exceptions import MAX_ERRORS
from ravyn.runner import TaskRunner
from ravyn.testing import Recorder, Timeline, record
from tests import test_params

FUZZ = settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)

CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=zz",
    "text/plain",
    "application/xml",
    None,
]


surrogates = st.integers(min_value=0xD800, max_value=0xDFFF)


@st.composite
def hostile_json(draw: st.DrawFn, field_names: list[str]) -> bytes:
    """A JSON object whose value is an integer of thousands of digits, text with a lone
    surrogate, a number that is not finite, or a list of thousands of invalid values."""
    key = draw(st.sampled_from(field_names)) if field_names else "x"
    kind = draw(st.sampled_from(["digits", "surrogate", "non-finite", "many-invalid"]))
    if kind == "digits":
        value = draw(st.sampled_from(["", "-"])) + "9" * draw(st.integers(min_value=4250, max_value=6000))
    elif kind == "surrogate":
        value = f'"a\\u{draw(surrogates):04x}"'
    elif kind == "non-finite":
        value = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", '[1, {"y": -1e999}]']))
    else:
        item = draw(st.sampled_from(['"x"', "{}", "[[]]", "null", "true"]))
        value = "[" + ",".join([item] * draw(st.integers(min_value=1000, max_value=20_000))) + "]"
    return f'{{"{key}": {value}}}'.encode()


@st.composite
def repeated_keys(draw: st.DrawFn, field_names: list[str]) -> bytes:
    """A form body of one key repeated hundreds to thousands of times (around the field limit)."""
    key = draw(st.sampled_from(field_names)) if field_names else "x"
    return f"{key}=1&".encode() * draw(st.integers(min_value=500, max_value=3000))


@st.composite
def malformed_multipart(draw: st.DrawFn, field_names: list[str]) -> bytes:
    """A multipart body with a broken header line, missing name, invalid UTF-8 or a cut-off end."""
    name = draw(st.sampled_from(field_names)) if field_names else "x"
    header = draw(
        st.sampled_from(
            [
                f'Content-Disposition: form-data; name="{name}"\r\nbad header line',
                "Content-Disposition: form-data",
                f"Content-Disposition: form-data; name*=utf-8''%ff{name}",
                f'Content-Disposition: form-data; name="{name}"',
            ]
        )
    )
    value = draw(st.sampled_from([b"ok", b"\xed\xa0\x80", b"\xff\xfe", b""]))
    end = draw(st.sampled_from([b"\r\n--zz--\r\n", b"", b"\r\n--zz"]))
    return b"--zz\r\n" + header.encode() + b"\r\n\r\n" + value + end


@st.composite
def bodies(draw: st.DrawFn, field_names: list[str]) -> tuple[bytes, str | None]:
    """A body and its content type: usually near what the handler wants, often broken."""
    kind = draw(
        st.sampled_from(["fields", "json", "bytes", "deep", "huge", "hostile", "repeated", "multipart"])
    )
    if kind == "hostile":
        return draw(hostile_json(field_names)), "application/json"
    if kind == "repeated":
        return draw(repeated_keys(field_names)), "application/x-www-form-urlencoded"
    if kind == "multipart":
        return draw(malformed_multipart(field_names)), "multipart/form-data; boundary=zz"
    if kind == "fields":
        keys = st.sampled_from(field_names) if field_names else st.text(max_size=8)
        payload = draw(st.dictionaries(keys, json_values, max_size=len(field_names) + 1))
        raw = json.dumps(payload).encode()
    elif kind == "json":
        raw = json.dumps(draw(json_values)).encode()
    elif kind == "deep":
        depth = draw(st.integers(min_value=100, max_value=5000))
        raw = b"[" * depth + b"]" * depth
    elif kind == "huge":
        raw = b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    else:
        raw = draw(st.binary(max_size=64))
    return raw, draw(st.sampled_from(CONTENT_TYPES))


query_strings = st.one_of(
    st.text(max_size=30).map(lambda text: quote(text, safe="=&")),
    st.lists(st.tuples(st.text(max_size=6), st.text(max_size=6)), max_size=4).map(
        lambda pairs: "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)
    ),
    st.sampled_from(["%ff%fe", "a=%00", "limit=" + "9" * 5000, "=&=&", "a=1&a=2&a=3", "%zz"]),
    surrogates.map(lambda code: "q=" + quote(chr(code).encode("utf-8", "surrogatepass"))),
    st.integers(min_value=900, max_value=2000).map(lambda count: "tag=x&" * count),
)


class _NoTasks(TaskRunner):
    async def run(self, *sources: Any) -> None:
        return None


@contextmanager
def tasks_switched_off(app: Ravyn) -> Iterator[None]:
    original = app.task_runner
    app.task_runner = _NoTasks()
    try:
        yield
    finally:
        app.task_runner = original


def assert_answered_cleanly(timeline: Timeline) -> None:
    assert timeline.status is not None
    assert timeline.status < 500, timeline.body[:500]
    assert b"Traceback" not in timeline.body
    if timeline.status >= 400:
        body = timeline.json()
        assert isinstance(body, dict) and body.get("detail"), body
        # bounded whatever the body: the first errors, the rest counted
        assert len(body.get("errors", [])) <= MAX_ERRORS
        assert len(timeline.body) < 64 * 1024


def field_names(app: Ravyn) -> list[str]:
    """The names a handler reads from a body or query, its dependencies' included."""
    inputs = (p for h in app.handlers for p in h.signature.inputs())
    return sorted({p.name for p in inputs if p.source in ("field", "body")})


def fuzz_app(app: Ravyn, method: str, path: str) -> None:
    """Run the fuzzer against one route, the app started once (its lifespan spans all examples)."""
    names = field_names(app)
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Recorder(app, capture_output=False)) as recorder,
        tasks_switched_off(app),
    ):

        @FUZZ
        @given(body=bodies(names), query=query_strings)
        def fuzz(body: tuple[bytes, str | None], query: str) -> None:
            raw, content_type = body
            headers = {"content-type": content_type} if content_type else {}
            target = f"{path}?{query}" if query else path
            timeline = portal.call(
                lambda: recorder.request(
                    method, target, content=raw, headers=headers, raise_app_exceptions=False
                )
            )
            assert_answered_cleanly(timeline)

        fuzz()


@pytest.mark.parametrize(
    "name",
    [name for name in sorted(EXAMPLES)],
)
def test_every_example_answers_bad_input_with_a_clear_4xx(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # a fuzzed list of a thousand emails is a valid import: let the queue example's worker
    # take no time per contact, so it is idle again when the app shuts down
    monkeypatch.setenv("IMPORT_SECONDS_PER_CONTACT", "0")
    example = EXAMPLES[name]
    app = importlib.import_module(example.import_path).app
    fuzz_app(app, example.method, example.path)


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/users/7/notes"), ("GET", "/search"), ("POST", "/address"), ("POST", "/profile")],
)
def test_the_binding_layer_answers_bad_input_with_a_clear_4xx(method: str, path: str) -> None:
    fuzz_app(test_params.app, method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/orders"), ("POST", "/checkout"), ("GET", "/pages")],
)
def test_pydantic_model_bodies_answer_bad_input_with_a_clear_4xx(method: str, path: str) -> None:
    fuzz_app(test_params.models_app, method, path)


def test_path_values_of_any_length_answer_with_a_clear_4xx() -> None:
    with anyio.from_thread.start_blocking_portal() as portal:

        @FUZZ
        @given(digits=st.integers(min_value=1, max_value=8000))
        def fuzz(digits: int) -> None:
            timeline = portal.call(lambda: record(test_params.hostile_app, "GET", "/numbers/" + "7" * digits))
            assert_answered_cleanly(timeline)

        fuzz()
