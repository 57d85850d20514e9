"""PyPI's ravyn (run from its own venv): a pydantic model for the body,
tasks attached to the response as its docs show (in the realistic R, M and P:
its `cors_config=CORSConfig(...)`, which installs Lilya's CORS middleware, and
an `{team_id:int}` path parameter)."""

from __future__ import annotations

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

from ravyn import BackgroundTask, BackgroundTasks, CORSConfig, Gateway, JSONResponse, Ravyn, get, post

refuse_ravyn_only("pypi_ravyn_app")


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


@post("/teams/{team_id:int}/signup")
async def signup(team_id: int, data: Signup) -> JSONResponse:
    return JSONResponse(
        {"ok": True, "team": team_id}, status_code=201, background=BackgroundTask(record, data.name)
    )


@get("/teams/{team_id:int}")
async def team(team_id: int) -> dict[str, int]:
    return {"team": team_id}


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


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
cors = CORSConfig(allow_origins=ALLOWED_ORIGINS)
if SCENARIO == "R":
    gateways = [Gateway(handler=handler) for handler in (health, team, signup, count)]
    app = Ravyn(routes=gateways, cors_config=cors)
elif SCENARIO == "M":
    app = Ravyn(routes=[Gateway(handler=register_one_task), Gateway(handler=count)], cors_config=cors)
elif SCENARIO == "P":
    app = Ravyn(routes=[Gateway(handler=signup), Gateway(handler=count)])
else:
    app = Ravyn(routes=[Gateway(handler=handlers[SCENARIO]), Gateway(handler=count)])
