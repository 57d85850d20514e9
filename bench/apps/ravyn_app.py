"""Our ravyn (this checkout): fields bound from the JSON body, tasks injected
(the guide's `JSONResponse(background=...)` style in scenarios G and Y; in the
realistic R, M and P, a pydantic model body, `ravyn.middleware.CORSMiddleware`
and a path parameter, as a user's app would have them; in D, scenario G's
handler with its task made durable, in a journal in a fresh temporary folder)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from lilya.middleware import DefineMiddleware
from scenario import ALLOWED_ORIGINS, SCENARIO, record, record_sync, runs, send_welcome_email
from signup import Signup

from ravyn import BackgroundTask, BackgroundTasks, Ravyn, get, post
from ravyn.middleware import CORSMiddleware
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


@post("/register")
async def register_durable(name: str, email: str) -> JSONResponse:
    # the same response as G's: only the journal's commit before the first byte differs
    return JSONResponse({"ok": True}, background=BackgroundTask(record, name, durable=True))


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
    "G": register_guide_style,
    "Y": register_guide_style_sync,
}
cors = [DefineMiddleware(CORSMiddleware, allow_origins=ALLOWED_ORIGINS)]
if SCENARIO == "R":
    app = Ravyn(routes=[health, team, signup, count], middleware=cors)
elif SCENARIO == "M":
    app = Ravyn(routes=[register_guide_style, count], middleware=cors)
elif SCENARIO == "P":
    app = Ravyn(routes=[signup, count])
elif SCENARIO == "D":
    journal_dir = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    atexit.register(shutil.rmtree, journal_dir, ignore_errors=True)
    app = Ravyn(routes=[register_durable, count], task_journal=journal_dir / "tasks.sqlite3")
else:
    app = Ravyn(routes=[handlers[SCENARIO], count])
