"""Fix: take the values the task needs out of the request in the handler and pass only those."""

import asyncio
import logging

from ravyn import BackgroundTask, Ravyn, Request, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)


async def store_feedback(stars: int, comment: str, page: str, client_host: str) -> None:
    await asyncio.sleep(0.05)  # stands in for a write to the feedback store
    logger.info("Feedback on %s from %s stored: %s stars, %r", page, client_host, stars, comment)


@post("/feedback")
async def send_feedback(request: Request, stars: int, comment: str) -> JSONResponse:
    page = str(request.url)  # plain values, read while the request is alive
    client_host = request.client.host if request.client else "unknown"
    task = BackgroundTask(store_feedback, stars, comment, page, client_host)
    return JSONResponse({"status": "thanks"}, status_code=202, background=task)


app = Ravyn()
app.add_route(send_feedback)
