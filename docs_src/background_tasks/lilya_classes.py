"""Lilya's own task classes work on Ravyn responses too.

Lilya 0.29's classes are `lilya.background.Task` and `Tasks` (the names
`BackgroundTask` and `BackgroundTasks` are Ravyn's).
"""

import asyncio
import logging
import time

from lilya.background import Task, Tasks

from ravyn import Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)


def dump_database(database: str) -> None:
    time.sleep(0.05)  # stands in for pg_dump
    logger.info("Dumped %s", database)


async def upload_archive(database: str) -> None:
    await asyncio.sleep(0.05)  # stands in for an upload to object storage
    logger.info("Archive of %s uploaded", database)


@post("/backups")
def schedule_backup(database: str) -> JSONResponse:
    tasks = Tasks(tasks=[Task(dump_database, database), Task(upload_archive, database)])
    body = {"status": "backup scheduled", "database": database}
    return JSONResponse(body, status_code=202, background=tasks)


app = Ravyn()
app.add_route(schedule_backup)
