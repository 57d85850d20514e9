"""FastAPI: a pydantic model for the body, `BackgroundTasks` injected."""

from __future__ import annotations

from fastapi import BackgroundTasks, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from scenario import SCENARIO, record, record_sync, runs, send_welcome_email
from starlette.background import BackgroundTask


class Registration(BaseModel):
    name: str
    email: str


async def register_one_task(data: Registration, tasks: BackgroundTasks) -> dict[str, bool]:
    tasks.add_task(record, data.name)
    return {"ok": True}


async def register_three_tasks(data: Registration, tasks: BackgroundTasks) -> dict[str, bool]:
    tasks.add_task(record, data.name)
    tasks.add_task(record, data.email)
    tasks.add_task(record_sync, data.name)
    return {"ok": True}


async def register_no_task(data: Registration) -> dict[str, bool]:
    return {"ok": True}


async def register_slow_task(data: Registration, tasks: BackgroundTasks) -> dict[str, bool]:
    tasks.add_task(send_welcome_email, data.name)
    return {"ok": True}


async def register_guide_style(data: Registration) -> JSONResponse:
    return JSONResponse({"ok": True}, background=BackgroundTask(record, data.name))


async def register_guide_style_sync(data: Registration) -> JSONResponse:
    return JSONResponse({"ok": True}, background=BackgroundTask(record_sync, data.name))


handlers = {
    "A": register_one_task,
    "B": register_three_tasks,
    "C": register_no_task,
    "S": register_slow_task,
    "G": register_guide_style,
    "Y": register_guide_style_sync,
}
app = FastAPI()
app.post("/register")(handlers[SCENARIO])


@app.get("/count")
async def count() -> dict[str, int]:
    return {"count": len(runs)}
