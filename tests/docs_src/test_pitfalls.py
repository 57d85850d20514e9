"""The failure modes the pitfalls describe, shown for real, next to their fixes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from types import ModuleType

import anyio
import pytest

from docs_src.catalogue import EXAMPLES
from ravyn.background import TaskEvent
from ravyn.testing import Recorder, Timeline, record
from tests.docs_src.examples import FRAMEWORK_LOGGER, framework_failure_logs, task_effects

pytestmark = pytest.mark.anyio


async def send(load_example: Callable[[str], ModuleType], name: str) -> Timeline:
    example = EXAMPLES[name]
    return await record(load_example(name).app, example.method, example.path, json=example.json)


async def test_a_task_return_value_reaches_nobody(load_example: Callable[[str], ModuleType]) -> None:
    timeline = await send(load_example, "pitfall_return_value_wrong")

    assert timeline.json() == {"status": "calculating"}  # sent before the sum existed
    assert timeline.task_names("task_finished") == ["add_up"]  # the task did compute it...
    assert task_effects(timeline, EXAMPLES["pitfall_return_value_wrong"]) == []  # ...for nobody


async def test_the_fix_answers_with_the_total(load_example: Callable[[str], ModuleType]) -> None:
    timeline = await send(load_example, "pitfall_return_value_right")

    assert timeline.json() == {"total": 42.5}
    assert timeline.response_complete < timeline.first("task_started")


async def test_an_unhandled_task_error_is_logged_by_ravyn_with_the_task_name(
    load_example: Callable[[str], ModuleType],
) -> None:
    example = EXAMPLES["pitfall_silent_error_wrong"]
    timeline = await send(load_example, "pitfall_silent_error_wrong")

    assert (timeline.status, timeline.json()) == (202, {"status": "refund requested"})  # nobody told
    [failure] = framework_failure_logs(timeline, "issue_refund")
    assert failure.name == FRAMEWORK_LOGGER
    assert failure.detail["exc_info"] is True  # with the traceback
    assert "KeyError: 'amount'" in failure.detail["text"]
    assert timeline.response_complete < failure
    assert task_effects(timeline, example) == []  # the task itself reported nothing


async def test_the_fix_logs_the_error_itself_with_context(load_example: Callable[[str], ModuleType]) -> None:
    example = EXAMPLES["pitfall_logged_error_right"]
    timeline = await send(load_example, "pitfall_logged_error_right")

    [logged] = task_effects(timeline, example)
    assert logged.detail["level"] == "ERROR" and logged.detail["exc_info"] is True
    assert "pay_1001" in logged.detail["text"]
    assert timeline.all("log", FRAMEWORK_LOGGER) == []
    assert timeline.task_names("task_finished") == ["issue_refund"]


class JobWatch:
    """Follows one app's task events from the event loop: when the job starts and ends."""

    def __init__(self) -> None:
        self.started = anyio.Event()
        self.finished = False

    def __call__(self, event: TaskEvent) -> None:
        if event.kind == "started":
            self.started.set()
        elif event.kind in ("finished", "failed"):
            self.finished = True


@pytest.fixture
def job_threads() -> Iterator[list[int]]:
    """The threads the long job's log records come from."""
    threads: list[int] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            threads.append(record.thread or 0)

    logger = logging.getLogger(EXAMPLES["pitfall_long_job_wrong"].import_path)
    handler = Keep(logging.INFO)
    logger.addHandler(handler)
    yield threads
    logger.removeHandler(handler)


async def test_a_long_sync_job_holds_a_worker_thread_not_the_event_loop(
    load_example: Callable[[str], ModuleType], job_threads: list[int]
) -> None:
    example = EXAMPLES["pitfall_long_job_wrong"]
    app = load_example("pitfall_long_job_wrong").app
    watch = JobWatch()
    app.task_runner.add_listener(watch)
    results: dict[str, Timeline] = {}

    async def request_report(recorder: Recorder) -> None:
        results["job"] = await recorder.request(example.method, example.path, json=example.json)

    async with Recorder(app) as recorder, anyio.create_task_group() as group:
        group.start_soon(request_report, recorder)
        with anyio.fail_after(10):
            await watch.started.wait()
        # the one-second job is running now: it holds one of the runner's threads...
        assert app.task_runner.limiter.borrowed_tokens == 1
        # ...while the event loop stays free to answer another request at once
        other = await recorder.request("GET", "/openapi.json")
        assert other.status == 200
        assert not watch.finished, "the job ended before the other request was answered"

    job = results["job"]
    assert job.status == 202 and job.task_names("task_finished") == ["build_monthly_report"]
    assert app.task_runner.limiter.borrowed_tokens == 0
    assert len(job_threads) == 1 and job_threads[0] != threading.get_ident()
