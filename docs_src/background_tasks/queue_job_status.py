"""A queued job the client can follow: 202 with the job's id at once, then `GET /jobs/{job_id}`.

`GET /jobs/{job_id}` answers `pending` (queued, no worker has it yet),
`started`, `success` with the job's result, or `failure` with its error; and a
404 for an id this app never handed out.

Celery alone cannot tell an unknown id from a queued job: it reports any id
it has no record of as PENDING. So the handler records each job as `SENT` in
the result backend before queueing it, and an id without a record is unknown.
That record lives where the results do (Redis, once configured): every web
process sees it, and it expires with them (`result_expires`, a day).

Configure the simulated check of each address with `IMPORT_SECONDS_PER_CONTACT`.
"""

import os
import time
import uuid
from typing import Any

from celery import states
from lilya.exceptions import HTTPException

from docs_src.background_tasks.celery_app import celery, embedded_worker
from ravyn import Ravyn, get, post
from ravyn.responses import JSONResponse

SUBMITTED = "SENT"  # our own state name: recorded before the job is queued
STATES = {
    SUBMITTED: "pending",
    states.STARTED: "started",  # written by the worker, thanks to track_started=True
    states.SUCCESS: "success",
    states.FAILURE: "failure",
}


@celery.task(track_started=True)
def import_contacts(emails: list[str]) -> dict[str, int]:
    for email in emails:
        time.sleep(float(os.environ.get("IMPORT_SECONDS_PER_CONTACT", "0.05")))  # a mail server lookup
        domain = email.rpartition("@")[2]
        if domain.endswith(".invalid"):
            raise LookupError(f"no mail server for {domain}")
    return {"imported": len(emails)}


@post("/imports")
def start_import(emails: list[str]) -> JSONResponse:
    job_id = str(uuid.uuid4())
    celery.backend.store_result(job_id, None, SUBMITTED)  # known from now on, before any worker sees it
    try:
        import_contacts.apply_async((emails,), task_id=job_id)
    except Exception:
        celery.backend.forget(job_id)  # never queued: no "pending" forever
        raise
    return JSONResponse(
        {"status": "queued", "job_id": job_id},
        status_code=202,
        headers={"location": f"/jobs/{job_id}"},
    )


@get("/jobs/{job_id}")
def job_status(job_id: str) -> JSONResponse:
    job = import_contacts.AsyncResult(job_id)
    state = job.state  # one read from the result backend
    if state == states.PENDING:  # Celery's answer for an id it has no record of
        raise HTTPException(status_code=404, detail=f"No job {job_id}")
    body: dict[str, Any] = {"job_id": job_id, "state": STATES.get(state, state.lower())}
    if state == states.SUCCESS:
        body["result"] = job.result
    elif state == states.FAILURE:
        body["error"] = f"{type(job.result).__name__}: {job.result}"
    return JSONResponse(body)


app = Ravyn(lifespan=embedded_worker)
app.add_route(start_import)
app.add_route(job_status)
