"""Where the durability harness's tasks record that they ran: a file the server cannot lose.

Each record is one line (`task id` + newline) written by a single `os.write`
on a file opened with `O_APPEND` for that write alone: no buffer of the
process holds it, so a SIGKILL right after the write keeps it (the kernel has
it), and lines of concurrent writers (threads, the web server and a Celery
worker) never interleave. Power loss is not covered: nothing here fsyncs.
"""

from __future__ import annotations

import os
from pathlib import Path


def record_done(sink: str | Path, task_id: str) -> None:
    """Append `task_id` as one line of `sink`."""
    line = f"{task_id}\n".encode()
    descriptor = os.open(sink, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)
