"""Testing helpers: Lilya's `TestClient`, a timeline recorder and a real server.

`TestClient` (and httpx's ASGI transport) return only once the whole ASGI
call is over, background tasks included, so they cannot tell *when* the
client had its response. The recorder drives the raw ASGI call itself and
writes everything that happens on one clock, in order:

| kind                | when                                             |
|---------------------|--------------------------------------------------|
| `request`           | the request is handed to the app                 |
| `response_started`  | the app sent `http.response.start`               |
| `response_complete` | the app sent the last body message               |
| `task_started`, `task_finished`, `task_failed` | a background task's life |
| `task_retrying`, `task_lost` | an attempt failed and another follows; cancelled at shutdown |
| `log`               | a log record (any logger, INFO and up)           |
| `output`            | a line printed to stdout                         |
| `mark`              | a call of `mark()` from your own code            |
| `app_error`         | the app let an exception escape                  |
| `call_complete`     | the ASGI call returned                           |

Example:
    ```python
    import anyio
    from ravyn import BackgroundTasks, Ravyn, post
    from ravyn.testing import record

    def send_receipt(order: int) -> None:
        print(f"receipt for order {order}")

    @post("/orders")
    def create_order(order: int, tasks: BackgroundTasks) -> dict[str, int]:
        tasks.add_task(send_receipt, order)
        return {"order": order}

    app = Ravyn(routes=[create_order])

    timeline = anyio.run(lambda: record(app, "POST", "/orders", json={"order": 7}))
    assert timeline.status == 201
    assert timeline.response_complete < timeline.first("output")
    ```
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ravyn.testing.forked import ForkedProcess
from ravyn.testing.recorder import Recorder, Timeline, TimelineEvent, mark, record, task_event_detail
from ravyn.testing.server import Server, ServerProcess, free_port, serve

if TYPE_CHECKING:
    from lilya.testclient import TestClient

__all__ = [
    "ForkedProcess",
    "Recorder",
    "Server",
    "ServerProcess",
    "TestClient",
    "Timeline",
    "TimelineEvent",
    "free_port",
    "mark",
    "record",
    "serve",
    "task_event_detail",
]


def __getattr__(name: str) -> Any:
    # Lilya's TestClient needs the httpx2 package; import it only when asked
    # for, so the recorder works in an environment without it (the docs build)
    if name == "TestClient":
        from lilya.testclient import TestClient

        return TestClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
