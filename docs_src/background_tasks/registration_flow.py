"""A registration answers 201 with the new id, then three follow-up tasks run in order."""

import itertools
import logging
import time

from ravyn import BackgroundTasks, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)
user_ids = itertools.count(1)


def send_welcome_email(email: str) -> None:
    time.sleep(0.05)  # stands in for the mail provider's API call
    logger.info("Welcome email sent to %s", email)


def create_default_profile(user_id: int) -> None:
    time.sleep(0.05)  # stands in for creating the profile rows and avatar
    logger.info("Default profile created for user %s", user_id)


def notify_admins(email: str) -> None:
    time.sleep(0.05)  # stands in for a chat notification
    logger.info("Admins told about the new user %s", email)


@post("/register")
def register(email: str, password: str) -> JSONResponse:
    # a real app hashes the password and saves the account here: the fast part
    user_id = next(user_ids)

    tasks = BackgroundTasks()
    tasks.add_task(send_welcome_email, email)
    tasks.add_task(create_default_profile, user_id)
    tasks.add_task(notify_admins, email)
    return JSONResponse(
        {"user_id": user_id, "message": "Registration successful"},
        status_code=201,
        background=tasks,
    )


app = Ravyn()
app.add_route(register)
