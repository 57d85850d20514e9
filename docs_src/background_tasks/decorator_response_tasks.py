"""Several tasks built in the handler from the request's values and put on the response."""

import logging
import time

from ravyn import BackgroundTask, BackgroundTasks, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)


def send_invitation(email: str) -> None:
    time.sleep(0.05)  # stands in for sending an email
    logger.info("Invitation sent to %s", email)


def record_audit_entry(event: str) -> None:
    time.sleep(0.05)  # stands in for a write to the audit store
    logger.info("Audit entry: %s", event)


@post("/invitations")
def invite(email: str) -> JSONResponse:
    tasks = BackgroundTasks(
        tasks=[
            BackgroundTask(send_invitation, email),
            BackgroundTask(record_audit_entry, "invitation_sent"),
        ]
    )
    return JSONResponse({"invited": email}, status_code=201, background=tasks)


app = Ravyn()
app.add_route(invite)
