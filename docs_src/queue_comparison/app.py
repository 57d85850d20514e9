"""The web app of the comparison: the same job as a background task or as a Celery job.

    uvicorn docs_src.queue_comparison.app:app

Both `POST` routes answer 202 at once. `QUEUE_JOURNAL` names the file the job
writes its events to; `CELERY_BROKER_URL` points the Celery side at Redis;
`QUEUE_DRAIN_TIMEOUT` sets the app's `task_drain_timeout` (default 30 s).
"""

from __future__ import annotations

import os
from typing import Any

from docs_src.background_tasks.celery_app import embedded_worker
from docs_src.queue_comparison.jobs import queued_job, run_job
from ravyn import BackgroundTask, Ravyn, get, post
from ravyn.responses import JSONResponse


@post("/background-jobs")
def start_background_job(
    job_id: str, seconds: float, fail_times: int = 0, retries: int = 0, retry_delay: float = 0.0
) -> JSONResponse:
    task = BackgroundTask(run_job, job_id, seconds, fail_times)
    task.configure(retries=retries, retry_delay=retry_delay)
    return JSONResponse({"job_id": job_id}, status_code=202, background=task)


@post("/queued-jobs")
def start_queued_job(job_id: str, seconds: float, fail_times: int = 0) -> JSONResponse:
    queued_job.apply_async((job_id, seconds, fail_times), task_id=job_id)
    return JSONResponse({"job_id": job_id}, status_code=202)


@get("/queued-jobs/{job_id}")
def queued_job_state(job_id: str) -> dict[str, Any]:
    return {"job_id": job_id, "state": queued_job.AsyncResult(job_id).state}


@get("/task-stats")
def task_stats() -> dict[str, int]:
    return app.task_stats()


app = Ravyn(lifespan=embedded_worker, task_drain_timeout=float(os.environ.get("QUEUE_DRAIN_TIMEOUT", "30")))
for handler in (start_background_job, start_queued_job, queued_job_state, task_stats):
    app.add_route(handler)
