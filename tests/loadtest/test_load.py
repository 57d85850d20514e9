"""A small run of `python -m loadtest`: the same invariants as the full run, fewer requests."""

from __future__ import annotations

from loadtest.__main__ import main
from loadtest.runner import run_load


def test_no_task_lost_or_run_twice_and_no_leak() -> None:
    result = run_load(requests=600, concurrency=20, warmup=200)
    assert result.ok, result.table()
    assert result.statuses == {201: 600}


def test_the_command_rejects_bad_arguments(capsys: object) -> None:
    import pytest

    with pytest.raises(SystemExit) as exit_info:
        main(["--requests", "0"])
    assert exit_info.value.code == 2


def test_a_short_soak_counts_every_task_and_shows_the_backlog() -> None:
    """The soak's plumbing and counting on a few seconds of load (the memory
    figures are for the full run: `python -m loadtest --soak`)."""
    from loadtest.soak import run_soak

    result = run_soak(seconds=3, concurrency=8, sample_every=1, warmup=0, task_seconds=0.5)
    assert not result.problems, result.table()
    assert result.responses.get(201, 0) > 0
    assert len(result.samples) >= 3 and "| time (s) |" in result.table()
    assert result.after["task_running"] == 0
    # each accepted request's two tasks ended: one succeeded, one failed, or was rejected (counted and
    # logged) when the app held max_pending_tasks at once, which a fast machine can reach in 3 s
    after, accepted = result.after, result.responses[201]
    assert after["task_succeeded"] + after["task_failed"] + after["task_rejected"] == 2 * accepted
    assert after["task_succeeded"] <= accepted and after["task_failed"] <= accepted
