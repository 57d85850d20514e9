"""ravyn/_lilya/concurrency.py: reaching the sync function Lilya's `AsyncCallable`
wraps, and the fallback when Lilya no longer keeps it where we look."""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

import anyio
import pytest
from lilya.background import Task
from lilya.concurrency import AsyncCallable

from ravyn._lilya.concurrency import sync_function
from ravyn.runner import TaskRunner
from tests.support.runner import balanced

pytestmark = pytest.mark.anyio


def greet(name: str) -> str:
    return f"hello {name}"


def test_lilyas_async_callable_keeps_the_sync_function_in_callable() -> None:
    wrapped = AsyncCallable(greet)
    assert wrapped._callable is greet  # the private attribute the module reads
    assert sync_function(wrapped) is greet
    assert sync_function(Task(greet, "ada").func) is greet


def test_anything_but_an_async_callable_has_no_sync_function() -> None:
    async def coroutine_function() -> None: ...

    assert sync_function(greet) is None
    assert sync_function(coroutine_function) is None


class _RenamedAsyncCallable(AsyncCallable):
    """An `AsyncCallable` of a Lilya release that keeps its function elsewhere."""

    __slots__ = ("_function",)

    def __init__(self, func: Any) -> None:
        self._function = func
        self.default_kwargs: dict[str, Any] = {}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return anyio.to_thread.run_sync(functools.partial(self._function, *args, **kwargs))


async def test_without_callable_a_sync_task_still_runs_lilyas_way_and_it_is_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fresh_reports: set[str]
) -> None:
    ran_on: list[int] = []
    runner = TaskRunner()

    def record_thread(tag: str) -> None:
        ran_on.append(threading.get_ident())

    tasks = []
    for tag in ("a", "b"):
        task = Task(record_thread, tag)
        task.func = _RenamedAsyncCallable(record_thread)
        tasks.append(task)
    with caplog.at_level(logging.WARNING, logger="ravyn.lilya"):
        await runner.run(tasks[0])
        await runner.run(*tasks)
    assert len(ran_on) == 3 and threading.get_ident() not in ran_on  # off the loop, each once
    assert runner.pool.threads == 0  # on anyio's threads, not the runner's
    warnings = [r for r in caplog.records if r.name == "ravyn.lilya"]
    assert len(warnings) == 1 and "_callable" in warnings[0].getMessage()
    stats = runner.snapshot()
    assert stats["succeeded"] == 3 and balanced(stats)
