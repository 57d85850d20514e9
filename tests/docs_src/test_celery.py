"""The long job handed to Celery: the request returns at once, the job runs later on a real worker.

Celery runs embedded here, as `celery_app` does with no broker configured: the
in-memory transport and result store, and a worker thread that the example
app's lifespan starts (`celery.contrib.testing.worker`) and stops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import anyio.to_thread
import pytest
from celery import signals

from docs_src.catalogue import EXAMPLES
from ravyn.testing import Recorder

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class JobRun:
    """One job as a worker saw it, from Celery's `task_prerun` signal."""

    task_id: str
    task_name: str
    is_eager: bool
    delivery_info: dict[str, Any]
    thread: int
    started_at: float


@pytest.fixture
def job_runs() -> Iterator[list[JobRun]]:
    """Every job a worker starts during the test."""
    runs: list[JobRun] = []

    def on_prerun(task_id: str, task: Any, **_: Any) -> None:
        request = task.request
        runs.append(
            JobRun(
                task_id,
                task.name,
                bool(request.is_eager),
                dict(request.delivery_info or {}),
                threading.get_ident(),
                time.perf_counter(),
            )
        )

    signals.task_prerun.connect(on_prerun, weak=False)
    yield runs
    signals.task_prerun.disconnect(on_prerun)


@pytest.fixture
def job_logs() -> Iterator[list[logging.LogRecord]]:
    """The records the example's own logger writes, from any thread, at any time in the test."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger(EXAMPLES["pitfall_long_job_celery"].import_path)
    handler, previous_level = Keep(logging.INFO), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(previous_level)


async def test_the_request_returns_before_the_job_runs_on_a_celery_worker(
    load_example: Callable[[str], ModuleType], job_runs: list[JobRun], job_logs: list[logging.LogRecord]
) -> None:
    example = EXAMPLES["pitfall_long_job_celery"]
    module = load_example("pitfall_long_job_celery")
    assert module.celery.conf.broker_url.startswith("memory://")  # embedded: no broker service needed

    async with Recorder(module.app) as recorder:
        timeline = await recorder.request(example.method, example.path, json=example.json)
        job_id = timeline.json()["job_id"]
        result = module.build_monthly_report.AsyncResult(job_id)
        value = await anyio.to_thread.run_sync(lambda: result.get(timeout=30))

    assert (timeline.status, timeline.json()) == (202, {"status": "queued", "job_id": job_id})
    assert timeline.all("task_started") == []  # no background task: the job went to the broker
    assert value == {"month": "2024-05", "status": "built"}
    assert result.state == "SUCCESS"

    [run] = [run for run in job_runs if run.task_id == job_id]
    # the client had its whole answer before the worker started the job
    assert timeline.started + timeline.response_complete.at < run.started_at
    # ... and the job came off the broker to a worker thread, not run eagerly in the request
    assert run.task_name == "docs_src.background_tasks.pitfall_long_job_celery.build_monthly_report"
    assert not run.is_eager
    assert run.delivery_info.get("routing_key") == "celery"
    assert run.thread != threading.get_ident()

    built = [record for record in job_logs if f"(job {job_id} on " in record.getMessage()]
    assert len(built) == 1
    assert built[0].thread == run.thread


def test_the_job_is_configured_for_long_work(load_example: Callable[[str], ModuleType]) -> None:
    """The settings that make a queue worth using for long jobs: late acks, JSON, limits, retries."""
    build_monthly_report = load_example("pitfall_long_job_celery").build_monthly_report
    conf = load_example("celery_app").celery.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.task_serializer == "json" and list(conf.accept_content) == ["json"]
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert build_monthly_report.autoretry_for == (ConnectionError,)
    assert build_monthly_report.retry_backoff and build_monthly_report.max_retries == 5
