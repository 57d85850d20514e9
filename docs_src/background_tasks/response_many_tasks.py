"""Several tasks on one response; they run in the order given, after the body is sent."""

import logging
import time

from ravyn import BackgroundTask, BackgroundTasks, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)


def email_receipt(email: str) -> None:
    time.sleep(0.05)  # stands in for rendering and sending the receipt
    logger.info("Receipt emailed to %s", email)


def add_loyalty_points(customer_id: int) -> None:
    time.sleep(0.05)  # stands in for an update in the loyalty database
    logger.info("Loyalty points added for customer %s", customer_id)


def record_audit_entry(event: str) -> None:
    time.sleep(0.05)  # stands in for a write to the audit store
    logger.info("Audit entry: %s", event)


@post("/checkout")
def check_out(customer_id: int, email: str) -> JSONResponse:
    tasks = BackgroundTasks(
        tasks=[
            BackgroundTask(email_receipt, email),
            BackgroundTask(add_loyalty_points, customer_id),
            BackgroundTask(record_audit_entry, "checkout_completed"),
        ]
    )
    return JSONResponse({"status": "processing"}, status_code=202, background=tasks)


app = Ravyn()
app.add_route(check_out)
