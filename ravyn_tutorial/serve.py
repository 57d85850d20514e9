"""The launcher that serves a lesson in a process of its own.

```
python -m ravyn_tutorial.serve docs_src.background_tasks.quick_start:app --port 0
```

`ravyn-tutorial run` starts it through a forkserver (`serve_in_child`), or
as the command above where there is none. It imports the app, serves it with
uvicorn on 127.0.0.1 and reports what happens inside the server as JSON
lines, one object per line, on stdout or (with `--events PORT`) to the CLI's
loopback socket:

| `event`          | fields                                      |
|------------------|---------------------------------------------|
| `ready`          | `port` (the one really bound), `requested`  |
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

import argparse
import importlib
import io
import itertools
import json
import logging
import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TextIO

import uvicorn
from lilya.types import ASGIApp, Message, Receive, Scope, Send

from ravyn.runner import TaskEvent, TaskRunner, observe_tasks
from ravyn.testing.recorder import task_event_detail

__all__ = [
    "EventStream",
    "TutorialApp",
    "bind_socket",
    "connect_events",
    "load_app",
    "main",
    "run_server",
    "serve_in_child",
]

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
    """Import `module:attribute` (attribute defaults to `app`)."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    app: ASGIApp = getattr(module, attribute or "app")
    return app


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening-ready socket on `host:port`, or on a free port if that one is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        if port == 0:
            sock.close()
            raise
        sock.bind((host, 0))
    return sock


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, stream: EventStream, port: int, requested: int) -> None:
        super().__init__(config)
        self.stream = stream
        self.port = port
        self.requested = requested

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self.stream.emit("ready", port=self.port, requested=self.requested)


def run_server(target: str, stream: EventStream, *, host: str = "127.0.0.1", port: int = 0) -> int:
    """Load `target`, watch it, and serve it with uvicorn until told to stop.

    Prints become `output` events; anything written to stderr becomes a
    `stderr` event (the CLI keeps the last lines to explain a crash).
    """
    sys.stdout = _PrintTap(stream)
    sys.stderr = _PrintTap(stream, kind="stderr")
    try:
        app = load_app(target)
    except BaseException as exc:
        stream.emit("fatal", text="".join(traceback.format_exception(exc)).rstrip())
        return 1
    # after the import: building a Lilya app reconfigures logging (dictConfig)
    root = logging.getLogger()
    root.addHandler(_LogTap(stream))
    root.setLevel(logging.INFO)
    runner = getattr(app, "task_runner", None)
    if isinstance(runner, TaskRunner):
        runner.add_listener(task_listener(stream))
    wrapped = TutorialApp(app, stream, observe=not isinstance(runner, TaskRunner))
    sock = bind_socket(host, port)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(wrapped, log_config=None, access_log=False, lifespan="auto")
    _Server(config, stream, bound, port).run(sockets=[sock])
    return 0


def connect_events(port: int) -> EventStream:
    """An event stream to the CLI listening on 127.0.0.1:`port`."""
    connection = socket.create_connection(("127.0.0.1", port))
    return EventStream(connection.makefile("w", encoding="utf-8", newline="\n"))


LESSON_ENVIRONMENT = {"WEBHOOK_ALLOWED_HOSTS": "127.0.0.1:*"}
"""Set for every lesson's server: the tutorial's webhook receiver is local, which
the webhook example refuses unless its host and port are allowed (any port: the
receiver takes a free one)."""


def serve_in_child(target: str, cwd: str, host: str, port: int, events_port: int) -> None:
    """The entry point of a server forked by the CLI's forkserver (see `runner`)."""
    os.environ.update(LESSON_ENVIRONMENT)
    os.chdir(cwd)
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    sys.exit(run_server(target, connect_events(events_port), host=host, port=port))


def main(argv: list[str] | None = None) -> int:
    """`python -m ravyn_tutorial.serve module:app [--port N] [--events PORT]`."""
    parser = argparse.ArgumentParser(prog="python -m ravyn_tutorial.serve")
    parser.add_argument("target", help="module:attribute of the ASGI app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port; a busy one is swapped")
    parser.add_argument("--events", type=int, default=0, help="send events to 127.0.0.1:EVENTS, not stdout")
    options = parser.parse_args(argv)
    stream = connect_events(options.events) if options.events else EventStream(sys.stdout)
    return run_server(options.target, stream, host=options.host, port=options.port)


if __name__ == "__main__":
    sys.exit(main())
