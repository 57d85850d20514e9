"""An order answers 201, then an async task posts a webhook about it with httpx.

The URL comes from the client, so it is checked first: http(s) only, and never
an address inside our own network (private, loopback, link-local), which would
let a client make the server call its neighbours. For a receiver on your own
machine, list its host in `WEBHOOK_ALLOWED_HOSTS` (e.g. `127.0.0.1`).
"""

import ipaddress
import itertools
import logging
import os
import socket
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx

from ravyn import BackgroundTask, Ravyn, post
from ravyn.exceptions import FieldError, RequestError
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)
order_ids = itertools.count(1)


def refuse(problem: str) -> RequestError:
    return RequestError(
        400, "Invalid request: webhook_url", [FieldError(["body", "webhook_url"], "invalid_value", problem)]
    )


async def checked_webhook_url(url: str) -> str:
    """`url` if it is an http(s) URL whose host is on the public internet; else a 400 naming the field."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise refuse("must be an http:// or https:// URL")
    if parts.hostname in os.environ.get("WEBHOOK_ALLOWED_HOSTS", "").split(","):
        return url
    try:
        addresses = await anyio.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        raise refuse(f"cannot resolve the host {parts.hostname!r}") from None
    if not all(ipaddress.ip_address(address[4][0]).is_global for address in addresses):
        raise refuse("must not point to a private, loopback or link-local address")
    return url


async def send_webhook(url: str, event: dict[str, Any]) -> None:
    """POST the event; a non-2xx answer raises, so Ravyn logs the failure with this task's name."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        response = await client.post(url, json=event)
        response.raise_for_status()
    logger.info("Webhook for order %s delivered (HTTP %s)", event["order_id"], response.status_code)


@post("/orders")
async def place_order(sku: str, quantity: int, webhook_url: str) -> JSONResponse:
    url = await checked_webhook_url(webhook_url)
    order_id = next(order_ids)  # saving the order is the fast part
    event = {"event": "order.created", "order_id": order_id, "sku": sku, "quantity": quantity}
    return JSONResponse(
        {"order_id": order_id, "status": "created"},
        status_code=201,
        background=BackgroundTask(send_webhook, url, event),
    )


app = Ravyn()
app.add_route(place_order)
