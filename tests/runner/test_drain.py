"""ravyn/runner/drain.py: what a second signal's stop at once reports."""

from __future__ import annotations

import logging

import anyio
import pytest

from ravyn.runner import TaskRunner
from ravyn.runner.core import current_runner

pytestmark = pytest.mark.anyio


async def test_a_stop_at_once_with_nothing_running_says_so_at_info_and_logs_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner = TaskRunner()
    with caplog.at_level(logging.DEBUG, logger="ravyn.background"):
        assert runner.finish_now() == 0
    assert [r.levelname for r in caplog.records] == ["INFO"]
    assert caplog.records[0].getMessage() == "Stopped at once: no background task was running, none lost"
    assert runner.closed


async def test_a_stop_at_once_with_a_task_running_still_logs_the_loss_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner = TaskRunner()
    started = anyio.Event()

    async def long_task() -> None:
        started.set()
        await anyio.sleep(30)

    from ravyn import BackgroundTask

    async with anyio.create_task_group() as group:
        group.start_soon(runner.run, BackgroundTask(long_task))
        await started.wait()
        with caplog.at_level(logging.INFO, logger="ravyn.background"):
            assert runner.finish_now() == 1
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert "1 background task(s) lost at shutdown (stopped at once)" in errors
    assert not any("none lost" in r.getMessage() for r in caplog.records)
    assert current_runner() is not runner  # outside a request: the default runner
