"""A `def` task and an `async def` task on one response: the first runs on a worker thread."""

import asyncio
import logging
import time

from ravyn import BackgroundTask, BackgroundTasks, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)


def make_thumbnail(photo: str) -> None:
    """Blocking work: Ravyn runs it on a worker thread, never on the event loop."""
    time.sleep(0.1)  # stands in for CPU-bound image resizing
    logger.info("Thumbnail made for %s", photo)


async def publish_to_cdn(photo: str) -> None:
    """Awaiting work: Ravyn awaits it on the event loop."""
    await asyncio.sleep(0.1)  # stands in for an upload with an async HTTP client
    logger.info("%s published to the CDN", photo)


@post("/photos")
def add_photo(photo: str) -> JSONResponse:
    tasks = BackgroundTasks(
        tasks=[
            BackgroundTask(make_thumbnail, photo),
            BackgroundTask(publish_to_cdn, photo),
        ]
    )
    return JSONResponse({"photo": photo, "status": "ok"}, background=tasks)


app = Ravyn()
app.add_route(add_photo)
