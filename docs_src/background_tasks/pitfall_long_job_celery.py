"""Fix: hand the long job to Celery; the handler only enqueues it with `.delay()` and answers 202.

The Celery application lives in the helper module `celery_app`, beside the
examples. Without `CELERY_BROKER_URL` the app starts an embedded worker with
its lifespan (see `celery_app`).
"""

import logging
import time
from typing import Any

from docs_src.background_tasks.celery_app import celery, embedded_worker
from ravyn import Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)


@celery.task(
    bind=True,
    autoretry_for=(ConnectionError,),  # a flaky data source: try again later
    retry_backoff=True,  # 1 s, 2 s, 4 s, ... between tries
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def build_monthly_report(self: Any, month: str) -> dict[str, str]:
    time.sleep(0.2)  # stands in for many minutes of number crunching
    logger.info("Monthly report for %s built (job %s on %s)", month, self.request.id, self.request.hostname)
    return {"month": month, "status": "built"}


@post("/reports")
def request_report(month: str) -> JSONResponse:
    # a sync handler runs on a thread, so talking to the broker never blocks the event loop
    job = build_monthly_report.delay(month)  # a message on the broker; the job runs on a worker
    return JSONResponse({"status": "queued", "job_id": job.id}, status_code=202)


app = Ravyn(lifespan=embedded_worker)
app.add_route(request_report)
