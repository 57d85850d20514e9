"""One task on the route decorator: it runs after every response of that route."""

import logging
import time

from ravyn import BackgroundTask, Ravyn, post

logger = logging.getLogger(__name__)


def record_audit_entry(event: str) -> None:
    """Append an event to the audit trail."""
    time.sleep(0.05)  # stands in for a write to the audit store
    logger.info("Audit entry: %s", event)


@post("/articles", background=BackgroundTask(record_audit_entry, "article_published"))
def publish_article(title: str) -> dict[str, str]:
    return {"published": title}


app = Ravyn()
app.add_route(publish_article)
