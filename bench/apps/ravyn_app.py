"""Our ravyn (this checkout): fields bound from the JSON body, tasks injected
(the guide's `JSONResponse(background=...)` style in scenarios G and Y)."""

from __future__ import annotations

from scenario import SCENARIO, record, record_sync, runs, send_welcome_email

from ravyn import BackgroundTask, BackgroundTasks, Ravyn, get, post
from ravyn.responses import JSONResponse


@post("/register")
async def register_one_task(name: str, email: str, tasks: BackgroundTasks) -> dict[str, bool]:
    tasks.add_task(record, name)
    return {"ok": True}


@post("/register")
async def register_three_tasks(name: str, email: str, tasks: BackgroundTasks) -> dict[str, bool]:
    tasks.add_task(record, name)
    tasks.add_task(record, email)
    tasks.add_task(record_sync, name)
    return {"ok": True}


@post("/register")
async def register_no_task(name: str, email: str) -> dict[str, bool]:
    return {"ok": True}


@post("/register")
async def register_slow_task(name: str, email: str, tasks: BackgroundTasks) -> dict[str, bool]:
    tasks.add_task(send_welcome_email, name)
    return {"ok": True}


@post("/register")
async def register_guide_style(name: str, email: str) -> JSONResponse:
    return JSONResponse({"ok": True}, background=BackgroundTask(record, name))


@post("/register")
async def register_guide_style_sync(name: str, email: str) -> JSONResponse:
    return JSONResponse({"ok": True}, background=BackgroundTask(record_sync, name))


@get("/count")
async def count() -> dict[str, int]:
    return {"count": len(runs)}


handlers = {
    "A": register_one_task,
    "B": register_three_tasks,
    "C": register_no_task,
    "S": register_slow_task,
    "G": register_guide_style,
    "Y": register_guide_style_sync,
}
app = Ravyn(routes=[handlers[SCENARIO], count])
