"""What one request looked like, built from the events of the client and the server.

The CLI feeds [`RequestView.apply`][ravyn_tutorial.timeline.RequestView.apply]
with events as they arrive (from its HTTP client and from the server's event
stream); `render` draws the view at any moment, which is how the timeline is
drawn live.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Event", "RequestView", "Row", "TaskSpan", "format_duration", "format_offset"]


KILLED = "killed with its server (SIGKILL)"
"""The error of a task span cut short by `run --crash`."""


@dataclass(frozen=True)
class Event:
    """One thing that happened, on the client or in the server.

    `t` is wall-clock time (`time.time()`), shared by both processes.
    """

    kind: str
    t: float
    request: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, line: str) -> Event:
        """Parse a line of the server's stream; a line that is not an event
        becomes an `output` event (something wrote to stdout behind our back)."""
        try:
            data = json.loads(line)
        except ValueError:
            data = None
        if not isinstance(data, dict) or "event" not in data:
            return cls("output", 0.0, "", {"text": line.rstrip("\n")})
        kind = str(data.pop("event"))
        t = float(data.pop("t", 0.0))
        request = str(data.pop("request", "") or "")
        return cls(kind, t, request, data)

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)


@dataclass(frozen=True, order=True)
class Row:
    """One line of a drawn timeline."""

    at: float
    """Seconds since the client sent the request."""
    seq: int
    who: str = field(compare=False)
    """`client`, `server`, `task`, `print` or `log`."""
    kind: str = field(compare=False)
    text: str = field(compare=False)
    detail: str = field(default="", compare=False)
    short: str = field(default="", compare=False)
    """A few words for a narrow column; empty: left out there."""


@dataclass
class TaskSpan:
    """A task's life: when it started and ended (seconds since the request)."""

    name: str
    start: float
    end: float | None = None
    error: str | None = None
    measured: float | None = None
    """How long it ran, as Ravyn's runner measured it (seconds)."""

    @property
    def duration(self) -> float | None:
        """The runner's figure when there is one, so that every place that
        shows this task's duration shows the same number."""
        if self.measured is not None:
            return self.measured
        return None if self.end is None else max(self.end - self.start, 0.0)


def format_duration(seconds: float) -> str:
    """`3.1 ms`, `104 ms`, `1.20 s`: short and readable."""
    if seconds < 0.01:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def format_offset(seconds: float) -> str:
    """A position on the timeline: `+3.1 ms`."""
    return "+" + format_duration(max(seconds, 0.0))


def _short_json(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RequestView:
    """The timeline of one request: rows to draw, task spans, the response."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.t0: float | None = None
        self.rows: list[Row] = []
        self.tasks: list[TaskSpan] = []
        self.status: int | None = None
        self.reason = ""
        self.body = ""
        self.elapsed: float | None = None
        """Seconds from sending the request to holding the whole response (client side)."""
        self.sent_at: float | None = None
        """When the server sent its last body message (seconds since the request)."""
        self.call_complete: float | None = None
        self.client_error: str | None = None
        self.logs: list[Row] = []
        self.location = ""
        """The response's `location` header (where a queued job's status can be read)."""
        self.polls: list[str] = []
        """The job states read by polling `location`, in order."""
        self.interrupted_at: float | None = None
        """When the server was sent SIGINT (seconds since the request), if it was."""
        self.stopped_at: float | None = None
        """When the server process was seen to have ended, if it was."""
        self.killed_at: float | None = None
        """When the server was sent SIGKILL (seconds since the request), if it was."""
        self.restarted_at: float | None = None
        """When a server was started again after that, if one was."""
        self._seq = 0

    # ---------------------------------------------------------------- building

    def apply(self, event: Event) -> None:
        """Take in one event (of this request; the caller filters)."""
        if event.kind == "request_sent":
            self.t0 = event.t
            sent = f"{event.get('method')} {event.get('path')}"
            body = event.get("json")
            self._row(
                0.0, "client", "request", f"→ {sent}", "" if body is None else _short_json(body), f"→ {sent}"
            )
            return
        at = self.offset(event.t)
        kind = event.kind
        if kind == "response":
            self.status = int(event.get("status"))
            self.reason = str(event.get("reason", ""))
            self.body = str(event.get("body", ""))
            self.elapsed = float(event.get("elapsed"))
            self.location = str(event.get("location") or "")
            at = self.elapsed
            text = f"← {self.status} {self.reason} in {format_duration(self.elapsed)}".rstrip()
            short = f"← {self.status} in {format_duration(self.elapsed)}"
            self._row(at, "client", "response", text, _short_json(self.body), short)
        elif kind == "client_error":
            self.client_error = str(event.get("text"))
            self._row(at, "client", "client_error", f"✘ {self.client_error}", short="✘ no response")
        elif kind == "response_sent":
            self.sent_at = at
            held = ", held back until the work was done" if event.get("held") else ""
            if event.get("failed"):
                held = f": {event.get('failed')} failed, as it would have failed a handler calling it itself"
            self._row(at, "server", kind, f"response {event.get('status')} sent{held}")
        elif kind == "task_started":
            self.tasks.append(TaskSpan(str(event.get("name")), at))
            self._row(at, "task", kind, f"▶ {event.get('name')} started", short=f"▶ {event.get('name')}")
        elif kind in ("task_finished", "task_failed"):
            name = str(event.get("name"))
            span = next((s for s in reversed(self.tasks) if s.name == name and s.end is None), None)
            duration = float(event.get("duration") or 0.0)
            if span is None:
                span = TaskSpan(name, at - duration)
                self.tasks.append(span)
            span.end = at
            span.measured = duration
            if kind == "task_failed":
                span.error = str(event.get("error"))
                text = f"✘ {name} failed after {format_duration(duration)}"
                self._row(at, "task", kind, text, span.error, f"✘ {name} failed")
            else:
                text = f"✔ {name} finished in {format_duration(duration)}"
                self._row(at, "task", kind, text, short=f"✔ {name}")
        elif kind == "output":
            self._row(at, "print", kind, str(event.get("text", "")))
        elif kind == "log":
            logger = str(event.get("logger", "")).rsplit(".", 1)[-1]
            row = self._row(at, "log", kind, f"{event.get('level')} {logger}: {event.get('text')}")
            self.logs.append(row)
        elif kind == "webhook_received":
            self._row(
                at, "hook", kind, f"⇠ webhook received at {event.get('path')}", str(event.get("body", ""))
            )
        elif kind == "task_retrying":
            text = f"↻ {event.get('name')} attempt {event.get('attempt')} failed, retrying"
            self._row(at, "task", kind, text, str(event.get("error", "")), f"↻ {event.get('name')}")
        elif kind == "task_lost":
            self._row(at, "task", kind, f"✘ {event.get('name')} lost at shutdown", short="✘ lost")
        elif kind == "call_complete":
            self.call_complete = at
        elif kind == "poll":
            state = str(event.get("state") or "")
            self.polls.append(state)
            text = f"⟳ GET {event.get('path')} → {event.get('status')} {state}".rstrip()
            self._row(at, "client", kind, text, short=f"⟳ {state or event.get('status')}")
        elif kind == "interrupt":
            self.interrupted_at = at
            self._row(
                at, "you", kind, "^C  SIGINT sent to the server, as Ctrl-C in its terminal would", short="^C"
            )
        elif kind == "kill":
            self.killed_at = at
            for span in self.tasks:
                if span.end is None:  # it never ends now: its bar stops at the kill
                    span.end, span.error = at, KILLED
            self._row(at, "you", kind, "☠  SIGKILL sent to the server: no drain, no shutdown", short="☠ kill")
        elif kind == "restart":
            self.restarted_at = at
            self._row(at, "you", kind, "the same app started again, in the same folder", short="restart")
        elif kind == "server_stopped":
            self.stopped_at = at
            self._row(at, "server", kind, "the server process has ended", short="server gone")
        elif kind == "task_stats":
            # always the first three, the others (timed_out, retried, lost, running) when not zero
            shown = [f"{event.get(name, 0)} {name}" for name in ("started", "succeeded", "failed")]
            shown += [
                f"{event.get(name)} {name}"
                for name in ("timed_out", "retried", "lost", "running")
                if event.get(name)
            ]
            text = "task_stats: " + ", ".join(shown)
            self._row(at, "server", kind, text, short="task counters")

    def offset(self, t: float) -> float:
        return 0.0 if self.t0 is None or t == 0.0 else t - self.t0

    def _row(self, at: float, who: str, kind: str, text: str, detail: str = "", short: str = "") -> Row:
        row = Row(at, self._seq, who, kind, text, detail, short)
        self._seq += 1
        bisect.insort(self.rows, row)
        return row

    # ---------------------------------------------------------------- reading

    @property
    def answered(self) -> bool:
        return self.elapsed is not None or self.client_error is not None

    @property
    def done(self) -> bool:
        """The client has its answer and the server finished the call (tasks included)."""
        return self.client_error is not None or (self.elapsed is not None and self.call_complete is not None)

    @property
    def running(self) -> list[TaskSpan]:
        return [span for span in self.tasks if span.end is None]

    @property
    def failed(self) -> list[TaskSpan]:
        return [span for span in self.tasks if span.error is not None]

    @property
    def work_end(self) -> float | None:
        """When the last task ended (seconds since the request), if any ran."""
        ends = [span.end for span in self.tasks if span.end is not None]
        return max(ends) if ends else None

    @property
    def span(self) -> float:
        """How long the whole story lasted, from request to the last event."""
        ends = [self.elapsed or 0.0, self.call_complete or 0.0, *(r.at for r in self.rows)]
        return max(ends)
