"""Pitfall: a long job as a background task holds a worker thread and dies with the process.

The response still arrives at once, and the event loop keeps serving other
requests, but the job takes one of the app's task threads for its whole run,
nothing retries it, and a restart or deploy in the middle loses it.
"""

import logging
import time

from ravyn import BackgroundTask, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)


def build_monthly_report(month: str) -> None:
    time.sleep(1.0)  # stands in for many minutes of number crunching
    logger.info("Monthly report for %s built", month)


@post("/reports")
def request_report(month: str) -> JSONResponse:
    task = BackgroundTask(build_monthly_report, month)
    return JSONResponse({"status": "building", "month": month}, status_code=202, background=task)


app = Ravyn()
app.add_route(request_report)
