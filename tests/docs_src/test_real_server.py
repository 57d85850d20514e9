"""Three examples under a real uvicorn: the client holds the whole response while a task still runs.

Each task takes about a second here (a long scan, a slow webhook receiver, the
long job), so the checks have a second of margin: the side effect is absent
when the response is in the client's hands, and shows up afterwards.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from docs_src.catalogue import EXAMPLES
from tests.docs_src.receiver import WebhookReceiver
from tests.docs_src.servers import serve_example

CLIENT_TIMEOUT = 10.0


def post_catalogue_request(base: str, name: str, **json_overrides: object) -> httpx.Response:
    """Send the example's catalogue request; return once the whole response has been read."""
    example = EXAMPLES[name]
    return httpx.request(
        example.method,
        base + example.path,
        json={**example.json, **json_overrides},
        timeout=CLIENT_TIMEOUT,
        trust_env=False,
    )


def test_an_upload_is_answered_before_its_one_second_scan_ends(tmp_path: Path) -> None:
    example = EXAMPLES["upload_accepted"]
    env = {"UPLOAD_DIR": str(tmp_path), "UPLOAD_SCAN_SECONDS": "1.0"}
    with serve_example("upload_accepted", env=env) as (base, output):
        response = post_catalogue_request(base, "upload_accepted")
        assert (response.status_code, response.json()) == (example.status, example.body)
        report = tmp_path / "quarterly-report.pdf.scan.txt"
        assert not report.exists(), "the scan ended before the client had its answer"

        output.wait_for(example.effects[0])
    assert report.read_text() == "clean, uploaded by user 7\n"


def test_an_order_is_answered_while_its_webhook_is_still_in_flight() -> None:
    example = EXAMPLES["webhook_notification"]
    with (
        WebhookReceiver(reply_delay=1.0) as receiver,
        serve_example("webhook_notification") as (base, output),
    ):
        response = post_catalogue_request(base, "webhook_notification", webhook_url=f"{receiver.url}/hooks")
        assert (response.status_code, response.json()) == (example.status, example.body)
        assert receiver.replied == 0, "the webhook was answered before the client had its answer"
        assert output.matching("delivered") == []

        output.wait_for(example.effects[0])
        [delivery] = receiver.wait_for(1)
    assert delivery.payload == {"event": "order.created", "order_id": 1, "sku": "KB-42", "quantity": 2}


def test_the_long_job_is_answered_at_once_and_finishes_a_second_later() -> None:
    example = EXAMPLES["pitfall_long_job_wrong"]
    with serve_example("pitfall_long_job_wrong") as (base, output):
        sent = time.monotonic()
        response = post_catalogue_request(base, "pitfall_long_job_wrong")
        assert (response.status_code, response.json()) == (example.status, example.body)
        assert output.matching(example.effects[0]) == [], "the job ended before the client had its answer"

        output.wait_for(example.effects[0])
        assert time.monotonic() - sent >= 1.0  # the job's full second, spent after the answer


def test_a_task_reading_the_request_after_the_response_fails_and_is_logged_by_name() -> None:
    example = EXAMPLES["pitfall_request_in_task_wrong"]
    with serve_example("pitfall_request_in_task_wrong") as (base, output):
        response = post_catalogue_request(base, "pitfall_request_in_task_wrong")
        assert (response.status_code, response.json()) == (example.status, example.body)

        failure = output.wait_for("Background task store_feedback(")
    assert "ClientDisconnect" in failure
    assert output.matching("Feedback from") == []  # the task never got as far as storing anything
