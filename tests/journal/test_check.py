"""A durable task is refused when it is made, not at replay: its function must be
importable by module path, its arguments must come back unchanged from JSON."""

from __future__ import annotations

import datetime
import enum
import functools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ravyn import BackgroundTask, BackgroundTasks
from ravyn._journal.check import MAX_ARGUMENTS_BYTES, check_durable, resolve
from tests.journal import jobs

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


class Colour(enum.IntEnum):
    RED = 1


changed_by_json = st.one_of(
    st.tuples(json_values),
    st.sets(st.integers(), max_size=3),
    st.frozensets(st.text(max_size=3), max_size=3),
    st.datetimes(),
    st.dates(),
    st.binary(max_size=4),
    st.dictionaries(st.integers(), json_values, min_size=1, max_size=3),
    st.sampled_from([Colour.RED, float("nan"), float("inf"), object(), 1 + 2j]),
)


@given(
    st.lists(json_values, max_size=4),
    st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), json_values),
)
def test_json_values_are_accepted_and_stored_unchanged(args: list[Any], kwargs: dict[str, Any]) -> None:
    reference, stored = check_durable(jobs.remember, args, kwargs, "remember")
    assert reference == "tests.journal.jobs:remember"
    assert json.loads(stored) == {"args": args, "kwargs": kwargs}


@given(st.lists(json_values, max_size=3), changed_by_json, st.booleans())
def test_a_value_json_would_change_is_refused_naming_its_position(
    before: list[Any], bad: Any, nested: bool
) -> None:
    value = [bad] if nested else bad
    with pytest.raises(TypeError) as refused:
        BackgroundTask(jobs.remember, *before, value).configure(durable=True)
    assert f"positional argument {len(before)}" in str(refused.value)
    assert "durable task remember" in str(refused.value)


@given(changed_by_json)
def test_a_keyword_argument_json_would_change_is_refused_by_name(bad: Any) -> None:
    tasks = BackgroundTasks()
    with pytest.raises(TypeError, match="keyword argument 'sent_at'"):
        tasks.add_task(jobs.remember, "x", sent_at=bad, durable=True)
    assert len(tasks) == 0


def test_a_tuple_is_refused_because_it_would_come_back_a_list() -> None:
    with pytest.raises(TypeError, match=r"positional argument 1 \(tuple\) would not come back the same"):
        BackgroundTask(jobs.remember, "a", (1, 2)).configure(durable=True)


def test_an_int_that_json_reads_back_as_a_bool_or_float_counts_as_changed() -> None:
    check_durable(jobs.remember, [True, 1, 1.0, -0.0], {}, "remember")  # each comes back its own type
    with pytest.raises(TypeError, match="positional argument 0"):
        check_durable(jobs.remember, [{1: "a"}], {}, "remember")


def test_a_lambda_a_closure_and_a_local_function_are_refused() -> None:
    def local(value: str) -> None: ...

    captured = "x"

    def closure() -> str:
        return captured

    for func in (lambda value: None, local, closure):
        with pytest.raises(TypeError, match="lambda or a function defined inside another one"):
            BackgroundTask(func).configure(durable=True)


def test_a_method_bound_to_an_object_is_refused_and_a_classmethod_is_accepted() -> None:
    with pytest.raises(TypeError, match="method bound to an object"):
        BackgroundTask(jobs.Mailer().send, "a@b.c").configure(durable=True)
    task = BackgroundTask(jobs.Mailer.send_later, "a@b.c").configure(durable=True)
    assert task.durable_payload is not None
    assert resolve(task.durable_payload[0]) == jobs.Mailer.send_later


def test_a_partial_and_a_builtin_without_a_module_path_are_refused() -> None:
    with pytest.raises(TypeError, match="no module path"):
        BackgroundTask(functools.partial(jobs.remember, "a")).configure(durable=True)


def test_a_name_that_leads_to_another_object_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    original = jobs.remember
    monkeypatch.setattr(jobs, "remember", jobs.remember_async)
    with pytest.raises(TypeError, match="names another object"):
        BackgroundTask(original, "a").configure(durable=True)


def test_arguments_over_the_size_bound_are_refused_with_what_to_do() -> None:
    with pytest.raises(TypeError, match="store the data elsewhere and pass its id"):
        BackgroundTask(jobs.remember, "x" * MAX_ARGUMENTS_BYTES).configure(durable=True)


def test_deeply_nested_arguments_are_refused_not_a_crash() -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(TypeError, match="positional argument 0"):
        BackgroundTask(jobs.remember, deep).configure(durable=True)


def test_a_datetime_is_refused_with_the_types_that_work() -> None:
    with pytest.raises(TypeError, match="pass plain str, int, float, bool, None, list or dict"):
        BackgroundTask(jobs.remember, datetime.datetime(2026, 1, 1)).configure(durable=True)


def test_the_constructor_and_add_task_take_durable_and_key() -> None:
    task = BackgroundTask(jobs.remember, "a", durable=True, key="k")  # type: ignore[call-arg]
    assert (task.durable, task.key, task.args, task.kwargs) == (True, "k", ("a",), {})
    tasks = BackgroundTasks()
    tasks.add_task(jobs.remember, "b", durable=True, key="order-1")
    added = tasks.tasks[0]
    assert isinstance(added, BackgroundTask)
    assert (added.durable, added.key, added.durable_payload) == (
        True,
        "order-1",
        ("tests.journal.jobs:remember", '{"args":["b"],"kwargs":{}}'),
    )


def test_a_key_without_durable_is_refused() -> None:
    with pytest.raises(TypeError, match="key= names a durable task"):
        BackgroundTask(jobs.remember, "a").configure(key="k")


def test_a_function_that_takes_a_durable_parameter_keeps_it() -> None:
    task = BackgroundTask(_takes_durable, durable=False)
    assert task.kwargs == {"durable": False}
    assert task.durable is False


def _takes_durable(durable: bool) -> None: ...
