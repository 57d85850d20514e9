"""The Celery app of the durability harness's Celery + Redis tier.

Environment: `DURABILITY_BROKER` (a `redis://127.0.0.1:<port>/0` URL),
`DURABILITY_SINK`, and `DURABILITY_ACKS_LATE` (`1`: `task_acks_late=True`
with `task_reject_on_worker_lost=True`; `0`: Celery's defaults, the message
acknowledged when the worker takes it). Both use Redis transport options
that make a message a killed worker held unacknowledged come back within the
run: a 5 s `visibility_timeout` (the default is one hour), a sweep for such
messages every poll (`unacked_restore_interval` 1, `unacked_restore_throttle`
1; by default about every 100 s), and a 10 s expiry of the sweep's mutex (a
worker killed while holding it would block sweeps for the default 300 s).
"""

from __future__ import annotations

import os
import time

from celery import Celery
from durability_sink import record_done

VISIBILITY_TIMEOUT = 5
"""Seconds before Redis gives an unacknowledged message to another worker."""

ACKS_LATE = os.environ.get("DURABILITY_ACKS_LATE") == "1"
celery = Celery("durability", broker=os.environ.get("DURABILITY_BROKER", "redis://127.0.0.1:6379/0"))
celery.conf.update(
    task_acks_late=ACKS_LATE,
    task_reject_on_worker_lost=ACKS_LATE,
    broker_transport_options={
        "visibility_timeout": VISIBILITY_TIMEOUT,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
        "unacked_mutex_expire": 10,
    },
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@celery.task(name="durability.work")
def work_job(task_id: str, millis: int) -> None:
    """The same work as the web tiers' task: `millis` of it, then the record."""
    time.sleep(millis / 1000)
    record_done(os.environ["DURABILITY_SINK"], task_id)
