"""Fix: the task catches the error it can expect and logs it with the context needed to act on it."""

import logging
import time
from typing import Any

from ravyn import BackgroundTask, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)


def issue_refund(payment: dict[str, Any]) -> None:
    time.sleep(0.05)  # stands in for a call to the payment provider
    try:
        amount = payment["amount"]
    except KeyError:
        # the client is gone: the log (and whatever alerts on it) is the only place this can go
        logger.exception("Refund for payment %s not issued: the record has no amount", payment["id"])
        return
    logger.info("Refunded %s for payment %s", amount, payment["id"])


@post("/refunds")
def request_refund(payment_id: str) -> JSONResponse:
    payment = {"id": payment_id, "currency": "EUR"}  # a record loaded without its amount
    task = BackgroundTask(issue_refund, payment)
    return JSONResponse({"status": "refund requested"}, status_code=202, background=task)


app = Ravyn()
app.add_route(request_refund)
