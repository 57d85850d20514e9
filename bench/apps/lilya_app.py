"""Plain Lilya: read the JSON body, attach `Task`s to the response."""

from __future__ import annotations

from lilya.apps import Lilya
from lilya.background import Task, Tasks
from lilya.requests import Request
from lilya.responses import JSONResponse
from lilya.routing import Path
from scenario import SCENARIO, record, record_sync, runs, send_welcome_email


async def register_one_task(request: Request) -> JSONResponse:
    data = await request.json()
    return JSONResponse({"ok": True}, background=Task(record, data["name"]))


async def register_three_tasks(request: Request) -> JSONResponse:
    data = await request.json()
    tasks = Tasks()
    tasks.add_task(record, data["name"])
    tasks.add_task(record, data["email"])
    tasks.add_task(record_sync, data["name"])
    return JSONResponse({"ok": True}, background=tasks)


async def register_no_task(request: Request) -> JSONResponse:
    await request.json()
    return JSONResponse({"ok": True})


async def register_slow_task(request: Request) -> JSONResponse:
    data = await request.json()
    return JSONResponse({"ok": True}, background=Task(send_welcome_email, data["name"]))


async def register_one_sync_task(request: Request) -> JSONResponse:
    data = await request.json()
    return JSONResponse({"ok": True}, background=Task(record_sync, data["name"]))


async def count() -> JSONResponse:
    return JSONResponse({"count": len(runs)})


handlers = {
    "A": register_one_task,
    "B": register_three_tasks,
    "C": register_no_task,
    "S": register_slow_task,
    "G": register_one_task,  # already the guide's style
    "Y": register_one_sync_task,
}
app = Lilya(
    routes=[
        Path("/register", handlers[SCENARIO], methods=["POST"]),
        Path("/count", count, methods=["GET"]),
    ]
)
