"""Several tasks on the route decorator, run one after the other once the response is sent."""

import logging
import time

from ravyn import BackgroundTask, BackgroundTasks, Ravyn, post

logger = logging.getLogger(__name__)


def notify_editor(address: str) -> None:
    time.sleep(0.05)  # stands in for sending an email
    logger.info("Editor notified at %s", address)


def count_event(event: str) -> None:
    time.sleep(0.05)  # stands in for a call to the metrics service
    logger.info("Counted event %s", event)


def refresh_subscriber_total() -> None:
    time.sleep(0.05)  # stands in for a slow COUNT(*) over the subscribers
    logger.info("Subscriber total refreshed")


@post(
    "/subscriptions",
    background=BackgroundTasks(
        tasks=[
            BackgroundTask(notify_editor, "editor@example.com"),
            BackgroundTask(count_event, "newsletter_subscription"),
            BackgroundTask(refresh_subscriber_total),
        ]
    ),
)
def subscribe(email: str) -> dict[str, str]:
    return {"subscribed": email}


app = Ravyn()
app.add_route(subscribe)
