"""The comparison's measurements, run shorter: what the guide's table says each side does, it does.

The same code as `python -m docs_src.queue_comparison`, with a two-second job
instead of five, a four-second visibility timeout and 40 jobs instead of 1 000.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docs_src.queue_comparison import compare
from docs_src.queue_comparison.compare import Comparison, Settings

SHORT = Settings(
    job_seconds=2.0,
    kill_after=0.5,
    visibility_timeout=4.0,
    drain_timeout=0.5,
    background_retry_delay=0.5,
    jobs=40,
    worker_counts=(2,),
)


@pytest.fixture
def comparison(redis_url: str, tmp_path: Path) -> Comparison:
    return Comparison(redis_url, tmp_path, SHORT)


def test_a_crash_loses_the_background_task_and_another_worker_runs_the_celery_job(
    comparison: Comparison,
) -> None:
    crash = comparison.crash()

    lost = crash["background_task"]
    assert lost["attempts"] == 1 and not lost["completed"]
    assert lost["watched_for_s"] > SHORT.job_seconds + 1  # long past the job's end

    kept = crash["celery"]
    assert kept["completed"] and kept["attempts"] == 2
    assert kept["finished_on"] != kept["killed_worker"]
    # Redis gave the job out again only once the visibility timeout had passed
    assert SHORT.visibility_timeout - 0.5 < kept["restarted_after_s"] < SHORT.visibility_timeout + 5
    assert kept["finished_after_s"] >= kept["restarted_after_s"] + SHORT.job_seconds


def test_a_deploy_cuts_the_background_task_off_and_waits_for_the_celery_job(comparison: Comparison) -> None:
    deploy = comparison.deploy()

    cut = deploy["background_task"]
    assert not cut["completed"] and cut["logged_lost"]
    assert cut["exited_after_s"] < SHORT.job_seconds  # the server left when its drain ran out

    warm = deploy["celery"]
    assert warm["completed"]
    assert warm["exited_after_s"] >= warm["done_after_s"]


def test_a_job_failing_twice_is_given_up_as_a_task_and_retried_by_celery(comparison: Comparison) -> None:
    flaky = comparison.flaky()

    plain = flaky["background_task"]
    assert (plain["attempts"], plain["completed"]) == (1, False)
    counted = ("started", "succeeded", "failed", "retried", "lost")
    assert {key: plain["task_stats"][key] for key in counted} == {
        "started": 1,
        "succeeded": 0,
        "failed": 1,
        "retried": 0,
        "lost": 0,
    }

    retried = flaky["background_task_with_retries"]
    assert (retried["attempts"], retried["completed"]) == (3, True)
    assert retried["task_stats"]["retried"] == 2 and retried["task_stats"]["succeeded"] == 1

    celery = flaky["celery"]
    assert (celery["attempts"], celery["completed"]) == (3, True)
    assert celery["states"][-1] == "SUCCESS" and celery["states"].count("RETRY") == 2
    assert celery["done_after_s"] >= 1 + 2  # the back-off: 1 s, then 2 s


def test_every_short_job_runs_once_each_way(comparison: Comparison) -> None:
    many = comparison.throughput()

    assert set(many) == {"background_task", "celery_2_workers"}
    for run in many.values():
        assert (run["completed"], run["ran_twice"]) == (SHORT.jobs, 0)
        assert run["wall_s"] >= SHORT.short_job_seconds
        assert 0 < run["client_wait"]["median_ms"] <= run["client_wait"]["p95_ms"]
    assert len(comparison.worker_starts) == 1


def test_the_committed_table_is_rendered_from_the_committed_numbers() -> None:
    results = json.loads((compare.RESULTS_DIR / "results.json").read_text())
    assert (compare.RESULTS_DIR / "results.md").read_text() == compare.render_markdown(results)
    assert results["command"] == compare.COMMAND == "python -m docs_src.queue_comparison"
    assert results["settings"]["jobs"] == 1000
    assert results["crash"]["background_task"]["completed"] is False
    assert results["crash"]["celery"]["completed"] is True
