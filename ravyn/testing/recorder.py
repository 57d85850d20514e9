"""The timeline recorder: drive an ASGI app in-process and record, on one
clock, its response, its tasks' lives, its logs and its printed lines.

Re-exported by [`ravyn.testing`][ravyn.testing], which documents the events.
"""

from __future__ import annotations

import io
import json as jsonlib
import logging
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import urlencode

import anyio
from lilya.types import ASGIApp, Message

from ravyn.runner import TaskEvent, observe_tasks

__all__ = ["Recorder", "Timeline", "TimelineEvent", "mark", "record", "task_event_detail"]

_UNSET: Any = object()
_current: ContextVar[Timeline | None] = ContextVar("ravyn_timeline", default=None)


@dataclass(frozen=True, order=True)
class TimelineEvent:
    """One thing that happened during a recorded request.

    Events compare by `seq`, their place in the timeline, so
    `timeline.response_complete < timeline.first("task_started")` reads as
    "the response was complete before the first task started".
    """

    seq: int
    at: float = field(compare=False)
    """Seconds since the request was handed to the app."""
    kind: str = field(compare=False)
    name: str = field(default="", compare=False)
    """The task's name, the logger's name, the mark's label, ..."""
    detail: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        label = f" {self.name}" if self.name else ""
        return f"#{self.seq} +{self.at * 1000:.1f}ms {self.kind}{label}"


class Timeline:
    """The ordered events of one recorded request, and its response."""

    def __init__(self, started: float, *, capture_output: bool = True, log_level: int = logging.INFO) -> None:
        self.started = started
        self.capture_output = capture_output
        self.log_level = log_level
        self.events: list[TimelineEvent] = []
        self.status: int | None = None
        self.headers: list[tuple[str, str]] = []
        self.body = b""
        self._lock = threading.Lock()

    def add(self, kind: str, name: str = "", /, **detail: Any) -> TimelineEvent:
        """Append an event now (thread-safe); `detail` is kept as given (any
        keys, `kind` and `name` included)."""
        with self._lock:
            event = TimelineEvent(len(self.events), time.perf_counter() - self.started, kind, name, detail)
            self.events.append(event)
        return event

    def json(self) -> Any:
        """The response body decoded as JSON."""
        return jsonlib.loads(self.body)

    def header(self, name: str) -> str | None:
        """The first response header called `name` (case-insensitive)."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key == lowered), None)

    def all(self, kind: str, name: str | None = None) -> list[TimelineEvent]:
        """Every event of `kind` (and `name`, if given), in order."""
        return [e for e in self.events if e.kind == kind and (name is None or e.name == name)]

    def first(self, kind: str, name: str | None = None) -> TimelineEvent:
        """The first event of `kind` (and `name`); `AssertionError` listing what
        was recorded if there is none."""
        found = self.all(kind, name)
        if not found:
            wanted = f"{kind} {name}" if name else kind
            raise AssertionError(f"no {wanted!r} event; recorded:\n{self.render()}")
        return found[0]

    def last(self, kind: str, name: str | None = None) -> TimelineEvent:
        """The last event of `kind` (and `name`)."""
        found = self.all(kind, name)
        if not found:
            raise AssertionError(f"no {kind!r} event; recorded:\n{self.render()}")
        return found[-1]

    @property
    def response_complete(self) -> TimelineEvent:
        """The moment the last body message was sent."""
        return self.first("response_complete")

    @property
    def kinds(self) -> list[str]:
        """The kinds of all events, in order (handy in assertions)."""
        return [e.kind for e in self.events]

    def task_names(self, kind: str = "task_started") -> list[str]:
        """The names of the tasks, in the order they reached `kind`."""
        return [e.name for e in self.all(kind)]

    def lines(self) -> list[str]:
        """The text of every `output` and `log` event, in order."""
        return [str(e.detail.get("text", "")) for e in self.events if e.kind in ("output", "log")]

    def render(self) -> str:
        """A plain-text table of the events, one per line."""
        rows = []
        for event in self.events:
            text = event.detail.get("text") or event.detail.get("status") or ""
            if event.kind == "task_finished" or event.kind == "task_failed":
                text = (
                    f"{event.detail.get('duration', 0) * 1000:.1f}ms {event.detail.get('error', '')}".strip()
                )
            rows.append(f"{event.at * 1000:9.1f} ms  {event.kind:<18} {event.name:<24} {text}".rstrip())
        return "\n".join(rows)

    def __repr__(self) -> str:
        return f"Timeline(status={self.status}, events={self.kinds})"


def mark(label: str, **detail: Any) -> None:
    """Record a `mark` event in the timeline being recorded, if any.

    Call it from task code to pin down a side effect precisely; outside a
    recording it does nothing.
    """
    timeline = _current.get()
    if timeline is not None:
        timeline.add("mark", label, **detail)


class _LineTap(io.TextIOBase):
    """A stdout stand-in: passes text on, and records each complete line in
    the timeline of the context that printed it (if it asked for output)."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.pending: dict[int, str] = {}

    def write(self, text: str) -> int:
        self.target.write(text)
        timeline = _current.get()
        if timeline is None or not timeline.capture_output:
            return len(text)
        key = id(timeline)
        pending = self.pending.get(key, "") + text
        while "\n" in pending:
            line, pending = pending.split("\n", 1)
            timeline.add("output", text=line)
        self.pending[key] = pending
        return len(text)

    def flush(self) -> None:
        self.target.flush()


class _LogTap(logging.Handler):
    """A root-logger handler recording each record in the current context's timeline."""

    def emit(self, record: logging.LogRecord) -> None:
        timeline = _current.get()
        if timeline is None or record.levelno < timeline.log_level:
            return
        timeline.add(
            "log",
            record.name,
            level=record.levelname,
            text=record.getMessage(),
            exc_info=bool(record.exc_info),
            task_name=getattr(record, "task_name", None),
        )


class _Taps:
    """stdout and root-logger taps shared by every recording in the process.

    Installed by the first recording and removed by the last, so overlapping
    recordings that end in any order leave `sys.stdout` and the root logger
    as they found them. Each line and record goes to the timeline of the
    context it came from (task threads inherit the request's context).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.handler = _LogTap(logging.DEBUG)
        self.saved_stdout: TextIO | None = None
        self.saved_level = logging.NOTSET

    @contextmanager
    def active(self, log_level: int) -> Iterator[None]:
        root = logging.getLogger()
        with self.lock:
            if self.users == 0:
                self.saved_stdout, self.saved_level = sys.stdout, root.level
                sys.stdout = _LineTap(sys.stdout)
                root.addHandler(self.handler)
            if root.level == logging.NOTSET or root.level > log_level:
                root.setLevel(log_level)
            self.users += 1
        try:
            yield
        finally:
            with self.lock:
                self.users -= 1
                if self.users == 0:
                    assert self.saved_stdout is not None
                    sys.stdout = self.saved_stdout
                    root.removeHandler(self.handler)
                    root.setLevel(self.saved_level)


_taps = _Taps()


def task_event_detail(event: TaskEvent) -> tuple[str, dict[str, Any]]:
    """The timeline kind of a runner's `TaskEvent`, and the details recorded with it.

    `started` becomes `task_started`; `finished` becomes `task_finished` with
    its `duration`; `lost` becomes `task_lost`; `failed` and `retrying` become
    `task_failed` and `task_retrying` with `duration`, `error`
    (`"TypeName: message"`) and `attempt`. Shared by the recorder and by
    anything that reports the same events elsewhere (the terminal tutorial's
    server streams them as JSON).

    Example:
        ```python
        from ravyn.testing import task_event_detail

        def listen(event):
            kind, detail = task_event_detail(event)
            print(kind, event.name, detail)
        ```
    """
    if event.kind == "started":
        return "task_started", {}
    if event.kind == "finished":
        return "task_finished", {"duration": event.duration}
    if event.kind == "lost":
        return "task_lost", {}
    error = f"{type(event.error).__name__}: {event.error}"
    kind = "task_failed" if event.kind == "failed" else "task_retrying"
    return kind, {"duration": event.duration, "error": error, "attempt": event.attempt}


def _task_listener(timeline: Timeline) -> Any:
    def listen(event: TaskEvent) -> None:
        kind, detail = task_event_detail(event)
        timeline.add(kind, event.name, **detail)

    return listen


class Recorder:
    """Drives an ASGI app in-process, its lifespan included, and records
    timelines of its requests.

    Use it as `async with Recorder(app) as recorder:` to run the app's startup
    and shutdown around several requests; `record()` does this for one.
    """

    def __init__(self, app: ASGIApp, *, capture_output: bool = True, log_level: int = logging.INFO) -> None:
        self.app = app
        self.capture_output = capture_output
        self.log_level = log_level
        self._lifespan: _LifespanDriver | None = None

    async def __aenter__(self) -> Recorder:
        self._lifespan = _LifespanDriver(self.app)
        await self._lifespan.startup()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._lifespan is not None
        await self._lifespan.shutdown()
        self._lifespan = None

    async def request(
        self,
        method: str = "GET",
        path: str = "/",
        *,
        json: Any = _UNSET,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        raise_app_exceptions: bool = True,
    ) -> Timeline:
        """Send one request and return its timeline once the ASGI call ends
        (its background tasks included).

        `json=` sends a JSON body, `data=` a form, `content=` raw bytes. Once
        the response is complete the client is gone (`receive` answers
        `http.disconnect`), as a browser that closed the tab would be.
        An exception the app lets escape (Lilya re-raises unhandled errors
        after sending its 500, so the server can log them) is raised here
        too, unless `raise_app_exceptions=False`: then it is recorded as an
        `app_error` event and the timeline returned.
        """
        body, content_type = _encode_body(json, data, content)
        defaults = {"host": "testserver"}
        if content_type:
            defaults["content-type"] = content_type
        if body:
            defaults["content-length"] = str(len(body))
        merged = defaults | {key.lower(): value for key, value in (headers or {}).items()}
        header_list = [(key.encode("latin-1"), value.encode("latin-1")) for key, value in merged.items()]
        raw_path, _, query = path.partition("?")
        if params:
            query = "&".join(filter(None, [query, urlencode(params, doseq=True)]))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method.upper(),
            "scheme": "http",
            "path": raw_path,
            "raw_path": raw_path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": header_list,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": dict(self._lifespan.state) if self._lifespan else {},
        }
        timeline = Timeline(time.perf_counter(), capture_output=self.capture_output, log_level=self.log_level)
        response_done = anyio.Event()
        request_sent = False

        async def receive() -> Message:
            nonlocal request_sent
            # like uvicorn: once the response is complete, an unread body is gone
            if not request_sent and not response_done.is_set():
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await response_done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                timeline.status = message["status"]
                timeline.headers = [
                    (bytes(k).decode("latin-1").lower(), bytes(v).decode("latin-1"))
                    for k, v in message.get("headers", [])
                ]
                timeline.add("response_started", status=message["status"])
            elif message["type"] == "http.response.body":
                if response_done.is_set():
                    return
                timeline.body += message.get("body", b"")
                if not message.get("more_body", False):
                    timeline.add("response_complete", bytes=len(timeline.body))
                    response_done.set()

        token = _current.set(timeline)
        try:
            with (
                _taps.active(self.log_level),
                observe_tasks(_task_listener(timeline)),
            ):
                # the clock starts here, not while the recording was being set up
                timeline.started = time.perf_counter()
                timeline.add("request", method=method.upper(), path=path)
                try:
                    await self.app(scope, receive, send)
                except Exception as exc:
                    timeline.add("app_error", error=f"{type(exc).__name__}: {exc}")
                    if raise_app_exceptions:
                        raise
                timeline.add("call_complete")
        finally:
            _current.reset(token)
        return timeline


class _LifespanDriver:
    """Runs an app's ASGI lifespan startup and shutdown, like a server would."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._group: Any = None

    async def startup(self) -> None:
        self._send_in, self._receive_in = anyio.create_memory_object_stream[Message](4)
        self._send_out, self._receive_out = anyio.create_memory_object_stream[Message](4)
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        self._group.start_soon(self._run)
        await self._send_in.send({"type": "lifespan.startup"})
        reply = await self._receive_out.receive()
        if reply["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"the app failed to start: {reply.get('message', '')}")

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        try:
            await self.app(scope, self._receive_in.receive, self._send_out.send)
        except Exception:
            # an app without lifespan support: behave like uvicorn's "auto" mode
            await self._send_out.send({"type": "lifespan.startup.complete"})
            await self._send_out.send({"type": "lifespan.shutdown.complete"})

    async def shutdown(self) -> None:
        await self._send_in.send({"type": "lifespan.shutdown"})
        reply = await self._receive_out.receive()
        await self._group.__aexit__(None, None, None)
        if reply["type"] == "lifespan.shutdown.failed":
            raise RuntimeError(f"the app failed to shut down: {reply.get('message', '')}")


def _encode_body(
    json: Any, data: Mapping[str, Any] | None, content: bytes | None
) -> tuple[bytes, str | None]:
    if json is not _UNSET:
        return jsonlib.dumps(json).encode(), "application/json"
    if data is not None:
        return urlencode(data, doseq=True).encode(), "application/x-www-form-urlencoded"
    return content or b"", None


async def record(app: ASGIApp, method: str = "GET", path: str = "/", **options: Any) -> Timeline:
    """Run `app`'s startup, send one request, run its shutdown, and return
    the request's timeline. `options` are those of `Recorder.request`.

    Example:
        ```python
        timeline = await record(app, "POST", "/register", json={"email": "a@b.c"})
        assert timeline.response_complete < timeline.first("task_started")
        ```
    """
    async with Recorder(app) as recorder:
        return await recorder.request(method, path, **options)
