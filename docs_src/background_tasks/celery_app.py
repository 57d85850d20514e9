"""The Celery app that `pitfall_long_job_celery` hands its long jobs to (a helper, not an example).

Point it at a real broker with `CELERY_BROKER_URL` and `CELERY_RESULT_BACKEND`
(for instance `redis://127.0.0.1:6379/0` for both) and run a worker beside the
web app:

    celery -A docs_src.background_tasks.celery_app worker --loglevel=INFO

With neither variable set it runs embedded, for trying the example on one
machine: an in-memory broker and result store, and a worker thread that the
web app starts and stops with its lifespan (`embedded_worker`). Jobs queued in
memory are lost when the process stops; never use that mode in production.
"""

import os
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from typing import Any

import anyio.to_thread
from celery import Celery
from celery.contrib.testing.worker import start_worker

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://localhost/")
RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "cache+memory://")
EMBEDDED = BROKER_URL.startswith("memory://")

celery = Celery(
    "docs_src",
    broker=BROKER_URL,
    backend=RESULT_BACKEND,
    include=["docs_src.background_tasks.pitfall_long_job_celery"],  # where a worker finds the jobs
)
celery.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],  # never unpickle what comes off the broker
    task_acks_late=True,  # acknowledge a job when it is done, so a crash gives it to another worker
    task_reject_on_worker_lost=True,  # ... including a worker killed mid-job
    worker_prefetch_multiplier=1,  # long jobs: a worker reserves one at a time
    task_soft_time_limit=15 * 60,  # raises SoftTimeLimitExceeded in the job, which may clean up
    task_time_limit=16 * 60,  # then the worker process is killed
    result_expires=24 * 60 * 60,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,  # keep the web app's logging as it is
    broker_transport_options={"polling_interval": 0.1} if EMBEDDED else {},
)


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
