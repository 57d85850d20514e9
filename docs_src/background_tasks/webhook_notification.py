"""An order answers 201, then an async task posts a webhook about it with httpx."""

import itertools
import logging
from typing import Any
from urllib.parse import urlsplit

import httpx

from ravyn import BackgroundTask, Ravyn, post
from ravyn.exceptions import FieldError, RequestError
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)
order_ids = itertools.count(1)


def checked_webhook_url(url: str) -> str:
    """`url` if it is an http(s) URL with a host; a 400 naming the field otherwise.

    A public service would also refuse private and loopback hosts, so that
    clients cannot make it call into its own network.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RequestError(
            400,
            "Invalid request: webhook_url",
            [FieldError(["body", "webhook_url"], "invalid_value", "must be an http:// or https:// URL")],
        )
    return url


async def send_webhook(url: str, event: dict[str, Any]) -> None:
    """POST the event; a non-2xx answer raises, so Ravyn logs the failure with this task's name."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        response = await client.post(url, json=event)
        response.raise_for_status()
    logger.info("Webhook for order %s delivered (HTTP %s)", event["order_id"], response.status_code)


@post("/orders")
async def place_order(sku: str, quantity: int, webhook_url: str) -> JSONResponse:
    url = checked_webhook_url(webhook_url)
    order_id = next(order_ids)  # saving the order is the fast part
    event = {"event": "order.created", "order_id": order_id, "sku": sku, "quantity": quantity}
    return JSONResponse(
        {"order_id": order_id, "status": "created"},
        status_code=201,
        background=BackgroundTask(send_webhook, url, event),
    )


app = Ravyn()
app.add_route(place_order)
