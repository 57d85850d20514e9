"""Tests for ravyn/runner/when.py: the outcome policy of a task (`when=`), how it
is given (configure, the constructor, add_task, a collection) and which tasks
of a request it selects for each outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lilya.background import Task, Tasks

from ravyn import BackgroundTask, BackgroundTasks
from ravyn.runner import when
from ravyn.runner.when import RequestOutcome, check_when, split


def noop(label: str = "") -> None:
    """A task that does nothing."""


@pytest.mark.parametrize("value", ["success", "always", "error"])
def test_each_of_the_three_policies_is_accepted_everywhere(value: Any) -> None:
    assert BackgroundTask(noop).configure(when=value).when == value
    assert BackgroundTask(noop, when=value).when == value
    assert BackgroundTasks(when=value).when == value
    tasks = BackgroundTasks()
    tasks.add_task(noop, "x", when=value)
    assert (tasks.tasks[0].when, tasks.tasks[0].args, tasks.tasks[0].kwargs) == (value, ("x",), {})


@pytest.mark.parametrize("value", ["sucess", "ALWAYS", "", "error "])
def test_an_unknown_policy_is_a_value_error_naming_it_and_the_three(value: str) -> None:
    for make in (
        lambda: BackgroundTask(noop).configure(when=value),
        lambda: BackgroundTask(noop, when=value),
        lambda: BackgroundTasks(when=value),
        lambda: BackgroundTasks().add_task(noop, when=value),
    ):
        with pytest.raises(ValueError) as raised:
            make()
        assert str(raised.value) == f"when must be one of 'success', 'always', 'error', got {value!r}"


@pytest.mark.parametrize("value", [True, 1, ["always"], {"always"}, b"always"])
def test_a_policy_that_is_not_a_string_is_a_type_error(value: Any) -> None:
    with pytest.raises(TypeError, match="when must be one of 'success', 'always', 'error', got"):
        BackgroundTask(noop).configure(when=value)
    with pytest.raises(TypeError, match=type(value).__name__):
        BackgroundTasks().add_task(noop, when=value)


def test_configure_without_when_keeps_the_policy_a_task_was_given() -> None:
    task = BackgroundTask(noop).configure(when="error")
    task.configure(timeout=2.0)
    assert (task.when, task.timeout) == ("error", 2.0)
    assert when.own_when(BackgroundTask(noop).configure(timeout=1.0)) is None


def test_a_function_that_takes_when_itself_gets_it_as_its_argument() -> None:
    def remind(user: str, when: str) -> None: ...

    task = BackgroundTask(remind, "ada", when="tomorrow")
    assert task.kwargs == {"when": "tomorrow"}
    assert when.own_when(task) is None


def test_a_function_with_keyword_arguments_gets_when_in_them_and_configure_sets_the_policy() -> None:
    def log(message: str, **fields: object) -> None: ...

    task = BackgroundTask(log, "refused", when="always")
    assert (task.kwargs, when.own_when(task)) == ({"when": "always"}, None)
    assert when.own_when(BackgroundTask(log, "refused").configure(when="always")) == "always"


def test_the_policies_are_marked_in_use_only_by_one_that_is_not_success(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(when, "in_use", False)
    check_when("success")
    BackgroundTask(noop).configure(when="success")
    assert when.in_use is False
    BackgroundTasks(when="always")
    assert when.in_use is True


def test_a_tasks_own_policy_wins_over_its_collections() -> None:
    own = BackgroundTask(noop, "own").configure(when="success")
    inherits = BackgroundTask(noop, "inherits")
    lilyas = Task(noop, "lilya's")
    cleanup = BackgroundTasks(tasks=[own, inherits, lilyas], when="error")
    assert split([cleanup], "error") == ([inherits, lilyas], [own])
    assert split([cleanup], "success") == ([own], [inherits, lilyas])


def test_nested_collections_pass_the_nearest_policy_down() -> None:
    leaf = BackgroundTask(noop, "leaf")
    middle = BackgroundTasks(tasks=[leaf])  # sets none: its parent's reaches the leaf
    outer = Tasks(tasks=[BackgroundTasks(tasks=[middle], when="always")])
    assert split([outer], "error") == ([leaf], [])
    assert split([outer], "success") == ([leaf], [])


def test_split_keeps_the_order_and_each_task_once_like_the_plan() -> None:
    first, second = BackgroundTask(noop, "1"), BackgroundTask(noop, "2").configure(when="error")
    collector = BackgroundTasks(tasks=[first, second, first])
    assert split([collector, second, None, first], "success") == ([first], [second])


def test_collections_nested_thousands_deep_are_walked_without_recursion() -> None:
    leaf = BackgroundTask(noop).configure(when="always")
    nested: Task = leaf
    for _ in range(20_000):
        nested = Tasks(tasks=[nested])
    assert split([nested], "error") == ([leaf], [])


POLICIES = st.sampled_from([None, "success", "always", "error"])


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> list[Any]:
    """A request's tasks as a model: `("task", policy)` or `("tasks", policy, children)`."""
    items: list[Any] = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 3 and draw(st.booleans()):
            items.append(("tasks", draw(POLICIES), draw(trees(depth + 1))))
        else:
            items.append(("task", draw(POLICIES)))
    return items


def model_runs(tree: list[Any], outcome: RequestOutcome, inherited: str = "success") -> list[int]:
    """Which tasks must run, by their number in depth-first order: the written-down rule."""
    wanted = {"success": {"success", "always"}, "error": {"always", "error"}}[outcome]
    found: list[int] = []
    counter = [0]

    def walk(items: list[Any], inherited: str) -> None:
        for item in items:
            policy = item[1] or inherited
            if item[0] == "task":
                if policy in wanted:
                    found.append(counter[0])
                counter[0] += 1
            else:
                walk(item[2], policy)

    walk(tree, inherited)
    return found


def build_tasks(
    tree: list[Any], made: list[BackgroundTask], func: Callable[[str], object] = noop
) -> list[Task]:
    """The model's tasks as real ones calling `func` with their number in `made` (depth-first order)."""
    built: list[Task] = []
    for item in tree:
        if item[0] == "task":
            task = BackgroundTask(func, str(len(made)))
            if item[1] is not None:
                task.configure(when=item[1])
            made.append(task)
            built.append(task)
        else:
            built.append(BackgroundTasks(tasks=build_tasks(item[2], made, func), when=item[1]))
    return built


@settings(max_examples=300, deadline=None)
@given(tree=trees(), outcome=st.sampled_from(["success", "error"]))
def test_split_selects_what_the_model_of_the_rule_selects(tree: list[Any], outcome: RequestOutcome) -> None:
    made: list[BackgroundTask] = []
    sources = build_tasks(tree, made)
    runs, skipped = split(sources, outcome)
    expected = model_runs(tree, outcome)
    assert [made.index(task) for task in runs] == expected
    assert sorted(map(id, runs + skipped)) == sorted(map(id, made))
