"""The Celery app that the queue examples hand their jobs to (a helper, not an example).

Point it at Redis with `CELERY_BROKER_URL` (and `CELERY_RESULT_BACKEND`, which
defaults to the same Redis) and run workers beside the web app, on any machine
that reaches Redis:

    export CELERY_BROKER_URL=redis://127.0.0.1:6379/0
    celery -A docs_src.background_tasks.celery_app worker --loglevel=INFO

With neither variable set it runs embedded, for trying the examples on one
machine: an in-memory broker and result store, and a worker thread that the
web app starts and stops with its lifespan (`embedded_worker`). Jobs queued in
memory are lost when the process stops; never use that mode in production.

`CELERY_VISIBILITY_TIMEOUT` (seconds, default 3600) is how long Redis waits for
a worker to acknowledge a job before giving it to another worker: that is how
the job of a worker that died mid-job is run again. Keep it above your longest
job and your longest retry countdown, or a job still running gets a twin; the
tests and the comparison script lower it to a few seconds.
"""

import os
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from typing import Any

import anyio.to_thread
from celery import Celery
from celery.contrib.testing.worker import start_worker

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://localhost/")
EMBEDDED = BROKER_URL.startswith("memory://")
RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or ("cache+memory://" if EMBEDDED else BROKER_URL)
VISIBILITY_TIMEOUT = float(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))

celery = Celery(
    "docs_src",
    broker=BROKER_URL,
    backend=RESULT_BACKEND,
    include=[  # where a worker finds the jobs
        "docs_src.background_tasks.pitfall_long_job_celery",
        "docs_src.background_tasks.queue_job_status",
    ],
)
celery.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],  # never unpickle what comes off the broker
    task_acks_late=True,  # acknowledge a job when it is done, so a crash gives it to another worker
    task_reject_on_worker_lost=True,  # ... including a worker process killed mid-job
    worker_prefetch_multiplier=1,  # long jobs: a worker reserves one at a time
    task_soft_time_limit=15 * 60,  # raises SoftTimeLimitExceeded in the job, which may clean up
    task_time_limit=16 * 60,  # then the worker process is killed
    result_expires=24 * 60 * 60,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,  # keep the web app's logging as it is
)
if EMBEDDED:
    celery.conf.broker_transport_options = {"polling_interval": 0.1}
else:
    celery.conf.broker_transport_options = {
        "visibility_timeout": VISIBILITY_TIMEOUT,
        # how often a worker looks for jobs whose worker died: a quarter of the timeout, at most 10 s
        "unacked_restore_interval": max(1, min(10, round(VISIBILITY_TIMEOUT / 4))),
        "unacked_restore_throttle": 1,
    }


@asynccontextmanager
async def embedded_worker(app: Any) -> AsyncIterator[None]:
    """A lifespan for the web app: in embedded mode, run a worker thread while the app runs."""
    if not EMBEDDED:
        yield  # a real broker: workers run on their own (see the module's docstring)
        return
    with ExitStack() as stack:
        worker = start_worker(celery, pool="solo", loglevel="INFO", perform_ping_check=False)
        # starting and stopping a worker blocks: keep that off the event loop
        await anyio.to_thread.run_sync(stack.enter_context, worker)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(stack.close)
