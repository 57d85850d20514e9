"""Plain Lilya: read the JSON body, attach `Task`s to the response
(in the realistic R, M and P: Lilya's CORS middleware, a path parameter, the
body validated with a pydantic model)."""

from __future__ import annotations

from lilya.apps import Lilya
from lilya.background import Task, Tasks
from lilya.middleware import DefineMiddleware
from lilya.middleware.cors import CORSMiddleware
from lilya.requests import Request
from lilya.responses import JSONResponse
from lilya.routing import Path
from pydantic import ValidationError
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

refuse_ravyn_only("lilya_app")


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


async def signup(request: Request) -> JSONResponse:
    try:
        data = Signup.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        return JSONResponse({"detail": errors}, status_code=422)
    return JSONResponse(
        {"ok": True, "team": request.path_params["team_id"]},
        status_code=201,
        background=Task(record, data.name),
    )


async def team(request: Request) -> JSONResponse:
    return JSONResponse({"team": request.path_params["team_id"]})


async def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})


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
signup_path = Path("/teams/{team_id:int}/signup", signup, methods=["POST"])
count_path = Path("/count", count, methods=["GET"])
cors = [DefineMiddleware(CORSMiddleware, allow_origins=ALLOWED_ORIGINS)]
if SCENARIO == "R":
    paths = [
        Path("/health", health, methods=["GET"]),
        Path("/teams/{team_id:int}", team, methods=["GET"]),
        signup_path,
        count_path,
    ]
    app = Lilya(routes=paths, middleware=cors)
elif SCENARIO == "M":
    app = Lilya(routes=[Path("/register", register_one_task, methods=["POST"]), count_path], middleware=cors)
elif SCENARIO == "P":
    app = Lilya(routes=[signup_path, count_path])
else:
    app = Lilya(routes=[Path("/register", handlers[SCENARIO], methods=["POST"]), count_path])
