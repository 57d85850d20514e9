"""Exercise flaky_partner: a task that may hang needs a time limit, and a retry.

POST /events accepts an event and, in the background, tells a partner's
server about it. The partner is flaky: the first call about an event hangs
(for seconds), and the next call about it is answered at once. As it is, the
task just waits, holding on to the event until the partner wakes up.

Make it so that:
  * each attempt at telling the partner is given at most half a second;
  * an attempt that ran out of time is tried again (up to 2 more times), so
    the partner is told about every event, once;
  * tell_partner stays as it is: it stands for the partner's server.

Check your work:  ravyn-tutorial check flaky_partner
Stuck?            ravyn-tutorial hint flaky_partner
"""

import anyio

from ravyn import BackgroundTasks, Ravyn, post

CALLS: dict[str, int] = {}  # how often the partner was called about each event


async def tell_partner(event: str) -> None:
    CALLS[event] = CALLS.get(event, 0) + 1
    if CALLS[event] == 1:
        await anyio.sleep(2)  # the partner's server, having a bad moment
    print(f"partner told about {event}")


@post("/events", status_code=202)
async def accept_event(event: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(tell_partner, event)
    return {"event": event, "status": "accepted"}


app = Ravyn()
app.add_route(accept_event)
