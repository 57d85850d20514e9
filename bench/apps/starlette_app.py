"""Starlette: read the JSON body, attach `BackgroundTask`s to the response
(in the realistic R, M and P: Starlette's CORS middleware, a path parameter,
the body validated with a pydantic model)."""

from __future__ import annotations

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
from starlette.applications import Starlette
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

refuse_ravyn_only("starlette_app")


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


async def signup(request: Request) -> JSONResponse:
    try:
        data = Signup.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        return JSONResponse({"detail": errors}, status_code=422)
    return JSONResponse(
        {"ok": True, "team": request.path_params["team_id"]},
        status_code=201,
        background=BackgroundTask(record, data.name),
    )


async def team(request: Request) -> JSONResponse:
    return JSONResponse({"team": request.path_params["team_id"]})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


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
signup_route = Route("/teams/{team_id:int}/signup", signup, methods=["POST"])
count_route = Route("/count", count, methods=["GET"])
cors = [Middleware(CORSMiddleware, allow_origins=ALLOWED_ORIGINS)]
if SCENARIO == "R":
    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/teams/{team_id:int}", team, methods=["GET"]),
        signup_route,
        count_route,
    ]
    app = Starlette(routes=routes, middleware=cors)
elif SCENARIO == "M":
    register_route = Route("/register", register_one_task, methods=["POST"])
    app = Starlette(routes=[register_route, count_route], middleware=cors)
elif SCENARIO == "P":
    app = Starlette(routes=[signup_route, count_route])
else:
    app = Starlette(routes=[Route("/register", handlers[SCENARIO], methods=["POST"]), count_route])
