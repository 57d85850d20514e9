"""A pipeline of dependent steps: once a step fails, the steps after it are skipped.

`BackgroundTasks(..., stop_on_error=True)` applies to this collection only:
uploading a thumbnail that was never made would publish a broken image, so
the upload does not run when the resize fails. Other requests' tasks, and
the app's policy, are not affected.
"""

import logging

from ravyn import BackgroundTask, BackgroundTasks, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)


def resize_image(name: str) -> None:
    if not name.endswith((".jpg", ".png")):
        raise ValueError(f"{name} is not an image this service can resize")
    logger.info("Resized %s", name)


def upload_thumbnail(name: str) -> None:
    logger.info("Thumbnail of %s uploaded", name)


@post("/images")
def add_image(name: str) -> JSONResponse:
    pipeline = BackgroundTasks(
        tasks=[BackgroundTask(resize_image, name), BackgroundTask(upload_thumbnail, name)],
        stop_on_error=True,
    )
    return JSONResponse({"image": name, "status": "processing"}, status_code=202, background=pipeline)


app = Ravyn(routes=[add_image])
