"""Building a request's timeline from the client's and the server's events."""

from __future__ import annotations

import re

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


def test_a_task_done_before_the_client_read_its_answer_never_gets_a_negative_figure() -> None:
    view = _view(
        ("request_sent", 0.0, {"method": "POST", "path": "/x"}),
        ("response_sent", 0.001, {"status": 201}),
        ("task_started", 0.0015, {"name": "note"}),
        ("task_finished", 0.0018, {"name": "note", "duration": 0.0003}),
        ("response", 0.0025, {"status": 201, "reason": "Created", "body": "{}", "elapsed": 0.0025}),
        ("call_complete", 0.003, {}),
    )

    said = takeaway(view).plain

    assert "-" not in said.replace("no-one", "")
    assert "note ran after the response was sent, and nobody waited for them" in said


def test_a_task_has_one_duration_wherever_it_is_shown() -> None:
    from rich.console import Console

    from ravyn_tutorial.render import bars, timeline_table

    # the runner measured 104.6 ms; the events' own clock says 110 ms
    view = _view(
        ("request_sent", 0.0, {"method": "POST", "path": "/x"}),
        ("response", 0.003, {"status": 201, "reason": "Created", "body": "{}", "elapsed": 0.003}),
        ("task_started", 0.004, {"name": "job"}),
        ("task_finished", 0.114, {"name": "job", "duration": 0.1046}),
        ("call_complete", 0.115, {}),
    )
    console = Console(width=80, record=True, file=__import__("io").StringIO())
    console.print(timeline_table(view))
    console.print(bars(view, 80))
    console.print(takeaway(view))
    drawn = console.export_text()

    figures = set(re.findall(r"job finished in ([\d.]+ m?s)", drawn))
    bar = re.search(r"^job\s+█+\s+([\d.]+ m?s)$", drawn, re.MULTILINE)
    assert figures == {"105 ms"}
    assert bar is not None and bar.group(1) == "105 ms", drawn


def test_a_pitfall_lesson_ends_on_what_went_wrong_and_where_the_fix_is() -> None:
    from ravyn_tutorial.pitfalls import what_went_wrong

    view = _view(
        ("request_sent", 0.0, {"method": "POST", "path": "/refunds"}),
        ("response", 0.002, {"status": 202, "reason": "Accepted", "body": "{}", "elapsed": 0.002}),
        ("task_started", 0.003, {"name": "issue_refund"}),
        ("task_failed", 0.05, {"name": "issue_refund", "duration": 0.047, "error": "KeyError: 'amount'"}),
    )
    lessons = ["pitfall_silent_error_wrong", "pitfall_logged_error_right", "quick_start"]

    ending = what_went_wrong("pitfall_silent_error_wrong", view, lessons)

    assert ending is not None
    assert ending.plain.startswith(
        "What went wrong: issue_refund failed (KeyError: 'amount') after the client"
    )
    assert ending.plain.endswith("The fix: ravyn-tutorial run pitfall_logged_error_right")
    assert what_went_wrong("quick_start", view, lessons) is None
