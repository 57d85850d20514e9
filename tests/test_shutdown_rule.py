"""`StopSignals`, the rule that tells a supervisor's relayed SIGTERM from the
operator's second signal, checked with a clock and a parent pid of our own
(the same rule under a real uvicorn is in `test_shutdown_supervised.py`)."""

from __future__ import annotations

import signal

import pytest

from ravyn.shutdown import RELAY_WINDOW, StopSignals

SUPERVISOR = 4100


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def worker(clock: Clock, parent: int = SUPERVISOR) -> StopSignals:
    """The rule in a worker that `SUPERVISOR` started, whose parent is now `parent`."""
    return StopSignals(SUPERVISOR, parent_pid=lambda: parent, clock=clock)


@pytest.mark.parametrize("first", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_the_first_stop_signal_starts_the_drain(first: signal.Signals) -> None:
    assert worker(Clock()).meaning(first) == "drain"
    assert StopSignals(None).meaning(first) == "drain"


@pytest.mark.parametrize("first", [signal.SIGTERM, signal.SIGINT])
def test_a_worker_takes_the_sigterm_after_the_group_signal_as_its_supervisors_relay(
    first: signal.Signals,
) -> None:
    clock = Clock()
    rule = worker(clock)
    assert rule.meaning(first) == "drain"
    clock.now += 0.5  # uvicorn --workers looks at its signals twice a second
    assert rule.meaning(signal.SIGTERM) == "relay"


def test_only_one_relay_is_absorbed_the_next_sigterm_stops_at_once() -> None:
    clock = Clock()
    rule = worker(clock)
    rule.meaning(signal.SIGTERM)
    assert rule.meaning(signal.SIGTERM) == "relay"
    clock.now += 1
    assert rule.meaning(signal.SIGTERM) == "at once"


def test_sigint_is_never_a_relay_ctrl_c_twice_stops_at_once() -> None:
    clock = Clock()
    rule = worker(clock)
    rule.meaning(signal.SIGINT)
    clock.now += 0.1
    assert rule.meaning(signal.SIGINT) == "at once"


def test_ctrl_c_twice_under_a_supervisor_stops_at_once_after_the_relay() -> None:
    clock = Clock()
    rule = worker(clock)
    assert [rule.meaning(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGINT)] == [
        "drain",
        "relay",
        "at once",
    ]


def test_without_a_supervisor_a_second_sigterm_is_the_operators() -> None:
    clock = Clock()
    rule = StopSignals(None, parent_pid=lambda: 1, clock=clock)
    rule.meaning(signal.SIGTERM)
    clock.now += 0.1
    assert rule.meaning(signal.SIGTERM) == "at once"


def test_an_orphaned_worker_expects_no_relay() -> None:
    clock = Clock()
    rule = worker(clock, parent=1)  # the supervisor died: init adopted the worker
    rule.meaning(signal.SIGINT)
    assert rule.meaning(signal.SIGTERM) == "at once"


def test_a_relay_seconds_late_is_still_the_relay() -> None:
    """`--reload` without watchfiles passes Ctrl+C on only between two scans of every
    .py file under its folder: on a loaded CI machine, more than 5 s later."""
    clock = Clock()
    rule = worker(clock)
    rule.meaning(signal.SIGINT)
    clock.now += 12.0
    assert rule.meaning(signal.SIGTERM) == "relay"
    assert rule.meaning(signal.SIGTERM) == "at once"  # the operator's, after it


def test_a_sigterm_after_the_relay_window_is_the_operators() -> None:
    clock = Clock()
    rule = worker(clock)
    rule.meaning(signal.SIGINT)
    clock.now += RELAY_WINDOW + 0.1
    assert rule.meaning(signal.SIGTERM) == "at once"


def test_after_sighup_the_relay_may_come_late() -> None:
    """Under --workers, the supervisor answers SIGHUP by replacing the workers one
    at a time: a worker's SIGTERM comes once its replacement is ready, after the
    drains of the workers before it."""
    clock = Clock()
    rule = worker(clock)
    rule.meaning(signal.SIGHUP)
    clock.now += 10 * RELAY_WINDOW
    assert rule.meaning(signal.SIGTERM) == "relay"
    assert rule.meaning(signal.SIGINT) == "at once"


@pytest.mark.parametrize("first", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_sighup_during_the_drain_changes_nothing(first: signal.Signals) -> None:
    for rule in (worker(Clock()), StopSignals(None)):
        rule.meaning(first)
        assert rule.meaning(signal.SIGHUP) == "again"
        assert rule.meaning(signal.SIGHUP) == "again"
