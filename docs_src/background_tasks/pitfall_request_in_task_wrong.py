"""Pitfall: a task reads the request after the response, when the client has gone.

The handler never read the body, so the task asks the server for it once the
response is sent; the server answers that the client has disconnected, and
`request.json()` raises `ClientDisconnect`.
"""

import logging

from ravyn import BackgroundTask, Ravyn, Request, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)


async def store_feedback(request: Request) -> None:
    feedback = await request.json()  # too late: the request is over
    logger.info("Feedback from %s stored: %s stars", request.url.path, feedback["stars"])


@post("/feedback")
async def send_feedback(request: Request) -> JSONResponse:
    task = BackgroundTask(store_feedback, request)  # the whole request, to be read later
    return JSONResponse({"status": "thanks"}, status_code=202, background=task)


app = Ravyn()
app.add_route(send_feedback)
