"""The failure modes the pitfalls describe, shown for real, next to their fixes."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType

import anyio
import pytest

from docs_src.catalogue import EXAMPLES
from ravyn.runner import TaskEvent
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
    [computed] = task_effects(timeline, EXAMPLES["pitfall_return_value_wrong"])
    assert computed.detail["text"] == "Cart total computed: 42.5"
    assert timeline.response_complete < computed  # ...once the client had gone
    assert b"42.5" not in timeline.body


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


async def test_a_long_job_that_never_awaits_makes_other_clients_wait(
    load_example: Callable[[str], ModuleType],
) -> None:
    """A second client, outside the event loop like a real one, asks for something
    else 0.1 s into the one-second job: it gets its answer only when the job ends."""
    example = EXAMPLES["pitfall_long_job_wrong"]
    app = load_example("pitfall_long_job_wrong").app
    watch = JobWatch()
    app.task_runner.add_listener(watch)
    results: dict[str, Timeline] = {}

    def second_client(recorder: Recorder) -> tuple[float, bool]:
        time.sleep(0.1)
        sent = time.perf_counter()
        other = anyio.from_thread.run(recorder.request, "GET", "/openapi.json")
        assert other.status == 200
        return other.started + other.response_complete.at - sent, watch.finished

    async with Recorder(app) as recorder, anyio.create_task_group() as group:

        async def request_report() -> None:
            results["job"] = await recorder.request(example.method, example.path, json=example.json)

        group.start_soon(request_report)
        waited, job_done_first = await anyio.to_thread.run_sync(second_client, recorder)

    job = results["job"]
    assert job.status == 202 and job.task_names("task_finished") == ["build_monthly_report"]
    assert job_done_first, "the other client was answered while the job still ran"
    assert waited >= 0.5  # most of the job's second, with a generous margin
