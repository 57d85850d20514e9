"""The commit-order pitfall of the Database sessions page, and its fix, shown on the database itself.

A session dependency that commits after `yield` commits after the request's
background tasks: the client has its 201 and the task has already looked for
the order, found nothing, and given up. Committing in the handler (commit, then
respond, then run) puts the order in the database before the client hears of it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from types import ModuleType

import pytest

from docs_src.catalogue import EXAMPLES
from ravyn.testing import Timeline, record
from tests.docs_src.examples import task_effects

pytestmark = pytest.mark.anyio

WRONG = "session_commit_after_tasks_wrong"
RIGHT = "session_commit_before_response_right"


async def send(module: ModuleType, name: str) -> Timeline:
    example = EXAMPLES[name]
    return await record(module.app, example.method, example.path, json=example.json)


def stored_items(module: ModuleType) -> list[tuple[int, str]]:
    with contextlib.closing(sqlite3.connect(module.DATABASE)) as db:
        return db.execute("SELECT id, item FROM orders ORDER BY id").fetchall()


async def test_a_commit_after_yield_comes_after_the_task_and_after_the_201(
    load_example: Callable[[str], ModuleType],
) -> None:
    module = load_example(WRONG)
    timeline = await send(module, WRONG)

    assert (timeline.status, timeline.json()) == (201, {"order_id": 1, "status": "placed"})
    not_found, committed = task_effects(timeline, EXAMPLES[WRONG])
    assert not_found.detail["text"] == "Order 1 not found: no confirmation sent"
    assert committed.detail["text"] == "Order committed"
    # the recorded sequence: the client's 201, the task's empty read, and only then the commit
    assert timeline.response_complete < timeline.first("task_started") < not_found < committed
    assert stored_items(module) == [(1, "teapot")]  # the order did exist, just too late for its task


async def test_committing_before_the_response_lets_the_task_find_the_order(
    load_example: Callable[[str], ModuleType],
) -> None:
    module = load_example(RIGHT)
    timeline = await send(module, RIGHT)

    assert (timeline.status, timeline.json()) == (201, {"order_id": 1, "status": "placed"})
    confirmed, closed = task_effects(timeline, EXAMPLES[RIGHT])
    assert confirmed.detail["text"] == "Confirmation sent for order 1 (teapot)"
    assert closed.detail["text"] == "Session closed"
    assert timeline.response_complete < timeline.first("task_started") < confirmed < closed


async def test_every_request_of_the_fix_confirms_its_own_order(
    load_example: Callable[[str], ModuleType],
) -> None:
    module = load_example(RIGHT)
    for order_id in (1, 2, 3):
        timeline = await send(module, RIGHT)
        assert timeline.json()["order_id"] == order_id
        assert f"Confirmation sent for order {order_id} (teapot)" in timeline.lines()
    assert [item for _, item in stored_items(module)] == ["teapot"] * 3


async def test_a_request_refused_before_the_handler_stores_nothing_and_runs_no_task(
    load_example: Callable[[str], ModuleType],
) -> None:
    module = load_example(RIGHT)
    timeline = await record(module.app, "POST", "/orders", json={"item": None})

    assert timeline.status == 400
    assert "item" in timeline.json()["detail"]
    assert timeline.all("task_started") == []
    assert stored_items(module) == []
