"""Exercise visit_log: take what you need from the request before answering.

POST /visits notes which page a visitor saw and with which browser. The
handler hands the whole Request to the background task, which reads it
after the response has gone. By then the client has hung up, and reading
the request's body fails: the visit is never recorded.

Make it so that record_visit still prints the page and the browser's
user agent after the response, but is given those plain values, not the
Request.

Check your work:  ravyn-tutorial check visit_log
Stuck?            ravyn-tutorial hint visit_log
"""

from ravyn import BackgroundTasks, Ravyn, Request, post


async def record_visit(request: Request) -> None:
    details = await request.json()
    agent = request.headers.get("user-agent", "unknown")
    print(f"visit to {details['page']} with {agent}")


@post("/visits", status_code=202)
async def track_visit(request: Request, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(record_visit, request)
    return {"status": "noted"}


app = Ravyn()
app.add_route(track_visit)
