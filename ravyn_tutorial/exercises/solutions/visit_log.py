"""A solution of the visit_log exercise: the handler reads the values, the task gets them."""

from ravyn import BackgroundTasks, Ravyn, Request, post


def record_visit(page: str, agent: str) -> None:
    print(f"visit to {page} with {agent}")


@post("/visits", status_code=202)
async def track_visit(page: str, request: Request, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(record_visit, page, request.headers.get("user-agent", "unknown"))
    return {"status": "noted"}


app = Ravyn()
app.add_route(track_visit)
