"""Pitfall: a task that does not handle its errors.

The client already has its 202 when the task raises `KeyError`, so nobody is
told. Ravyn at least logs the failure on the `ravyn.background` logger, with
the task's name and traceback; nothing in the task reports or recovers.
"""

import logging
import time
from typing import Any

from ravyn import BackgroundTask, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)


def issue_refund(payment: dict[str, Any]) -> None:
    time.sleep(0.05)  # stands in for a call to the payment provider
    amount = payment["amount"]  # KeyError: the record has no amount
    logger.info("Refunded %s for payment %s", amount, payment["id"])


@post("/refunds")
def request_refund(payment_id: str) -> JSONResponse:
    payment = {"id": payment_id, "currency": "EUR"}  # a record loaded without its amount
    task = BackgroundTask(issue_refund, payment)
    return JSONResponse({"status": "refund requested"}, status_code=202, background=task)


app = Ravyn()
app.add_route(request_refund)
