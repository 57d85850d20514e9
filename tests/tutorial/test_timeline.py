"""Building a request's timeline from the client's and the server's events."""

from __future__ import annotations

from ravyn_tutorial.render import takeaway
from ravyn_tutorial.timeline import Event, RequestView, format_duration


def _view(*events: tuple[str, float, dict[str, object]]) -> RequestView:
    view = RequestView("r")
    for kind, t, fields in events:
        view.apply(Event(kind, 1000.0 + t, "r", dict(fields)))
    return view


def test_rows_are_ordered_by_time_whatever_order_they_arrive_in() -> None:
    view = _view(
        ("request_sent", 0.0, {"method": "POST", "path": "/x", "json": {"a": 1}}),
        ("task_started", 0.004, {"name": "job"}),
        ("response_sent", 0.002, {"status": 201}),
        ("response", 0.003, {"status": 201, "reason": "Created", "body": "{}", "elapsed": 0.003}),
        ("task_finished", 0.104, {"name": "job", "duration": 0.1}),
        ("call_complete", 0.105, {}),
    )

    assert [row.kind for row in view.rows] == [
        "request",
        "response_sent",
        "response",
        "task_started",
        "task_finished",
    ]
    assert view.done
    assert view.tasks[0].duration is not None and abs(view.tasks[0].duration - 0.1) < 1e-6
    assert "went on for another 101 ms with nobody waiting" in takeaway(view).plain


def test_not_done_until_the_server_finished_the_call() -> None:
    view = _view(
        ("request_sent", 0.0, {"method": "GET", "path": "/"}),
        ("response", 0.003, {"status": 200, "reason": "OK", "body": "{}", "elapsed": 0.003}),
        ("task_started", 0.004, {"name": "job"}),
    )

    assert view.answered and not view.done
    assert [span.name for span in view.running] == ["job"]


def test_a_failed_task_is_named_in_the_takeaway() -> None:
    view = _view(
        ("request_sent", 0.0, {"method": "POST", "path": "/x"}),
        ("response_sent", 0.001, {"status": 202}),
        ("response", 0.002, {"status": 202, "reason": "Accepted", "body": "{}", "elapsed": 0.002}),
        ("task_started", 0.003, {"name": "refund"}),
        ("task_failed", 0.01, {"name": "refund", "duration": 0.007, "error": "KeyError: 'amount'"}),
        ("call_complete", 0.011, {}),
    )

    assert view.failed[0].error == "KeyError: 'amount'"
    assert "refund failed (KeyError: 'amount'): it was logged" in takeaway(view).plain


def test_a_line_that_is_not_an_event_becomes_output() -> None:
    event = Event.from_json("hello from print\n")

    assert event.kind == "output"
    assert event.get("text") == "hello from print"


def test_durations_read_well() -> None:
    assert format_duration(0.0031) == "3.1 ms"
    assert format_duration(0.104) == "104 ms"
    assert format_duration(1.2) == "1.20 s"


def test_retries_losses_and_the_apps_task_counters_are_shown() -> None:
    view = _view(
        ("request_sent", 0.0, {"method": "POST", "path": "/hooks"}),
        ("task_started", 0.004, {"name": "send_webhook"}),
        ("task_retrying", 0.05, {"name": "send_webhook", "attempt": 1, "error": "ConnectError: refused"}),
        ("task_finished", 0.2, {"name": "send_webhook", "duration": 0.196}),
        ("task_lost", 0.3, {"name": "export_orders"}),
        ("call_complete", 0.31, {}),
        (
            "task_stats",
            0.311,
            {"started": 2, "succeeded": 1, "failed": 0, "retried": 1, "lost": 1, "running": 0},
        ),
    )
    texts = {row.kind: row.text for row in view.rows}
    assert texts["task_retrying"] == "↻ send_webhook attempt 1 failed, retrying"
    assert texts["task_lost"] == "✘ export_orders lost at shutdown"
    assert texts["task_stats"] == "task_stats: 2 started, 1 succeeded, 0 failed, 1 retried, 1 lost"
