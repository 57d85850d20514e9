"""Quick start: a sign-up answers 201 at once; the welcome email goes out after the response."""

import itertools
import logging
import time

from ravyn import BackgroundTasks, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)
account_ids = itertools.count(1)


def send_welcome_email(email: str) -> None:
    """Runs after the client has its answer."""
    time.sleep(0.1)  # stands in for a slow call to the mail provider
    logger.info("Welcome email sent to %s", email)


@post("/accounts")
def open_account(email: str, tasks: BackgroundTasks) -> JSONResponse:
    account_id = next(account_ids)  # saving the account is the fast part
    tasks.add_task(send_welcome_email, email)
    return JSONResponse({"account_id": account_id, "email": email}, status_code=201)


app = Ravyn()
app.add_route(open_account)
