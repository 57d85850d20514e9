"""`ravyn._binding.json_body`: the filter that sends a JSON body to the usual
reading instead of the one-pass validation."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ravyn._binding.json_body import _ONE_PASS_REFUSED, ONE_PASS_LIMIT, _one_pass_refused, decode_json
from ravyn.exceptions import RequestError


def _as_before(raw: bytes) -> bool:
    """The filter as it was: the regular expression over every body."""
    return len(raw) > ONE_PASS_LIMIT or _ONE_PASS_REFUSED.search(raw) is not None


# text without an e or E: an exponent then only appears in a number, where the
# scan of the body's shapes must see it (text that merely looks like an exponent
# in a string is not the filter's business)
_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="eE"), max_size=12)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**280, max_value=10**320)
    | st.floats()
    | st.floats(min_value=1e200)
    | _TEXT
    | st.sampled_from(["\ud800", "\udc00x", "NaN", "Infinity", "I", "N", "\\u"])
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=16,
)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=_VALUES, ascii_only=st.booleans())
@example(value={"score": 1e300}, ascii_only=True)
@example(value={"score": float("inf"), "n": float("nan")}, ascii_only=True)
@example(value={"name": "\ud800"}, ascii_only=True)
@example(value={"count": 10**299}, ascii_only=True)
@example(value={"count": 10**300}, ascii_only=True)
@example(value=["x" * (ONE_PASS_LIMIT + 1)], ascii_only=True)
def test_the_shape_scan_refuses_what_the_regular_expression_finds(value: Any, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert _one_pass_refused(raw) is _as_before(raw)


@given(raw=st.binary(max_size=400))
def test_any_bytes_the_regular_expression_refuses_in_a_number_or_an_escape_are_refused(raw: bytes) -> None:
    """Whatever the bytes: refused by the regular expression and not by the scan
    only where an exponent-like text follows no digit (never a JSON number)."""
    if _as_before(raw) and not _one_pass_refused(raw):
        for match in _ONE_PASS_REFUSED.finditer(raw):
            assert match.group()[:1] in b"eE", match
            assert match.start() == 0 or not raw[match.start() - 1 : match.start()].isdigit(), match


def test_a_usual_body_is_not_refused() -> None:
    raw = b'{"name": "Ada Lovelace", "email": "ada@example.com", "plan": "pro", "seats": 3, "score": 1.5}'
    assert not _one_pass_refused(raw)


# A large body is decoded without the per-number hooks when it cannot hold what
# they catch: the same values, and the same 400 for what they catch.
_PADDING = [{"name": "pen", "qty": 2, "price": 1.25}] * 3000


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=_VALUES)
def test_a_large_body_decodes_to_what_a_small_one_would(value: Any) -> None:
    raw = json.dumps({"padding": _PADDING, "value": value}).encode()
    assert len(raw) > ONE_PASS_LIMIT
    try:
        expected = decode_json(json.dumps(value).encode())
    except RequestError as small:
        with pytest.raises(RequestError) as large:
            decode_json(raw)
        assert large.value.status_code == small.status_code == 400
        # the same problem, one level further in
        assert [e["type"] for e in large.value.errors] == [e["type"] for e in small.errors]
        return
    assert decode_json(raw) == {"padding": _PADDING, "value": expected}


@pytest.mark.parametrize("unlimited", [False, True], ids=["interpreter limit", "no interpreter limit"])
@pytest.mark.parametrize(
    ("tail", "kind"),
    [
        ("NaN", "finite_number"),
        ("-Infinity", "finite_number"),
        ("1e400", "finite_number"),
        ("7" * 5000, "int_too_long"),
    ],
)
def test_a_large_body_ending_in_what_the_hooks_catch_is_refused(
    tail: str, kind: str, unlimited: bool
) -> None:
    raw = json.dumps(_PADDING).encode()[:-1] + b", " + tail.encode() + b"]"
    assert len(raw) > ONE_PASS_LIMIT
    before = sys.get_int_max_str_digits()
    # an app that lifted the interpreter's own digit limit still gets ours
    sys.set_int_max_str_digits(0 if unlimited else before)
    try:
        with pytest.raises(RequestError) as refused:
            decode_json(raw)
    finally:
        sys.set_int_max_str_digits(before)
    assert refused.value.status_code == 400
    assert refused.value.errors[0]["type"] == kind
