"""The webhook example posts its event to a real receiver on 127.0.0.1, after the response."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

from docs_src.catalogue import EXAMPLES
from ravyn.testing import record
from tests.docs_src.examples import task_effects
from tests.docs_src.receiver import WebhookReceiver

pytestmark = pytest.mark.anyio


async def test_the_receiver_gets_the_order_event_once_after_the_response(
    load_example: Callable[[str], ModuleType], webhook_receiver: WebhookReceiver
) -> None:
    example = EXAMPLES["webhook_notification"]
    app = load_example("webhook_notification").app
    body = {**example.json, "webhook_url": f"{webhook_receiver.url}/hooks/orders"}

    timeline = await record(app, example.method, example.path, json=body)

    assert (timeline.status, timeline.json()) == (201, {"order_id": 1, "status": "created"})
    [delivery] = webhook_receiver.wait_for(1)
    assert delivery.path == "/hooks/orders"
    assert delivery.content_type == "application/json"
    assert delivery.payload == {"event": "order.created", "order_id": 1, "sku": "KB-42", "quantity": 2}
    assert timeline.started + timeline.response_complete.at < delivery.received_at
    assert [event.detail["text"] for event in task_effects(timeline, example)] == list(example.effects)


async def test_a_receiver_that_is_down_makes_the_task_fail_in_the_log_not_the_response(
    load_example: Callable[[str], ModuleType],
) -> None:
    example = EXAMPLES["webhook_notification"]
    app = load_example("webhook_notification").app
    with WebhookReceiver() as receiver:
        gone = receiver.url  # a loopback port that nothing listens on once the block ends
    body = {**example.json, "webhook_url": f"{gone}/hooks/orders"}

    timeline = await record(app, example.method, example.path, json=body)

    assert timeline.status == 201
    assert timeline.task_names("task_failed") == ["send_webhook"]
    assert any("ConnectError" in line for line in timeline.lines())
