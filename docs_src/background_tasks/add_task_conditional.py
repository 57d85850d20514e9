"""`add_task` builds the task list as the handler decides, with positional and keyword arguments."""

import logging
import time

from ravyn import BackgroundTasks, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)

REVIEW_THRESHOLD = 10_000  # transfers from this amount up are reviewed by a person


def email_account_holder(email: str, subject: str) -> None:
    time.sleep(0.05)  # stands in for sending an email
    logger.info("Email to %s: %s", email, subject)


def write_ledger_note(note: str, category: str = "routine") -> None:
    time.sleep(0.05)  # stands in for a write to the ledger
    logger.info("Ledger note (%s): %s", category, note)


@post("/transfers")
def request_transfer(account_email: str, amount: int) -> JSONResponse:
    tasks = BackgroundTasks()
    if amount >= REVIEW_THRESHOLD:
        tasks.add_task(email_account_holder, account_email, subject="Your transfer is being reviewed")
        tasks.add_task(write_ledger_note, f"{amount} from {account_email} held", category="review")
    else:
        tasks.add_task(write_ledger_note, f"{amount} from {account_email} cleared")
    return JSONResponse({"status": "accepted", "amount": amount}, status_code=202, background=tasks)


app = Ravyn()
app.add_route(request_transfer)
