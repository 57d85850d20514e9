"""The runner of an app with a journal, and what an app without one does not load."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ravyn import BackgroundTasks, Ravyn, post
from ravyn._journal.leases import Worker
from ravyn._journal.runner import JournaledRunner
from ravyn.journal import TaskJournal
from ravyn.runner import TaskRunner
from ravyn.testing import Recorder
from tests.journal import jobs
from tests.journal.support import eventually, rows, states

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


def test_an_app_without_a_journal_never_loads_sqlite3() -> None:
    # sqlite3 is not in a browser's Python (Pyodide): the playground's apps have no journal
    code = (
        "import sys, ravyn, ravyn.testing\n"
        "from ravyn import Ravyn, post\n"
        "Ravyn(routes=[post('/x')(lambda: None)])\n"
        "print(sorted(m for m in sys.modules if m == 'sqlite3' or m.startswith('ravyn._journal')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_app_gets_the_journaled_runner_only_with_a_journal(tmp_path: Path) -> None:
    assert type(Ravyn().task_runner) is TaskRunner
    assert Ravyn().task_runner.journal is None
    runner = Ravyn(task_journal=tmp_path / "tasks.sqlite3").task_runner
    assert isinstance(runner, JournaledRunner)
    assert runner.journal is not None


@post("/pipeline")
def pipeline(tasks: BackgroundTasks) -> None:
    steps = BackgroundTasks(stop_on_error=True)
    steps.add_task(jobs.fail_always, "first", durable=True)
    steps.add_task(jobs.remember, "second", durable=True)
    tasks.add_task(jobs.remember, "plain")
    tasks.tasks.insert(0, steps)


async def test_each_durable_task_ends_in_the_journal_as_it_ended_in_the_runner(tmp_path: Path) -> None:
    jobs.ran.clear()
    path = tmp_path / "tasks.sqlite3"
    app = Ravyn(routes=[pipeline], task_journal=path)
    async with Recorder(app) as recorder:
        await recorder.request("POST", "/pipeline")
        await eventually(lambda: states(path) == {1: "failed", 2: "skipped"}, "failed, then skipped")
    assert jobs.ran == ["attempt first", "plain"]
    stats = app.task_stats()
    assert (stats["failed"], stats["skipped"], stats["succeeded"]) == (1, 1, 1)


@post("/held")
def held(tasks: BackgroundTasks) -> None:
    tasks.add_task(jobs.wait_for_release, "once", durable=True)


async def test_two_apps_on_one_file_never_take_each_others_running_task(tmp_path: Path) -> None:

    jobs.ran.clear()
    jobs.release.clear()
    path = tmp_path / "tasks.sqlite3"
    first = Ravyn(routes=[held], task_journal=TaskJournal(path, lease=0.6))
    second = Ravyn(routes=[held], task_journal=TaskJournal(path, lease=0.6))  # beats every 0.2 s
    try:
        async with Recorder(first) as one, Recorder(second):
            request = asyncio.get_running_loop().create_task(one.request("POST", "/held"))
            await eventually(lambda: states(path) == {1: "running"}, "the task recorded")
            await asyncio.sleep(1.5)  # more than two leases of the second app's heartbeats
            assert second.task_stats()["recovered"] == 0
            jobs.release.set()
            await request
            await eventually(lambda: states(path) == {1: "done"}, "the task done")
    finally:
        jobs.release.set()
    assert jobs.ran == ["once"]


async def test_a_journal_made_before_a_fork_starts_as_a_worker_of_its_own(tmp_path: Path) -> None:
    app = Ravyn(task_journal=tmp_path / "tasks.sqlite3")
    journal = app.task_journal
    assert journal is not None
    inherited = journal.writer
    journal.worker = Worker(pid=1)  # as if made by the parent process of a preforking server
    async with Recorder(app):
        assert journal.worker.pid == os.getpid()
        assert journal.writer is not inherited
        assert rows(tmp_path / "tasks.sqlite3", "SELECT pid FROM workers") == [(os.getpid(),)]
