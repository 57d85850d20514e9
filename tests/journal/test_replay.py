"""On the next start, after the startup hooks, every unfinished durable task runs
again through the app's runner; a finished one never does; a task cannot loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ravyn import BackgroundTask, BackgroundTasks, Ravyn, post
from ravyn._journal import leases
from ravyn._journal.journal import _rebuild
from ravyn._journal.leases import ClaimedTask
from ravyn._journal.store import open_journal
from ravyn.journal import TaskJournal
from ravyn.testing import Recorder
from tests.journal import jobs
from tests.journal.support import eventually, leave_unfinished, rows, states

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def fresh_jobs() -> Iterator[None]:
    jobs.ran.clear()
    yield


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    path = tmp_path / "tasks.sqlite3"
    open_journal(path).close()
    return path


async def test_an_unfinished_durable_task_runs_again_after_the_startup_hooks(journal_path: Path) -> None:
    task_id = leave_unfinished(journal_path, jobs.remember, "again")
    app = Ravyn(task_journal=journal_path, on_startup=[lambda: jobs.ran.append("startup hook")])
    async with Recorder(app):
        await eventually(lambda: states(journal_path) == {task_id: "done"}, "the task run again and done")
    assert jobs.ran == ["startup hook", "again"]
    stats = app.task_stats()
    assert (stats["recovered"], stats["rerun"], stats["succeeded"]) == (1, 1, 1)
    assert rows(journal_path, "SELECT attempts FROM tasks") == [(2,)]


async def test_a_pending_task_left_by_a_clean_shutdown_runs_at_the_next_start(journal_path: Path) -> None:
    task_id = leave_unfinished(journal_path, jobs.remember_async, "pending", state="pending", worker=None)
    app = Ravyn(task_journal=journal_path)
    async with Recorder(app):
        await eventually(lambda: states(journal_path) == {task_id: "done"}, "the pending task run")
    assert jobs.ran == ["pending"]


async def test_a_finished_task_is_never_run_again(journal_path: Path) -> None:
    for state in ("done", "failed", "skipped"):
        leave_unfinished(journal_path, jobs.remember, state, state=state, worker=None)
    app = Ravyn(task_journal=journal_path)
    async with Recorder(app):
        pass
    assert jobs.ran == []
    assert app.task_stats()["recovered"] == 0


async def test_a_task_held_by_a_live_worker_is_not_taken(journal_path: Path) -> None:
    other = TaskJournal(journal_path)  # another live worker, holding a task with a fresh lease
    other.writer.submit(lambda c: None).result()  # its first heartbeat registers it
    task_id = leave_unfinished(journal_path, jobs.remember, "theirs", worker=other.worker.id)
    with open_journal(journal_path) as connection:
        connection.execute("UPDATE tasks SET lease_until = 9e99 WHERE id = ?", (task_id,))
    app = Ravyn(task_journal=journal_path)
    async with Recorder(app):
        pass
    assert jobs.ran == []
    assert states(journal_path) == {task_id: "running"}
    other.writer.close()


async def test_a_task_that_keeps_failing_ends_failed_and_does_not_run_at_the_next_start(
    journal_path: Path,
) -> None:
    task_id = leave_unfinished(journal_path, jobs.fail_always, "boom", retries=1)
    for _ in range(2):
        app = Ravyn(task_journal=journal_path)
        async with Recorder(app):
            await eventually(lambda: states(journal_path) == {task_id: "failed"}, "the task marked failed")
    assert jobs.ran == ["attempt boom", "attempt boom"]  # its retries applied, once


async def test_a_task_started_max_attempts_times_is_marked_failed_not_run(
    journal_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    task_id = leave_unfinished(journal_path, jobs.remember, "crashes its process", attempts=3)
    app = Ravyn(task_journal=TaskJournal(journal_path, max_attempts=3))
    with caplog.at_level(logging.ERROR, logger="ravyn.journal"):
        async with Recorder(app):
            await eventually(lambda: states(journal_path) == {task_id: "failed"}, "the task given up")
    assert jobs.ran == []
    assert app.task_stats()["durable_gave_up"] == 1
    assert any("started 3 times without ending (max_attempts=3)" in r.getMessage() for r in caplog.records)
    assert "max_attempts=3" in rows(journal_path, "SELECT error FROM tasks")[0][0]


async def test_a_task_whose_function_is_gone_is_marked_failed_with_a_log_line(
    journal_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    task_id = leave_unfinished(journal_path, jobs.remember, "x")
    with open_journal(journal_path) as connection:
        connection.execute(
            "UPDATE tasks SET reference = 'tests.journal.jobs:renamed' WHERE id = ?", (task_id,)
        )
    app = Ravyn(task_journal=journal_path)
    with caplog.at_level(logging.ERROR, logger="ravyn.journal"):
        async with Recorder(app):
            await eventually(lambda: states(journal_path) == {task_id: "failed"}, "the task marked failed")
    assert any("cannot be rebuilt" in r.getMessage() for r in caplog.records)
    assert app.task_stats()["durable_gave_up"] == 1


@post("/slow")
def slow(tasks: BackgroundTasks) -> None:
    tasks.add_task(jobs.sleep_then_remember, "slow", 60.0, durable=True)
    tasks.add_task(jobs.sleep_then_remember, "plain", 60.0)


async def test_a_drain_leaves_an_unfinished_durable_task_pending_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "tasks.sqlite3"
    app = Ravyn(routes=[slow], task_journal=path, task_drain_timeout=0.2)
    with caplog.at_level(logging.WARNING):
        async with Recorder(app) as recorder:
            request = asyncio.get_running_loop().create_task(recorder.request("POST", "/slow"))
            await eventually(lambda: states(path) == {1: "running"}, "the task recorded")
        await request
    assert states(path) == {1: "pending"}
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "sleep_then_remember('slow', 60.0) not finished" in m and "left pending" in m for m in messages
    )
    assert any("sleep_then_remember('plain', 60.0) lost" in m for m in messages)
    assert app.task_stats()["durable_left_pending"] == 1
    assert rows(path, "SELECT count(*) FROM workers") == [(0,)]  # it left the journal cleanly


@post("/held")
def held(tasks: BackgroundTasks) -> None:
    tasks.add_task(jobs.wait_for_release, "held", durable=True)


async def test_a_task_still_running_on_an_abandoned_thread_stays_leased_after_shutdown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "tasks.sqlite3"
    jobs.release.clear()
    app = Ravyn(routes=[held], task_journal=TaskJournal(path, lease=30.0), task_drain_timeout=0.1)
    try:
        with caplog.at_level(logging.WARNING):
            async with Recorder(app) as recorder:
                request = asyncio.get_running_loop().create_task(recorder.request("POST", "/held"))
                await eventually(lambda: states(path) == {1: "running"}, "the task recorded")
            await request
        assert app.task_stats()["abandoned"] == 1  # its thread still runs
        # held one more lease (no worker row any more), so that no other worker starts a twin
        [(state, worker, lease_until)] = rows(path, "SELECT state, worker, lease_until FROM tasks")
        assert (state, worker) == ("running", app.task_journal.worker.id)  # type: ignore[union-attr]
        assert lease_until > leases.now() + 20
        other = Ravyn(task_journal=path)
        async with Recorder(other):
            pass
        assert other.task_stats()["recovered"] == 0
    finally:
        jobs.release.set()


async def test_a_second_signal_leaves_the_durable_task_to_run_at_the_next_start(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    app = Ravyn(routes=[slow], task_journal=path)
    async with Recorder(app) as recorder:
        request = asyncio.get_running_loop().create_task(recorder.request("POST", "/slow"))
        await eventually(lambda: states(path) == {1: "running"}, "the task recorded")
        assert app.task_runner.finish_now() == 2
        await request
    assert states(path) == {1: "pending"}
    jobs.ran.clear()
    again = Ravyn(task_journal=path, task_drain_timeout=0.1)  # the 60 s task is cut short again
    async with Recorder(again):
        await eventually(lambda: app.task_stats()["durable_left_pending"] == 1, "counted")
        await eventually(lambda: again.task_stats()["rerun"] == 1, "the task handed over again")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@given(
    st.lists(json_values, max_size=3),
    st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), json_values, max_size=3),
    st.none() | st.floats(min_value=0.01, max_value=1e6),
    st.integers(min_value=0, max_value=10),
)
def test_a_rebuilt_task_has_the_arguments_and_policy_it_was_made_with(
    args: list[Any], kwargs: dict[str, Any], timeout: float | None, retries: int
) -> None:
    made = BackgroundTask(jobs.remember, *args, **kwargs).configure(
        durable=True, key="k", timeout=timeout, retries=retries, retry_delay=0.5
    )
    assert made.durable_payload is not None
    row = ClaimedTask(7, *made.durable_payload, "remember(...)", "k", timeout, retries, 0.5, attempts=2)
    rebuilt = _rebuild(row)
    assert isinstance(rebuilt, BackgroundTask)
    assert (list(rebuilt.args), rebuilt.kwargs) == (list(made.args), made.kwargs)
    assert (rebuilt.timeout, rebuilt.retries, rebuilt.retry_delay) == (timeout, retries, 0.5)
    assert (rebuilt.call, rebuilt.durable, rebuilt.key, rebuilt.journal_id) == (jobs.remember, True, "k", 7)


async def test_a_replayed_task_that_raises_system_exit_ends_failed_and_the_app_goes_on(
    journal_path: Path,
) -> None:
    task_id = leave_unfinished(journal_path, jobs.exit_process, "bye")
    app = Ravyn(task_journal=journal_path)
    async with Recorder(app):
        await eventually(lambda: states(journal_path) == {task_id: "failed"}, "the task marked failed")
    assert jobs.ran == ["bye"]


async def test_a_journal_broken_between_two_starts_fails_the_startup_naming_it(journal_path: Path) -> None:
    app = Ravyn(task_journal=journal_path)
    async with Recorder(app):
        pass
    journal_path.write_bytes(b"not a database any more")
    with pytest.raises(
        RuntimeError, match=r"the app failed to start: task journal: task journal .* is not a SQLite"
    ):
        async with Recorder(app):
            pass
