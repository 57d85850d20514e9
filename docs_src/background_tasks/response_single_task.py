"""One task on the response, made with values from the request body."""

import asyncio
import logging

from ravyn import BackgroundTask, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)


async def push_alert(device_id: int, text: str) -> None:
    """Send a push notification to one device."""
    await asyncio.sleep(0.1)  # stands in for the push provider's API call
    logger.info("Alert pushed to device %s: %s", device_id, text)


@post("/alerts")
def raise_alert(device_id: int, text: str) -> JSONResponse:
    task = BackgroundTask(push_alert, device_id, text)
    return JSONResponse({"status": "alert queued"}, status_code=202, background=task)


app = Ravyn()
app.add_route(raise_alert)
