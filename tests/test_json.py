"""`ravyn._json.CompactEncoder` writes what `json.JSONEncoder` with the same
options writes, raises what it raises, and keeps no state between calls that
one call could trip over: a failed call, another thread, a nested call."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ravyn._json import CompactEncoder


def default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


REFERENCE = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"), default=default
)
ENCODER = CompactEncoder(default=default)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and the infinities included: both must refuse them alike
    | st.text()
    | st.decimals(allow_nan=False).map(Decimal)
    | st.sets(st.integers(), max_size=3)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5) | st.integers() | st.booleans() | st.none(), inner, max_size=4)
    ),
    max_leaves=12,
)


def outcome(encode: Any, value: Any) -> tuple[str, str]:
    try:
        return "text", encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        return type(exc).__name__, str(exc)


@given(values)
def test_the_text_and_the_errors_are_the_json_encoders(value: Any) -> None:
    assert outcome(ENCODER.encode, value) == outcome(REFERENCE.encode, value)


def test_a_failed_call_leaves_nothing_that_a_later_call_takes_for_a_cycle() -> None:
    shared = [1, 2]
    with pytest.raises(TypeError):
        ENCODER.encode({"list": shared, "bad": object()})
    with pytest.raises(ValueError, match="Out of range float"):
        ENCODER.encode([shared, float("nan")])

    assert (
        ENCODER.encode({"again": shared, "twice": [shared, shared]})
        == '{"again":[1,2],"twice":[[1,2],[1,2]]}'
    )


def test_a_real_cycle_is_refused_as_json_refuses_it() -> None:
    looped: list[Any] = [1]
    looped.append(looped)

    assert outcome(ENCODER.encode, looped) == outcome(REFERENCE.encode, looped)
    assert ENCODER.encode([1, [2]]) == "[1,[2]]"


def test_a_cycle_through_a_dict_or_through_default_and_a_value_nested_too_deeply_fail_as_json_fails() -> None:
    looped: dict[str, Any] = {}
    looped["self"] = looped

    class Loop:
        pass

    returns_itself = CompactEncoder(default=lambda value: value)
    reference_returns_itself = json.JSONEncoder(separators=(",", ":"), default=lambda value: value)
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]

    assert outcome(ENCODER.encode, looped) == ("ValueError", "Circular reference detected")
    assert outcome(returns_itself.encode, Loop()) == outcome(reference_returns_itself.encode, Loop())
    assert outcome(ENCODER.encode, deep)[0] == outcome(REFERENCE.encode, deep)[0] == "RecursionError"
    assert ENCODER.encode({"after": [1]}) == '{"after":[1]}'


def test_a_default_that_encodes_json_itself_gets_the_same_text() -> None:
    class Nested:
        pass

    def nesting(value: Any) -> Any:
        if isinstance(value, Nested):
            return {"inner": json.loads(encoder.encode([value_list, {"k": "v"}]))}
        return default(value)

    value_list = [1, 2]
    encoder = CompactEncoder(default=nesting)

    assert (
        encoder.encode({"outer": value_list, "n": Nested()})
        == '{"outer":[1,2],"n":{"inner":[[1,2],{"k":"v"}]}}'
    )
    assert encoder.encode(value_list) == "[1,2]"


def test_threads_encoding_the_same_containers_at_once_never_see_a_cycle() -> None:
    shared = {"items": list(range(50)), "nested": [{"a": Decimal("1.5")}] * 20}
    expected = REFERENCE.encode(shared)
    seen: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def encode_many() -> None:
        start.wait()
        try:
            seen.extend(ENCODER.encode(shared) for _ in range(300))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=encode_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert seen == [expected] * 1200
