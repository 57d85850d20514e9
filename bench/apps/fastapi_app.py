"""FastAPI: a pydantic model for the body, `BackgroundTasks` injected (in the
realistic R, M and P: Starlette's CORS middleware and a typed path parameter,
as FastAPI's docs write them)."""

from __future__ import annotations

from fastapi import BackgroundTasks, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from scenario import (
    ALLOWED_ORIGINS,
    SCENARIO,
    record,
    record_sync,
    refuse_ravyn_only,
    runs,
    send_welcome_email,
)
from signup import Signup
from starlette.background import BackgroundTask

refuse_ravyn_only("fastapi_app")


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


async def signup(team_id: int, data: Signup, tasks: BackgroundTasks) -> dict[str, object]:
    tasks.add_task(record, data.name)
    return {"ok": True, "team": team_id}


async def team(team_id: int) -> dict[str, int]:
    return {"team": team_id}


async def health() -> dict[str, str]:
    return {"status": "ok"}


handlers = {
    "A": register_one_task,
    "B": register_three_tasks,
    "C": register_no_task,
    "S": register_slow_task,
    "G": register_guide_style,
    "Y": register_guide_style_sync,
}
app = FastAPI()
if SCENARIO in ("R", "M"):
    app.add_middleware(CORSMiddleware, allow_origins=ALLOWED_ORIGINS)
if SCENARIO == "R":
    app.get("/health")(health)
    app.get("/teams/{team_id}")(team)
if SCENARIO in ("R", "P"):
    app.post("/teams/{team_id}/signup", status_code=201)(signup)
elif SCENARIO == "M":
    app.post("/register")(register_guide_style)
else:
    app.post("/register")(handlers[SCENARIO])


@app.get("/count")
async def count() -> dict[str, int]:
    return {"count": len(runs)}
