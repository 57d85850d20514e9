"""The Where it runs page's claims, measured again with real uvicorn servers on 127.0.0.1.

Each case is the page's measurement (`docs_src/where_it_runs/measure.py`) with
shorter tasks; the assertions are about order and counts, with the only time
bounds those the design guarantees (a slot cannot free before its task's length).
"""

from __future__ import annotations

import json
from pathlib import Path

from docs_src.where_it_runs import measure
from docs_src.where_it_runs.report import table

HERE = Path(measure.__file__).parent


def test_a_request_holds_its_concurrency_slot_until_its_tasks_end() -> None:
    result = measure.concurrency_limit(limit=2, task_seconds=2.0, poll=0.2)

    assert [status for status, _ in result.answered] == [202, 202]
    assert result.refused >= 1, "the next request was let in while both tasks still ran"
    assert result.first_refused_at is not None and result.first_refused_at < result.task_seconds
    # the first task started after the first response: its slot cannot free before it ends
    assert result.admitted_status == 202
    assert result.admitted_at is not None and result.admitted_at >= result.task_seconds


def test_each_worker_runs_and_counts_only_the_tasks_of_the_requests_it_answered() -> None:
    result = measure.several_workers(workers=2, requests=10, task_seconds=0.2)

    assert sum(result.answered_by.values()) == 10
    assert result.ran_where_answered
    assert result.started_per_process == result.answered_by


def test_recycled_workers_finish_their_tasks_before_they_exit() -> None:
    result = measure.recycling(workers=2, max_requests=2, requests=8, task_seconds=0.5)

    assert result.failed == []
    assert result.accepted == 8
    assert result.processes > 2, "no worker was replaced: the limit did not apply"
    assert (result.tasks_done, result.lost_lines) == (8, 0)


def test_a_drain_longer_than_the_grace_period_loses_the_task_without_a_word() -> None:
    result = measure.grace_period(drain_timeout=30.0, grace=3.0, task_seconds=20.0)

    assert result.killed
    assert (result.lost_logged, result.task_done) == (False, False)


def test_a_drain_shorter_than_the_grace_period_logs_the_task_it_cuts_off() -> None:
    result = measure.grace_period(drain_timeout=2.0, grace=8.0, task_seconds=20.0)

    assert not result.killed
    assert result.exited_at is not None and result.exited_at >= 2.0  # it drained before it gave up
    assert (result.lost_logged, result.task_done) == (True, False)


def test_the_page_table_is_the_recorded_measurement() -> None:
    results = json.loads((HERE / "results.json").read_text("utf-8"))

    assert (HERE / "results.md").read_text("utf-8") == table(results)
    assert results["grace_default_drain"]["killed"] and not results["grace_default_drain"]["lost_logged"]
    assert results["grace_short_drain"]["lost_logged"] and not results["grace_short_drain"]["killed"]
    assert results["concurrency_limit"]["refused"] > 0
