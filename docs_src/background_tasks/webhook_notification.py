"""An order answers 201, then an async task posts a webhook about it with httpx.

The URL comes from the client, so `safe_urls.vet_url` checks it first (a 400
naming `webhook_url` for anything that is not a public http(s) address), and
the task sends with `safe_urls.pinned_client`, which connects only to the
address that was checked. For a receiver on your own machine, allow its host
and port: `WEBHOOK_ALLOWED_HOSTS=127.0.0.1:9000`.
"""

import itertools
import logging
from typing import Any

from docs_src.background_tasks.safe_urls import VettedURL, pinned_client, vet_url
from ravyn import BackgroundTask, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)
order_ids = itertools.count(1)


async def send_webhook(target: VettedURL, event: dict[str, Any]) -> None:
    """POST the event; a non-2xx answer raises, so Ravyn logs the failure with this task's name."""
    async with pinned_client(target, timeout=10.0) as client:
        response = await client.post(target.url, json=event)
        response.raise_for_status()
    logger.info("Webhook for order %s delivered (HTTP %s)", event["order_id"], response.status_code)


@post("/orders")
async def place_order(sku: str, quantity: int, webhook_url: str) -> JSONResponse:
    target = await vet_url(webhook_url, field="webhook_url")
    order_id = next(order_ids)  # saving the order is the fast part
    event = {"event": "order.created", "order_id": order_id, "sku": sku, "quantity": quantity}
    return JSONResponse(
        {"order_id": order_id, "status": "created"},
        status_code=201,
        background=BackgroundTask(send_webhook, target, event),
    )


app = Ravyn()
app.add_route(place_order)
