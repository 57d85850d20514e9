"""ravyn/runner/plan.py: a request's tasks flattened into steps, and a plan cut
to the room there is (what max_pending_tasks leaves)."""

from __future__ import annotations

from lilya.background import Task

from ravyn import BackgroundTasks
from ravyn.runner import plan_tasks


def _named(plan: list[object]) -> list[object]:
    return [
        tuple(task.args[0] for task in step) if isinstance(step, tuple) else step.args[0]  # type: ignore[attr-defined]
        for step in plan
    ]


def _plan() -> tuple[list[Task], BackgroundTasks]:
    first, last = Task(print, "a"), Task(print, "e")
    group = BackgroundTasks(tasks=[Task(print, name) for name in "bcd"], as_group=True)
    return [first, group, last], group


def test_a_cut_inside_a_group_keeps_the_groups_first_tasks() -> None:
    sources, _ = _plan()
    kept, left_out = plan_tasks(sources).split(3)
    assert _named(kept) == ["a", ("b", "c")]
    assert [task.args[0] for task in left_out] == ["d", "e"]
    assert len(kept.stoppers) == len(kept)


def test_a_cut_with_room_for_everything_keeps_the_plan_whole() -> None:
    sources, _ = _plan()
    plan = plan_tasks(sources)
    kept, left_out = plan.split(10)
    assert _named(kept) == _named(plan) and left_out == []


def test_a_cut_with_no_room_keeps_nothing() -> None:
    sources, _ = _plan()
    kept, left_out = plan_tasks(sources).split(0)
    assert list(kept) == [] and [task.args[0] for task in left_out] == list("abcde")


def test_tasks_already_run_are_left_out_of_a_new_plan() -> None:
    collection = BackgroundTasks()
    collection.add_task(print, "ran")
    ran = collection.tasks[0]
    collection.add_task(print, "added")
    plan = plan_tasks([collection], done={id(ran)})
    assert _named(plan) == ["added"]
