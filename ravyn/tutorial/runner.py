"""Running a lesson for real: uvicorn in a subprocess, a client, a live timeline.

[`LessonServer`][ravyn.tutorial.runner.LessonServer] starts
`python -m ravyn.tutorial.serve <module>:app` on a free 127.0.0.1 port and
turns the JSON lines it prints into `Event`s on a queue. `send` makes the
lesson's request with the standard library's HTTP client (no extra
dependency) and puts the client's own events on the same queue, with the
response time it measured. The `run_*` functions draw what arrives with
`rich.live.Live`.
"""

from __future__ import annotations

import collections
import dataclasses
import http.client
import json as jsonlib
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.rule import Rule
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from ravyn.tutorial.lessons import Lesson
from ravyn.tutorial.receiver import WebhookReceiver, needs_receiver
from ravyn.tutorial.render import bars, compare_summary, takeaway, timeline_table
from ravyn.tutorial.serve import MODE_HEADER, REQUEST_HEADER
from ravyn.tutorial.timeline import Event, RequestView, format_offset

__all__ = [
    "LessonServer",
    "ServerFailed",
    "Session",
    "run_compare",
    "run_lesson",
    "send",
    "serve_forever",
    "session",
]

READY_TIMEOUT = 20.0
WARM_UP_PATH = "/__ravyn_tutorial__/warm-up"
SETTLE = 0.1
"""Seconds to keep listening after a request is done, for stragglers."""
QUEUE_SETTLE = 5.0
"""The most to wait for a queue worker's reports after the response."""
QUEUE_QUIET = 0.75
"""... and how long a silence means it is done."""


class ServerFailed(Exception):
    """The lesson's server did not start; `details` says why (its own words)."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class LessonServer:
    """A lesson's app under a real uvicorn, in a subprocess bound to 127.0.0.1.

    Use as a context manager: the server is always stopped on the way out.
    """

    def __init__(self, target: str, cwd: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        self.target = target
        self.cwd = cwd
        self.requested_port = port
        self.host = host
        self.port = 0
        self.events: queue.Queue[Event] = queue.Queue()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        self.process: subprocess.Popen[str] | None = None
        self._ready = threading.Event()
        self._fatal = ""
        self._threads: list[threading.Thread] = []

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> LessonServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
        command = [sys.executable, "-m", "ravyn.tutorial.serve", self.target]
        command += ["--host", self.host, "--port", str(self.requested_port)]
        self.process = subprocess.Popen(
            command,
            cwd=self.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self._follow(self.process.stdout, self._on_stdout)
        self._follow(self.process.stderr, self.stderr_tail.append)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _follow(self, stream: IO[str], handle: Callable[[str], None]) -> None:
        def pump() -> None:
            for line in stream:
                handle(line.rstrip("\n"))

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _on_stdout(self, line: str) -> None:
        event = Event.from_json(line)
        if event.kind == "ready":
            self.port = int(event.get("port"))
            self._ready.set()
        elif event.kind == "fatal":
            self._fatal = str(event.get("text"))
        else:
            self.events.put(event)

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT
        while not self._ready.wait(0.05):
            if self.process.poll() is not None:
                for thread in self._threads:
                    thread.join(1)
                if self._fatal:
                    raise ServerFailed(f"{self.target} could not be imported", self._fatal)
                raise ServerFailed(f"the server for {self.target} stopped", "\n".join(self.stderr_tail))
            if time.monotonic() > deadline:
                raise ServerFailed(
                    f"the server for {self.target} did not start in {READY_TIMEOUT:.0f} s",
                    "\n".join(self.stderr_tail),
                )

    @property
    def moved(self) -> bool:
        """Whether the requested port was taken, so another one was used."""
        return self.requested_port not in (0, self.port)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL if it lingers) and its readers."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        for thread in self._threads:
            thread.join(1)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def send(
    events: queue.Queue[Event],
    host: str,
    port: int,
    method: str,
    path: str,
    body: Any = None,
    *,
    label: str,
    mode: str = "",
    timeout: float = 60.0,
) -> None:
    """Make one request and put `request_sent` then `response` (or
    `client_error`) on `events`. The response time is measured here, on the
    client, from just before connecting to holding the whole body."""
    headers = {REQUEST_HEADER.decode(): label, "user-agent": "ravyn-tutorial"}
    if mode:
        headers[MODE_HEADER.decode()] = mode
    payload = None
    if body is not None:
        payload = jsonlib.dumps(body).encode()
        headers["content-type"] = "application/json"
    started_wall, started = time.time(), time.perf_counter()
    events.put(Event("request_sent", started_wall, label, {"method": method, "path": path, "json": body}))
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
    except OSError as exc:
        events.put(Event("client_error", time.time(), label, {"text": f"{type(exc).__name__}: {exc}"}))
        return
    finally:
        connection.close()
    fields = {
        "status": response.status,
        "reason": response.reason,
        "body": data.decode("utf-8", "replace"),
        "elapsed": elapsed,
    }
    events.put(Event("response", started_wall + elapsed, label, fields))


class Session:
    """A lesson's server (and webhook receiver, if it needs one), the body
    to send, and the views being drawn."""

    def __init__(self, lesson: Lesson, server: LessonServer, stack: ExitStack) -> None:
        self.lesson = lesson
        self.server = server
        self.body: Any = lesson.example.json
        self.current = ""
        self.receiver: WebhookReceiver | None = None
        field = needs_receiver(self.body)
        if field is not None:
            self.receiver = stack.enter_context(WebhookReceiver(server.events, lambda: self.current))
            self.body = {**self.body, field: self.receiver.rewrite(self.body[field])}

    def curl(self) -> str:
        """The command to send the lesson's request by hand (with the body really sent)."""
        example = self.lesson.example
        if self.body is not example.json and dataclasses.is_dataclass(example):
            example = dataclasses.replace(example, json=self.body)
        return example.curl(self.server.base_url)

    def warm_up(self) -> None:
        """One request the app answers 404 to, so the lesson's timing is not a cold start."""
        send(self.server.events, self.server.host, self.server.port, "GET", WARM_UP_PATH, label="warm-up")

    def send(self, label: str, mode: str = "") -> threading.Thread:
        """Send the lesson's request from a thread; its events go on the queue."""
        self.current = label
        example = self.lesson.example
        thread = threading.Thread(
            target=send,
            args=(
                self.server.events,
                self.server.host,
                self.server.port,
                example.method,
                example.path,
                self.body,
            ),
            kwargs={"label": label, "mode": mode},
            daemon=True,
        )
        thread.start()
        return thread

    def drain(self, views: dict[str, RequestView], wait: float) -> None:
        """Apply every queued event to its view (waiting up to `wait` for the first).
        Events of no request (a queue worker's log, say) go to the current one."""
        try:
            event = self.server.events.get(timeout=wait)
        except queue.Empty:
            return
        while True:
            view = views.get(event.request or self.current)
            # an event of no request counts only once the current request is under way
            if view is not None and (event.request or (view.t0 is not None and event.t >= view.t0)):
                view.apply(event)
            try:
                event = self.server.events.get_nowait()
            except queue.Empty:
                return

    def watch(self, views: list[RequestView], refresh: Callable[[], None], timeout: float) -> bool:
        """Follow events until every view is done; False if `timeout` ran out."""
        by_label = {view.label: view for view in views}
        deadline = time.monotonic() + timeout
        while not all(view.done for view in views):
            if time.monotonic() > deadline or self.server.process is None:
                return False
            if self.server.process.poll() is not None:
                return False
            self.drain(by_label, 0.05)
            refresh()
        if getattr(self.lesson.example, "queue", None):
            # the work went to a queue worker: follow its reports until it goes quiet
            give_up = time.monotonic() + QUEUE_SETTLE
            seen = sum(len(view.rows) for view in views)
            quiet_since = time.monotonic()
            while time.monotonic() < give_up and time.monotonic() - quiet_since < QUEUE_QUIET:
                self.drain(by_label, 0.05)
                now_seen = sum(len(view.rows) for view in views)
                if now_seen != seen:
                    seen, quiet_since = now_seen, time.monotonic()
                refresh()
        self.drain(by_label, SETTLE)
        refresh()
        return True


@contextmanager
def session(lesson: Lesson, port: int = 0) -> Iterator[Session]:
    """Start the lesson's server (and receiver), warm it up, stop everything after."""
    with ExitStack() as stack:
        server = stack.enter_context(LessonServer(lesson.target, lesson.root, port))
        current = Session(lesson, server, stack)
        current.warm_up()
        yield current


def _header(lesson: Lesson, server: LessonServer) -> RenderableType:
    module_file = lesson.example.import_path.replace(".", "/") + ".py"
    lines = Text()
    lines.append(f"{lesson.request_line}", style="bold")
    lines.append(f"  →  uvicorn at {server.base_url}\n", style="dim")
    lines.append(f"the app: {module_file}", style="dim")
    if server.moved:
        lines.append(
            f"\nport {server.requested_port} was in use: using {server.port} instead", style="yellow"
        )
    return Group(Rule(f"[bold]{lesson.name}[/] · {lesson.title}", align="left"), lines, Text(""))


def _spinner(views: list[RequestView]) -> RenderableType:
    waiting = [v for v in views if not v.answered]
    running = [span.name for v in views for span in v.running]
    if waiting:
        message = "waiting for the response…"
    elif running:
        message = f"running {', '.join(running)}…"
    else:
        message = "waiting for the server to finish the request…"
    return Spinner("dots", Text(message, style="dim"))


@contextmanager
def _live(console: Console, render: Callable[[], RenderableType]) -> Iterator[Callable[[], None]]:
    with Live(render(), console=console, refresh_per_second=12, transient=False) as live:

        def refresh() -> None:
            live.update(render())

        yield refresh
        refresh()


def run_lesson(
    console: Console, lesson: Lesson, *, port: int = 0, timeout: float = 15.0, serve: bool = False
) -> bool:
    """Run a lesson's request under uvicorn and draw its timeline live.

    Returns whether the request and its tasks completed within `timeout`.
    With `serve`, keeps the server up afterwards (see `serve_forever`).
    """
    with session(lesson, port) as current:
        server = current.server
        view = RequestView("lesson")
        header = _header(lesson, server)
        finished = False

        def render() -> RenderableType:
            parts: list[RenderableType] = [header, timeline_table(view)]
            if not finished:
                parts.append(_spinner([view]))
            return Group(*parts)

        with _live(console, render) as refresh:
            current.send("lesson")
            complete = current.watch([view], refresh, timeout)
            finished = True
        console.print()
        console.print(bars(view, console.width))
        console.print()
        if not complete:
            console.print(
                Text(f"Stopped watching after {timeout:.0f} s: the tasks were still running.", style="yellow")
            )
        queue_name = getattr(lesson.example, "queue", None)
        console.print(Text("Takeaway: ", style="bold").append_text(takeaway(view, queue_name)))
        if serve:
            current.current = ""
            serve_forever(console, current)
        return complete


def run_compare(console: Console, lesson: Lesson, *, port: int = 0, timeout: float = 15.0) -> bool:
    """The lesson's request twice on one server: with the work done inline
    (the response held until the tasks are done) and as background tasks."""
    with session(lesson, port) as current:
        server = current.server
        inline, background = RequestView("inline"), RequestView("background")
        header = _header(lesson, server)
        finished = False

        def render() -> RenderableType:
            grid = Table.grid(expand=True, padding=(0, 1))
            grid.add_column(ratio=1)
            grid.add_column(ratio=1)
            half = max((console.width - 1) // 2 - 4, 20)
            grid.add_row(
                Panel(
                    Group(timeline_table(inline, compact=True), Text(""), bars(inline, half, compact=True)),
                    title="inline: the client waits",
                    title_align="left",
                ),
                Panel(
                    Group(
                        timeline_table(background, compact=True),
                        Text(""),
                        bars(background, half, compact=True),
                    ),
                    title="as a background task",
                    title_align="left",
                ),
            )
            parts: list[RenderableType] = [header, grid]
            if not finished:
                parts.append(_spinner([inline, background]))
            return Group(*parts)

        with _live(console, render) as refresh:
            current.send("inline", mode="inline")
            complete = current.watch([inline], refresh, timeout)
            if complete:
                current.send("background")
                complete = current.watch([background], refresh, timeout)
            finished = True
        console.print()
        console.print(compare_summary(inline, background))
        console.print()
        console.print(
            Text(
                "Inline means the same tasks, run before the response is sent: what the handler "
                "would do if it called them itself.",
                style="dim",
            )
        )
        return complete


def serve_forever(console: Console, current: Session) -> None:
    """Keep the server up, print what happens to each request, stop on Ctrl-C."""
    lesson, server = current.lesson, current.server
    curl = current.curl()
    console.print()
    console.print(
        Panel(
            Text.assemble(
                ("The server stays up. Try it from another terminal:\n\n", ""),
                (curl, "bold"),
                ("\n\nPress Ctrl-C to stop it.", "dim"),
            ),
            title=f"serving {lesson.name} at {server.base_url}",
            title_align="left",
        ),
        soft_wrap=True,
    )
    starts: dict[str, float] = {}
    try:
        while server.process is not None and server.process.poll() is None:
            try:
                event = server.events.get(timeout=0.2)
            except queue.Empty:
                continue
            if event.kind == "received":
                starts[event.request] = event.t
            start = starts.get(event.request, event.t)
            line = _serve_line(event)
            if line is not None:
                console.print(
                    Text(f"{event.request:>4} {format_offset(event.t - start):>10}  ", style="dim"), line
                )
    except KeyboardInterrupt:
        pass
    console.print(Text("Stopping the server…", style="dim"))
    server.stop()
    console.print("Server stopped.")


def _serve_line(event: Event) -> Text | None:
    kind = event.kind
    if kind == "received":
        return Text(f"→ {event.get('method')} {event.get('path')}", style="bold cyan")
    if kind == "response_sent":
        return Text(f"← response {event.get('status')} sent", style="bold")
    if kind == "task_started":
        return Text(f"▶ {event.get('name')} started", style="magenta")
    if kind == "task_finished":
        return Text(
            f"✔ {event.get('name')} finished in {float(event.get('duration')) * 1000:.1f} ms", "magenta"
        )
    if kind == "task_failed":
        return Text(f"✘ {event.get('name')} failed: {event.get('error')}", style="bold red")
    if kind == "output":
        return Text(str(event.get("text")), style="green")
    if kind == "log":
        return Text(f"{event.get('level')} {event.get('logger')}: {event.get('text')}", style="yellow")
    if kind == "call_complete":
        return Text("request done (tasks included)", style="dim")
    if kind == "webhook_received":
        return Text(f"⇠ webhook received at {event.get('path')}: {event.get('body')}", style="cyan")
    return None
