"""What runs inside a lesson's server: the lesson's app, watched.

`ravyn-tutorial run` serves a lesson with
[`ravyn.testing.serve`][ravyn.testing.serve], forked from the CLI's own
process (which has already imported ravyn and uvicorn), with
[`lesson_app`][ravyn_tutorial.serve.lesson_app] as uvicorn's app factory. It
imports the app and reports what happens inside the server as JSON lines,
one object per line, on the server's stdout, which the CLI reads live:

| `event`          | fields                                      |
|------------------|---------------------------------------------|
| `received`       | `request`, `method`, `path`                 |
| `response_sent`  | `request`, `status`, `held`, `failed`       |
| `call_complete`  | `request` (its background tasks are done)  |
| `task_started`   | `request`, `name`                           |
| `task_finished`  | `request`, `name`, `duration` (seconds)     |
| `task_failed`    | `request`, `name`, `duration`, `error`      |
| `output`         | `request`, `text` (a line the app printed)  |
| `log`            | `request`, `level`, `logger`, `text`        |
| `stderr`         | `text` (a line written to stderr)           |
| `fatal`          | `text` (the app could not be loaded)        |

Every object also has `t`, the wall-clock time (`time.time()`) it was made,
so the CLI can place server events next to the times its client measured.

Two request headers steer it: `x-tutorial-request` names the request in the
events (otherwise `r1`, `r2`, ...), and `x-tutorial-mode: inline` holds the
response back until the whole ASGI call, background tasks included, is over:
the client then waits for the work exactly as if the handler had done it
before returning. A task that fails then fails the request, as it would have
failed a handler calling the function itself: the held response is replaced
by the 500 Ravyn answers for an unhandled error (`response_sent` carries
`failed`, the task's name). That is how `run --compare` shows both ways with
the same code.
"""

from __future__ import annotations

import importlib
import io
import itertools
import json
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TextIO

from lilya.types import ASGIApp, Message, Receive, Scope, Send

from ravyn.runner import TaskEvent, TaskRunner, observe_tasks
from ravyn.testing.recorder import task_event_detail

__all__ = ["LESSON_ENVIRONMENT", "EventStream", "TutorialApp", "lesson_app", "load_app", "task_listener"]

REQUEST_HEADER = b"x-tutorial-request"
MODE_HEADER = b"x-tutorial-mode"

_request_id: ContextVar[str] = ContextVar("ravyn_tutorial_request", default="")


class EventStream:
    """Writes events as JSON lines to one text stream, from any thread."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.lock = threading.Lock()

    def emit(self, event: str, **fields: Any) -> None:
        fields.setdefault("request", _request_id.get())
        line = json.dumps({"event": event, "t": time.time(), **fields}, default=str)
        with self.lock:
            self.target.write(line + "\n")
            self.target.flush()


class _PrintTap(io.TextIOBase):
    """Stands in for `sys.stdout` (or `sys.stderr`): each line written becomes
    an `output` (or `stderr`) event."""

    def __init__(self, stream: EventStream, kind: str = "output") -> None:
        self.stream = stream
        self.kind = kind
        self.pending = threading.local()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        pending: str = getattr(self.pending, "text", "") + text
        *lines, rest = pending.split("\n")
        self.pending.text = rest
        for line in lines:
            self.stream.emit(self.kind, text=line)
        return len(text)


class _LogTap(logging.Handler):
    """Turns log records into `log` events (uvicorn's chatter below WARNING left out)."""

    def __init__(self, stream: EventStream) -> None:
        super().__init__(logging.INFO)
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("uvicorn") and record.levelno < logging.WARNING:
            return
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            last = traceback.format_exception_only(record.exc_info[1])[-1].strip()
            if last not in text:
                text = f"{text} ({last})"
        self.stream.emit(
            "log",
            level=record.levelname,
            logger=record.name,
            text=text,
            traceback=record.exc_info is not None,
        )


def task_listener(stream: EventStream) -> Callable[[TaskEvent], None]:
    """A `TaskRunner` listener that reports each task event to `stream`."""

    def listen(event: TaskEvent) -> None:
        kind, detail = task_event_detail(event)  # the recorder's kinds and details, streamed
        stream.emit(kind, name=event.name, **detail)

    return listen


class TutorialApp:
    """Wraps the lesson's ASGI app to report requests and, on demand, to hold
    the response back until the background tasks are done (`inline` mode)."""

    def __init__(self, app: ASGIApp, stream: EventStream, *, observe: bool) -> None:
        self.app = app
        self.stream = stream
        self.observe = observe
        self.counter = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        label = headers.get(REQUEST_HEADER, b"").decode("latin-1") or f"r{next(self.counter)}"
        inline = headers.get(MODE_HEADER, b"") == b"inline"
        token = _request_id.set(label)
        held: list[Message] = []
        status: int | None = None
        failed: list[str] = []

        def note_failure(event: TaskEvent) -> None:
            if event.kind == "failed":
                failed.append(event.name)

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            last = message["type"] == "http.response.body" and not message.get("more_body", False)
            if inline:
                held.append(message)
                return
            if last:  # reported as it is handed over: the client may hold it a moment later
                self.stream.emit("response_sent", status=status, held=False)
            await send(message)

        try:
            self.stream.emit("received", method=scope["method"], path=scope["path"])
            with observe_tasks(note_failure):
                if self.observe:
                    with observe_tasks(task_listener(self.stream)):
                        await self.app(scope, receive, watch)
                else:
                    await self.app(scope, receive, watch)
            if held and failed:
                held, status = _server_error(), 500
            if held:
                self.stream.emit(
                    "response_sent", status=status, held=True, failed=failed[0] if failed else None
                )
            for message in held:
                await send(message)
            self.stream.emit("call_complete")
            stats = getattr(self.app, "task_stats", None)
            if callable(stats):
                self.stream.emit("task_stats", **stats())
        finally:
            _request_id.reset(token)


def _server_error() -> list[Message]:
    """The messages of the 500 Ravyn sends when a handler raises."""
    body = b'{"detail":"Internal Server Error"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return [
        {"type": "http.response.start", "status": 500, "headers": headers},
        {"type": "http.response.body", "body": body, "more_body": False},
    ]


def load_app(target: str) -> ASGIApp:
    """Import `module:attribute` (attribute defaults to `app`), afresh: a module
    the process forked from had already imported runs again, as in a new process."""
    module_name, _, attribute = target.partition(":")
    sys.modules.pop(module_name, None)
    module = importlib.import_module(module_name)
    app: ASGIApp = getattr(module, attribute or "app")
    return app


LESSON_ENVIRONMENT = {"WEBHOOK_ALLOWED_HOSTS": "127.0.0.1:*"}
"""Set for every lesson's server: the tutorial's webhook receiver is local, which
the webhook example refuses unless its host and port are allowed (any port: the
receiver takes a free one)."""


def lesson_app(target: str) -> ASGIApp:
    """Import `target` (`module:attribute`) and return it wrapped in a
    `TutorialApp`, every event reported as a JSON line on stdout.

    uvicorn calls it in the lesson's server process (`--factory`). From then
    on, prints become `output` events and anything written to stderr a
    `stderr` event (the CLI keeps the last lines to explain a crash). An app
    that cannot be imported is reported as a `fatal` event, and the process
    exits with status 1.
    """
    stream = EventStream(sys.stdout)
    sys.stdout = _PrintTap(stream)
    sys.stderr = _PrintTap(stream, kind="stderr")
    try:
        app = load_app(target)
    except BaseException as exc:
        stream.emit("fatal", text="".join(traceback.format_exception(exc)).rstrip())
        raise SystemExit(1) from None
    # after the import: building a Lilya app reconfigures logging (dictConfig)
    root = logging.getLogger()
    root.addHandler(_LogTap(stream))
    root.setLevel(logging.INFO)
    # uvicorn's command line gave its logger a handler of its own: its warnings go through the tap too
    uvicorn_logger = logging.getLogger("uvicorn")
    uvicorn_logger.handlers.clear()
    uvicorn_logger.propagate = True
    runner = getattr(app, "task_runner", None)
    if isinstance(runner, TaskRunner):
        runner.add_listener(task_listener(stream))
    return TutorialApp(app, stream, observe=not isinstance(runner, TaskRunner))
