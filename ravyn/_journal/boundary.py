"""The boundary: durable tasks committed before the response's first byte.

A route handler's `_serve` (`ravyn.routing`) calls `record_before_response`
after the handler returned and before it sends anything, with the three
sources of tasks: the injected collector, the response's `background` and the
decorator's `background`. Every durable task among them is committed in one
write; if the commit fails, the request is answered 503 and none of its tasks
runs, so a client never gets a 2xx for a durable task that was not recorded.

Each request's durable tasks get a row of their own: the decorator's
`background` (one object shared by every request) and a response's are copied
per request before they are recorded. A durable task whose `key` an unfinished
task already has is dropped, with an INFO line: the task already pending does
the work (it may be running already, so replacing it could not be clean).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from lilya.background import Task, Tasks

from ravyn.runner.logs import describe, escape_text
from ravyn.runner.plan import plan_tasks

if TYPE_CHECKING:
    from ravyn._journal.journal import TaskJournal

__all__ = ["record_before_response"]

logger = logging.getLogger("ravyn.journal")


async def record_before_response(
    journal: TaskJournal, tasks: Tasks | None, background: Task | None, own: Task | None
) -> tuple[Task | None, Task | None, list[int]] | None:
    """Commit the durable tasks of one request; return the `(background, own)`
    to run (per-request copies when they hold durable tasks, duplicates by key
    left out) and the ids of the rows written, or None when the commit failed
    (answer 503, run nothing).

    If the request is cancelled while it waits for the commit, the rows the
    commit wrote anyway are released (pending): the handler's work is done,
    so its durable tasks run, on the next claim."""
    if tasks is not None:
        _copy_durable_leaves(tasks)
    background, own = _per_request(background), _per_request(own)
    durable = [
        task
        for task in plan_tasks((tasks, background, own)).leaves()
        if getattr(task, "durable", False) and getattr(task, "journal_id", None) is None
    ]
    if not durable:
        return background, own, []
    try:
        ids = await journal.record(durable)
    except Exception as exc:
        journal.stats.unrecorded += 1
        logger.error(
            "Request answered 503: its %d durable task(s) could not be committed to the task journal %s "
            "(%s: %s): %s",
            len(durable),
            journal.path,
            escape_text(type(exc).__name__),
            escape_text(str(exc)),
            ", ".join(describe(task) for task in durable[:10]),
        )
        return None
    dropped: set[int] = set()
    for task, task_id in zip(durable, ids, strict=True):
        task.journal_id = task_id  # type: ignore[attr-defined]
        if task_id is None:
            dropped.add(id(task))
            journal.stats.deduplicated += 1
            logger.info(
                "Durable task %s not added: a task with key %s is still unfinished and does the work",
                describe(task),
                escape_text(repr(getattr(task, "key", None))),
            )
    if dropped:
        keep: Callable[[Task], bool] = lambda task: id(task) not in dropped  # noqa: E731
        if tasks is not None:
            _prune(tasks, keep)
        background, own = _pruned(background, keep), _pruned(own, keep)
    return background, own, [task_id for task_id in ids if task_id is not None]


def _has_durable(source: Task | None) -> bool:
    if source is None:
        return False
    if isinstance(source, Tasks):
        return any(_has_durable(inner) for inner in source.tasks)
    return bool(getattr(source, "durable", False))


def _per_request(source: Task | None) -> Task | None:
    """`source` itself, or a copy whose durable tasks are copies, when it holds any."""
    if source is None or not _has_durable(source):
        return source
    if isinstance(source, Tasks):
        copied = copy.copy(source)
        copied.tasks = [_per_request(inner) for inner in source.tasks]  # type: ignore[misc]
        return copied
    return copy.copy(source)


def _copy_durable_leaves(tasks: Tasks) -> None:
    """Replace, in place, the durable tasks of a request's own collector by copies
    (one object may have been added to several requests)."""
    for index, inner in enumerate(tasks.tasks):
        if isinstance(inner, Tasks):
            _copy_durable_leaves(inner)
        elif getattr(inner, "durable", False):
            tasks.tasks[index] = copy.copy(inner)


def _prune(tasks: Tasks, keep: Callable[[Task], bool]) -> None:
    tasks.tasks[:] = [inner for inner in tasks.tasks if isinstance(inner, Tasks) or keep(inner)]
    for inner in tasks.tasks:
        if isinstance(inner, Tasks):
            _prune(inner, keep)


def _pruned(source: Task | None, keep: Callable[[Task], bool]) -> Task | None:
    if source is None:
        return None
    if isinstance(source, Tasks):
        _prune(source, keep)
        return source
    return source if keep(source) else None
