"""Starlette: read the JSON body, attach `BackgroundTask`s to the response."""

from __future__ import annotations

from scenario import SCENARIO, record, record_sync, runs, send_welcome_email
from starlette.applications import Starlette
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def register_one_task(request: Request) -> JSONResponse:
    data = await request.json()
    return JSONResponse({"ok": True}, background=BackgroundTask(record, data["name"]))


async def register_three_tasks(request: Request) -> JSONResponse:
    data = await request.json()
    tasks = BackgroundTasks()
    tasks.add_task(record, data["name"])
    tasks.add_task(record, data["email"])
    tasks.add_task(record_sync, data["name"])
    return JSONResponse({"ok": True}, background=tasks)


async def register_no_task(request: Request) -> JSONResponse:
    await request.json()
    return JSONResponse({"ok": True})


async def register_slow_task(request: Request) -> JSONResponse:
    data = await request.json()
    return JSONResponse({"ok": True}, background=BackgroundTask(send_welcome_email, data["name"]))


async def register_one_sync_task(request: Request) -> JSONResponse:
    data = await request.json()
    return JSONResponse({"ok": True}, background=BackgroundTask(record_sync, data["name"]))


async def count(request: Request) -> JSONResponse:
    return JSONResponse({"count": len(runs)})


handlers = {
    "A": register_one_task,
    "B": register_three_tasks,
    "C": register_no_task,
    "S": register_slow_task,
    "G": register_one_task,  # already the guide's style
    "Y": register_one_sync_task,
}
app = Starlette(
    routes=[
        Route("/register", handlers[SCENARIO], methods=["POST"]),
        Route("/count", count, methods=["GET"]),
    ]
)
