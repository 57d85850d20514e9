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
