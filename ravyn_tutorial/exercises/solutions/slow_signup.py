"""A solution of the slow_signup exercise: the email goes into a background task."""

import time

from ravyn import BackgroundTasks, Ravyn, post


def send_welcome_email(email: str) -> None:
    time.sleep(0.5)
    print(f"welcome email sent to {email}")


@post("/signup")
def signup(email: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(send_welcome_email, email)
    return {"email": email, "status": "registered"}


app = Ravyn()
app.add_route(signup)
