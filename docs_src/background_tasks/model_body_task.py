"""A pydantic model as the request body; the confirmation email is a task that gets the validated order.

`order: Order` receives the whole JSON body, validated by pydantic before the
handler runs: a missing field or a negative quantity is a 400 naming it, and
no task is added.
"""

import logging
import time

from pydantic import BaseModel, Field

from ravyn import BackgroundTasks, Ravyn, post

logger = logging.getLogger(__name__)


class OrderLine(BaseModel):
    product: str
    quantity: int = Field(ge=1)


class Order(BaseModel):
    email: str
    lines: list[OrderLine]


def send_order_confirmation(order: Order) -> None:
    time.sleep(0.05)  # stands in for a call to the mail provider
    items = sum(line.quantity for line in order.lines)
    logger.info("Confirmation for %d items sent to %s", items, order.email)


@post("/orders", status_code=202)
def place_order(order: Order, tasks: BackgroundTasks) -> dict[str, object]:
    tasks.add_task(send_order_confirmation, order)
    return {"status": "accepted", "lines": len(order.lines)}


app = Ravyn(routes=[place_order])
