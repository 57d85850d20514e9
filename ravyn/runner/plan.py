"""The plan: a request's tasks and collections flattened into the steps to run."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from lilya.background import Task, Tasks

__all__ = ["Plan", "mark_ran", "plan_tasks", "single_leaf"]


class Plan(list["Task | tuple[Task, ...]"]):
    """The steps of one request's tasks, in order: a task, or a tuple of tasks
    run concurrently. `stoppers[i]` names (by `id`) the collections made with
    `stop_on_error=True` that hold step `i`: a failure there skips their later steps."""

    def __init__(self) -> None:
        super().__init__()
        self.stoppers: list[frozenset[int]] = []

    def leaves(self) -> list[Task]:
        """Every task of the plan, groups opened, in order."""
        found: list[Task] = []
        for step in self:
            found.extend(step if isinstance(step, tuple) else (step,))
        return found

    def split(self, keep: int) -> tuple[Plan, list[Task]]:
        """The plan of its first `keep` tasks (a group cut short if need be),
        and the tasks left out, in order."""
        kept = Plan()
        left_out: list[Task] = []
        room = keep
        for step, stoppers in zip(self, self.stoppers, strict=True):
            tasks = step if isinstance(step, tuple) else (step,)
            if room > 0 and not left_out:
                taken = tasks[:room]
                kept.append(tuple(taken) if isinstance(step, tuple) else step)
                kept.stoppers.append(stoppers)
                room -= len(taken)
                tasks = tasks[len(taken) :]
            left_out.extend(tasks)
        return kept, left_out


def plan_tasks(sources: Iterable[Task | None], done: Collection[int] = ()) -> Plan:
    """Flatten tasks and task collections into the steps to run, in order.

    A task object met twice (the same collector attached in two places) is
    kept once. A collection made with `as_group=True` becomes one tuple whose
    tasks run concurrently; anything nested inside a group joins that group.
    Tasks whose `id` is in `done` (they ran already) are left out.
    """
    seen: set[int] = set(done)
    plan = Plan()

    def add(task: Task | None, into: list[Any], stoppers: frozenset[int]) -> None:
        if task is None or id(task) in seen:
            return
        if not isinstance(task, Tasks):
            seen.add(id(task))
            into.append(task)
            if into is plan:
                plan.stoppers.append(stoppers)
            return
        seen.add(id(task))
        if task.as_group and into is plan:
            group: list[Task] = []
            for inner in task.tasks:
                add(inner, group, stoppers)
            if group:
                plan.append(tuple(group))
                plan.stoppers.append(stoppers)
        else:
            if getattr(task, "stop_on_error", False):
                stoppers = stoppers | {id(task)}
            for inner in task.tasks:
                add(inner, into, stoppers)

    for source in sources:
        add(source, plan, frozenset())
    return plan


def single_leaf(sources: Sequence[Task | None]) -> Task | None:
    """The one task of `sources` when they hold exactly one, outside any
    collection that changes how it runs (a group, `stop_on_error=True`):
    then no `Plan` is needed. None otherwise."""
    found: Task | None = None
    for source in sources:
        if source is None:
            continue
        if found is not None:
            return None
        found = source
    if isinstance(found, Tasks):
        if found.as_group or getattr(found, "stop_on_error", False) or len(found.tasks) != 1:
            return None
        found = found.tasks[0]
        if found is None or isinstance(found, Tasks):
            return None
    return found


def mark_ran(sources: Sequence[Task | None]) -> None:
    """Note on each of our collections in `sources` that its tasks ran, so that
    a task added to it later is logged (see `BackgroundTasks.add_task`)."""
    for source in sources:
        # ours: Lilya's `Tasks` has no such flag. Read on the instance, for a lookup
        # that fails quietly: on a class (`type(source)`) it builds an AttributeError each time
        if isinstance(source, Tasks) and getattr(source, "ran", None) is False:
            source.ran = True  # type: ignore[attr-defined]
