"""Running a lesson for real: uvicorn in a process of its own, a client, a live timeline.

[`serve_lesson`][ravyn_tutorial.runner.serve_lesson] serves `<module>:app`
with [`ravyn.testing.serve`][ravyn.testing.serve] on 127.0.0.1, forked from
this process (ravyn and uvicorn are already imported, so a lesson starts
quickly), through [`lesson_app`][ravyn_tutorial.serve.lesson_app], and turns
the JSON lines the server prints into `Event`s on a queue, as they come.
`send` makes the lesson's request with the standard library's HTTP client (no
extra dependency) and puts the client's own events on the same queue, with
the response time it measured. The `run_*` functions draw what arrives with
`rich.live.Live`.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import http.client
import json as jsonlib
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.rule import Rule
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from ravyn.testing import Server, free_port, serve
from ravyn_tutorial.lessons import Lesson, load_lessons
from ravyn_tutorial.pitfalls import what_went_wrong
from ravyn_tutorial.receiver import WebhookReceiver, needs_receiver
from ravyn_tutorial.render import bars, compare_summary, takeaway, timeline_table
from ravyn_tutorial.serve import LESSON_ENVIRONMENT, MODE_HEADER, REQUEST_HEADER, lesson_app
from ravyn_tutorial.timeline import Event, RequestView, format_offset

__all__ = [
    "LessonOutput",
    "ServerFailed",
    "Session",
    "live_run",
    "poll_status",
    "run_compare",
    "run_lesson",
    "send",
    "serve_forever",
    "serve_lesson",
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
UVICORN_ARGS = ("--factory", "--no-access-log")
"""`lesson_app` is a factory; the requests show up as events instead of an access log."""


class ServerFailed(Exception):
    """The lesson's server did not start; `details` says why (its own words)."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class LessonOutput:
    """Sorts the lines a lesson's server prints: its events go on `events`;
    any other line (and its `stderr` events) is kept in `tail`, to explain a crash."""

    def __init__(self) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self.tail: collections.deque[str] = collections.deque(maxlen=40)
        self.fatal = ""
        """The traceback of an app that could not be imported."""

    def __call__(self, line: str) -> None:
        if not line.startswith('{"event"'):
            self.tail.append(line)  # written behind the event stream's back (uvicorn itself, C code)
            return
        event = Event.from_json(line)
        if event.kind == "fatal":
            self.fatal = str(event.get("text"))
        elif event.kind == "stderr":
            self.tail.append(str(event.get("text")))
        else:
            self.events.put(event)


@contextmanager
def serve_lesson(
    target: str, cwd: Path, port: int = 0, env: dict[str, str] | None = None
) -> Iterator[tuple[Server, LessonOutput]]:
    """Serve `target` (`module:app`, imported from `cwd`) on 127.0.0.1, on
    `port` or, when that one is taken (or 0), on a free one, with `env` added
    to its environment; always stopped on the way out. `ServerFailed` says
    why it did not start."""
    output = LessonOutput()
    with ExitStack() as stack:
        try:
            server = stack.enter_context(
                serve(
                    functools.partial(lesson_app, target),
                    cwd=cwd,
                    env={**LESSON_ENVIRONMENT, **(env or {})},
                    uvicorn_args=UVICORN_ARGS,
                    ready_timeout=READY_TIMEOUT,
                    port=free_port(port),
                    on_output=output,
                )
            )
        except RuntimeError:  # it exited before it listened
            if output.fatal:
                raise ServerFailed(f"{target} could not be imported", output.fatal) from None
            raise ServerFailed(f"the server for {target} stopped", "\n".join(output.tail)) from None
        except TimeoutError:
            raise ServerFailed(
                f"the server for {target} did not start in {READY_TIMEOUT:.0f} s", "\n".join(output.tail)
            ) from None
        yield server, output


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
        "location": response.getheader("location") or "",
    }
    events.put(Event("response", started_wall + elapsed, label, fields))


FINAL_STATES = ("success", "failure")
"""Job states after which polling stops."""
POLL_EVERY = 0.15
"""Seconds between two polls of a job's status."""


def poll_status(
    events: queue.Queue[Event], host: str, port: int, path: str, *, label: str, limit: float = QUEUE_SETTLE
) -> None:
    """GET `path` every `POLL_EVERY` seconds, putting a `poll` event for each
    answer, until its JSON `state` is final, it is not a 200, or `limit` runs out."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection(host, port, timeout=5)
        try:
            connection.request("GET", path, headers={REQUEST_HEADER.decode(): f"{label}-poll"})
            response = connection.getresponse()
            data = response.read()
        except OSError as exc:
            events.put(Event("poll", time.time(), label, {"path": path, "status": 0, "state": str(exc)}))
            return
        finally:
            connection.close()
        try:
            state = str(jsonlib.loads(data).get("state", ""))
        except (ValueError, AttributeError):
            state = ""
        events.put(
            Event("poll", time.time(), label, {"path": path, "status": response.status, "state": state})
        )
        if response.status != 200 or state in FINAL_STATES:
            return
        time.sleep(POLL_EVERY)


class Session:
    """A lesson's server (and webhook receiver, if it needs one), the body
    to send, and the views being drawn."""

    host = "127.0.0.1"

    def __init__(
        self,
        lesson: Lesson,
        server: Server,
        events: queue.Queue[Event],
        stack: ExitStack,
        requested_port: int = 0,
    ) -> None:
        self.lesson = lesson
        self.server = server
        self.events = events
        """What the server, the client and the receiver report, in the order it arrives."""
        self.requested_port = requested_port
        self.body: Any = lesson.example.json
        self.current = ""
        self.receiver: WebhookReceiver | None = None
        field = needs_receiver(self.body)
        if field is not None:
            self.receiver = stack.enter_context(WebhookReceiver(events, lambda: self.current))
            self.body = {**self.body, field: self.receiver.rewrite(self.body[field])}

    @property
    def moved(self) -> bool:
        """Whether the requested port was taken, so another one was used."""
        return self.requested_port not in (0, self.server.port)

    def interrupt(self, request: str = "") -> None:
        """Send the server SIGINT, as Ctrl-C in its terminal would, and put an
        `interrupt` event of `request` on the queue."""
        if self.server.alive:
            self.events.put(Event("interrupt", time.time(), request, {"signal": "SIGINT"}))
            self.server.process.send_signal(signal.SIGINT)

    def curl(self) -> str:
        """The command to send the lesson's request by hand (with the body really sent)."""
        example = self.lesson.example
        if self.body is not example.json and dataclasses.is_dataclass(example):
            example = dataclasses.replace(example, json=self.body)
        return example.curl(self.server.url)

    def warm_up(self) -> None:
        """One request the app answers 404 to, so the lesson's timing is not a cold start."""
        send(self.events, self.host, self.server.port, "GET", WARM_UP_PATH, label="warm-up")

    def send(self, label: str, mode: str = "") -> threading.Thread:
        """Send the lesson's request from a thread; its events go on the queue."""
        self.current = label
        example = self.lesson.example
        thread = threading.Thread(
            target=send,
            args=(
                self.events,
                self.host,
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

    def poll_job(self, view: RequestView) -> threading.Thread | None:
        """For a response that points at the job's status (a `location`
        header), poll it from a thread as a client would, until it is final."""
        if not view.location.startswith("/"):
            return None
        thread = threading.Thread(
            target=poll_status,
            args=(self.events, self.host, self.server.port, view.location),
            kwargs={"label": view.label},
            daemon=True,
        )
        thread.start()
        return thread

    def drain(self, views: dict[str, RequestView], wait: float) -> None:
        """Apply every queued event to its view (waiting up to `wait` for the first).
        Events of no request (a queue worker's log, say) go to the current one."""
        try:
            event = self.events.get(timeout=wait)
        except queue.Empty:
            return
        while True:
            view = views.get(event.request or self.current)
            # an event of no request counts only once the current request is under way
            if view is not None and (event.request or (view.t0 is not None and event.t >= view.t0)):
                view.apply(event)
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return

    def watch(self, views: list[RequestView], refresh: Callable[[], None], timeout: float) -> bool:
        """Follow events until every view is done; False if `timeout` ran out."""
        by_label = {view.label: view for view in views}
        deadline = time.monotonic() + timeout
        while not all(view.done for view in views):
            if time.monotonic() > deadline or not self.server.alive:
                return False
            self.drain(by_label, 0.05)
            refresh()
        if getattr(self.lesson.example, "queue", None):
            # the work went to a queue worker: follow its reports until it goes quiet
            # (and, for a job the client can follow, until its status is final)
            pollers = [self.poll_job(view) for view in views]
            give_up = time.monotonic() + QUEUE_SETTLE
            seen = sum(len(view.rows) for view in views)
            quiet_since = time.monotonic()
            while time.monotonic() < give_up and (
                time.monotonic() - quiet_since < QUEUE_QUIET
                or any(p is not None and p.is_alive() for p in pollers)
            ):
                self.drain(by_label, 0.05)
                now_seen = sum(len(view.rows) for view in views)
                if now_seen != seen:
                    seen, quiet_since = now_seen, time.monotonic()
                refresh()
        self.drain(by_label, SETTLE)
        refresh()
        return True


@contextmanager
def session(lesson: Lesson, port: int = 0, env: dict[str, str] | None = None) -> Iterator[Session]:
    """Start the lesson's server (and receiver), warm it up, stop everything after."""
    with ExitStack() as stack:
        server, output = stack.enter_context(serve_lesson(lesson.target, lesson.root, port, env))
        current = Session(lesson, server, output.events, stack, port)
        current.warm_up()
        yield current


def _header(lesson: Lesson, current: Session) -> RenderableType:
    module_file = lesson.example.import_path.replace(".", "/") + ".py"
    lines = Text()
    lines.append(f"{lesson.request_line}", style="bold")
    lines.append(f"  →  uvicorn at {current.server.url}\n", style="dim")
    lines.append(f"the app: {module_file}", style="dim")
    if current.moved:
        lines.append(
            f"\nport {current.requested_port} was in use: using {current.server.port} instead", style="yellow"
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
    """Redraw `render()` as events arrive; when done, leave its final state
    printed once (and, on a recording console, recorded once)."""
    try:
        with Live(render(), console=console, refresh_per_second=12, transient=True) as live:

            def refresh() -> None:
                live.update(render())

            yield refresh
    finally:  # Ctrl-C included: what was seen so far stays on the screen
        if console.record:
            console.export_text(clear=True)  # drop the frames drawn on the way
        console.print(render())


def live_run(
    console: Console, current: Session, follow: Callable[[RequestView, Callable[[], None]], bool]
) -> tuple[RequestView, bool]:
    """Send the lesson's request and draw its timeline live while
    `follow(view, refresh)` watches it; then print its bars.

    Returns the finished timeline and what `follow` returned.
    """
    view = RequestView("lesson")
    header = _header(current.lesson, current)
    finished = False

    def render() -> RenderableType:
        parts: list[RenderableType] = [header, timeline_table(view)]
        if not finished:
            parts.append(_spinner([view]))
        return Group(*parts)

    with _live(console, render) as refresh:
        current.send("lesson")
        result = follow(view, refresh)
        finished = True
    console.print()
    console.print(bars(view, console.width))
    console.print()
    return view, result


def run_lesson(
    console: Console,
    lesson: Lesson,
    *,
    port: int = 0,
    timeout: float = 15.0,
    serve: bool = False,
    after: Callable[[RequestView], None] | None = None,
) -> bool:
    """Run a lesson's request under uvicorn and draw its timeline live.

    Returns whether the request and its tasks completed within `timeout`.
    `after` is called with the finished timeline, before any serving.
    With `serve`, keeps the server up afterwards (see `serve_forever`).
    """
    with session(lesson, port) as current:
        view, complete = live_run(
            console, current, lambda view, refresh: current.watch([view], refresh, timeout)
        )
        if not complete:
            console.print(
                Text(f"Stopped watching after {timeout:.0f} s: the tasks were still running.", style="yellow")
            )
        queue_name = getattr(lesson.example, "queue", None)
        console.print(Text("Takeaway: ", style="bold").append_text(takeaway(view, queue_name)))
        ending = what_went_wrong(lesson.name, view, load_lessons(lesson.root))
        if ending is not None:
            console.print(ending)
        if after is not None:
            after(view)
        if serve:
            current.current = ""
            serve_forever(console, current)
        return complete


def run_compare(console: Console, lesson: Lesson, *, port: int = 0, timeout: float = 15.0) -> bool:
    """The lesson's request twice on one server: with the work done inline
    (the response held until the tasks are done) and as background tasks."""
    with session(lesson, port) as current:
        inline, background = RequestView("inline"), RequestView("background")
        header = _header(lesson, current)
        finished = False

        def render() -> RenderableType:
            grid = Table.grid(expand=True, padding=(0, 1))
            grid.add_column(ratio=1)
            grid.add_column(ratio=1)
            half = max((console.width - 1) // 2 - 4, 20)
            scale = max(inline.span, background.span)
            grid.add_row(
                *(
                    Panel(
                        Group(
                            timeline_table(view, compact=True),
                            Text(""),
                            bars(view, half, compact=True, scale=scale),
                        ),
                        title=title,
                        title_align="left",
                    )
                    for view, title in (
                        (inline, "inline: the client waits"),
                        (background, "as a background task"),
                    )
                )
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
                "would do if it called them itself (a task that fails would then fail the request).",
                style="dim",
            )
        )
        return complete


def serve_forever(console: Console, current: Session) -> None:
    """Keep the server up, print what happens to each request, stop on Ctrl-C."""
    lesson, server = current.lesson, current.server
    curl = current.curl()
    console.print()
    console.print(Rule(f"[bold]serving {lesson.name}[/] at {server.url}", align="left"))
    console.print("The server stays up. Try it from another terminal:")
    console.print()
    console.print(Text(curl, style="bold"), soft_wrap=True)
    console.print()
    console.print(Text("Each request's events show up below. Press Ctrl-C to stop the server.", style="dim"))
    starts: dict[str, float] = {}
    try:
        while server.alive:
            try:
                event = current.events.get(timeout=0.2)
            except queue.Empty:
                continue
            if event.kind == "received":
                starts[event.request] = event.t
            start = starts.get(event.request, event.t)
            line = _serve_line(event)
            if line is not None:
                row = Table.grid(padding=(0, 1))
                row.add_column(width=4, style="dim", no_wrap=True)
                row.add_column(width=9, justify="right", style="dim", no_wrap=True)
                row.add_column(ratio=1)
                row.add_row(event.request or "", format_offset(event.t - start), line)
                console.print(row)
    except KeyboardInterrupt:
        pass
    console.print(Text("Stopping the server…", style="dim"))
    server.stop(timeout=5.0)
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
        logger = str(event.get("logger", "")).rsplit(".", 1)[-1]
        return Text(f"{event.get('level')} {logger}: {event.get('text')}", style="yellow")
    if kind == "call_complete":
        return Text("request done (tasks included)", style="dim")
    if kind == "webhook_received":
        return Text(f"⇠ webhook received at {event.get('path')}: {event.get('body')}", style="cyan")
    return None
