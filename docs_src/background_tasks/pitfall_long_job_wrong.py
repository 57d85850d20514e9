"""Pitfall: a long job as a background task, here an `async def` that never awaits.

The response still arrives at once. Then the job runs on the event loop, and
since it never awaits, every other request to this server waits until it ends.
(A plain `def` job would hold one of the app's task threads instead.) Either
way, the job lives in the server's memory: a restart or a deploy loses it.
"""

import logging
import time

from ravyn import BackgroundTask, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)


async def build_monthly_report(month: str) -> None:
    # one second standing in for minutes of number crunching that never awaits:
    # while it runs, the event loop can serve nobody else
    time.sleep(1.0)
    logger.info("Monthly report for %s built", month)


@post("/reports")
def request_report(month: str) -> JSONResponse:
    task = BackgroundTask(build_monthly_report, month)
    return JSONResponse({"status": "building", "month": month}, status_code=202, background=task)


app = Ravyn()
app.add_route(request_report)
