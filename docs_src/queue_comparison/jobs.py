"""The job the comparison runs both ways, and the journal every run of it writes to.

`run_job` is the same function whether a background task or a Celery worker
runs it. It appends one JSON line per event (`started`, `failed`, `finished`)
to the file named by `QUEUE_JOURNAL`, from whichever process runs it, so the
comparison can see what happened in processes it killed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from celery import Task

from docs_src.background_tasks.celery_app import celery

__all__ = ["JOURNAL_ENV", "Journal", "queued_job", "run_job"]

JOURNAL_ENV = "QUEUE_JOURNAL"


def write_event(job_id: str, event: str, **detail: Any) -> None:
    """Append one line to the journal: one `write` on an `O_APPEND` file, so processes never interleave."""
    line = json.dumps({"job": job_id, "event": event, "pid": os.getpid(), "t": time.time(), **detail})
    fd = os.open(os.environ[JOURNAL_ENV], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def run_job(job_id: str, seconds: float, fail_times: int = 0, where: str = "web server") -> None:
    """Work for `seconds`, then fail if this is one of the job's first `fail_times` attempts
    (counted in the journal, so every process running the job counts the same)."""
    attempt = 1
    if fail_times:
        attempt += len(Journal(Path(os.environ[JOURNAL_ENV])).events(job_id, "started"))
    write_event(job_id, "started", attempt=attempt, where=where)
    time.sleep(seconds)
    if attempt <= fail_times:
        write_event(job_id, "failed", attempt=attempt, where=where)
        raise ConnectionError(f"job {job_id}, attempt {attempt}: the upstream service did not answer")
    write_event(job_id, "finished", attempt=attempt, where=where)


@celery.task(
    bind=True,
    track_started=True,
    autoretry_for=(ConnectionError,),
    retry_backoff=1,  # 1 s, then 2 s, 4 s ...
    retry_jitter=False,  # the same waits on every run of the comparison (keep jitter on in production)
    max_retries=3,
)
def queued_job(self: Task, job_id: str, seconds: float, fail_times: int = 0) -> None:
    run_job(job_id, seconds, fail_times, where=str(self.request.hostname))


class Journal:
    """Reads a journal file as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._events: list[dict[str, Any]] = []

    def events(self, job_id: str | None = None, event: str | None = None) -> list[dict[str, Any]]:
        """The events so far, in the order written, of one job and one kind if asked."""
        self._read_new()
        return [
            entry
            for entry in self._events
            if (job_id is None or entry["job"] == job_id) and (event is None or entry["event"] == event)
        ]

    def wait_for(self, job_id: str, event: str, timeout: float, count: int = 1) -> list[dict[str, Any]]:
        """Wait until `job_id` has `count` events of kind `event`; return them (fewer on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(job_id, event)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def _read_new(self) -> None:
        try:
            with self.path.open("rb") as file:
                file.seek(self._offset)
                data = file.read()
        except FileNotFoundError:
            return
        complete = data[: data.rfind(b"\n") + 1]  # a line being written is read next time
        self._offset += len(complete)
        self._events += [json.loads(line) for line in complete.splitlines() if line]
