"""PyPI's ravyn (run from its own venv): a pydantic model for the body,
tasks attached to the response as its docs show."""

from __future__ import annotations

from pydantic import BaseModel
from scenario import SCENARIO, record, record_sync, runs, send_welcome_email

from ravyn import BackgroundTask, BackgroundTasks, Gateway, JSONResponse, Ravyn, get, post


class Registration(BaseModel):
    name: str
    email: str


@post("/register")
async def register_one_task(data: Registration) -> JSONResponse:
    return JSONResponse({"ok": True}, background=BackgroundTask(record, data.name))


@post("/register")
async def register_three_tasks(data: Registration) -> JSONResponse:
    tasks = BackgroundTasks()
    tasks.add_task(record, data.name)
    tasks.add_task(record, data.email)
    tasks.add_task(record_sync, data.name)
    return JSONResponse({"ok": True}, background=tasks)


@post("/register")
async def register_no_task(data: Registration) -> JSONResponse:
    return JSONResponse({"ok": True})


@post("/register")
async def register_slow_task(data: Registration) -> JSONResponse:
    return JSONResponse({"ok": True}, background=BackgroundTask(send_welcome_email, data.name))


@post("/register")
async def register_one_sync_task(data: Registration) -> JSONResponse:
    return JSONResponse({"ok": True}, background=BackgroundTask(record_sync, data.name))


@get("/count")
async def count() -> dict[str, int]:
    return {"count": len(runs)}


handlers = {
    "A": register_one_task,
    "B": register_three_tasks,
    "C": register_no_task,
    "S": register_slow_task,
    "G": register_one_task,  # already the guide's style
    "Y": register_one_sync_task,
}
app = Ravyn(routes=[Gateway(handler=handlers[SCENARIO]), Gateway(handler=count)])
