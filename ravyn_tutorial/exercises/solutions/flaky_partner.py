"""A solution of the flaky_partner exercise: half a second per attempt, two retries."""

import anyio

from ravyn import BackgroundTask, Ravyn, post
from ravyn.responses import JSONResponse

CALLS: dict[str, int] = {}


async def tell_partner(event: str) -> None:
    CALLS[event] = CALLS.get(event, 0) + 1
    if CALLS[event] == 1:
        await anyio.sleep(2)
    print(f"partner told about {event}")


@post("/events", status_code=202)
async def accept_event(event: str) -> JSONResponse:
    task = BackgroundTask(tell_partner, event).configure(timeout=0.5, retries=2)
    return JSONResponse({"event": event, "status": "accepted"}, status_code=202, background=task)


app = Ravyn()
app.add_route(accept_event)
