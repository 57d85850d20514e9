"""Responses. Every one takes `background=` (a task or a collection of tasks).

These are Lilya's response classes under the names the guide uses. When a
Ravyn handler returns one, its `background` tasks are taken off the response
and run by the app's `TaskRunner` after the last byte of the body is sent,
together with the handler's other tasks (see `ravyn.routing.RouteHandler.handle`).

Example:
    ```python
    from ravyn import BackgroundTask
    from ravyn.responses import JSONResponse

    def log_export(user_id: int) -> None: ...

    response = JSONResponse(
        {"export": "queued"},
        status_code=202,
        background=BackgroundTask(log_export, 42),
    )
    ```
"""

from __future__ import annotations

from lilya.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainText,
    RedirectResponse,
    Response,
    StreamingResponse,
)

PlainTextResponse = PlainText
"""A `text/plain` response (Lilya's `PlainText`)."""

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]
