"""What every exercise is made of, and the lab its check runs in.

A check loads the learner's file, swaps the functions it wants to watch for
spies (so it knows when each ran, with which arguments, and whether the
response had gone by then), sends requests through
[`ravyn.testing.Recorder`][ravyn.testing.Recorder] and turns what it saw
into plain-word [`Finding`][ravyn_tutorial.exercises.base.Finding]s.
"""

from __future__ import annotations

import functools
import inspect
import json as jsonlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import anyio
from lilya.types import ASGIApp, Message, Receive, Scope, Send

from ravyn_tutorial.learner import LearnerError, learner_frame

if TYPE_CHECKING:
    from ravyn.testing import Timeline

__all__ = ["Call", "Exercise", "Finding", "Lab", "Trial", "server_like"]


@dataclass(frozen=True)
class Finding:
    """One thing the check verified: right (`ok`) or wrong, in plain words."""

    ok: bool
    text: str


@dataclass
class Call:
    """One call of a watched function."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    start: float
    """`time.perf_counter()` when it was called."""
    end: float | None = None
    error: BaseException | None = None

    @property
    def duration(self) -> float:
        return (self.end or time.perf_counter()) - self.start

    def values(self) -> list[Any]:
        return [*self.args, *self.kwargs.values()]


@dataclass
class Trial:
    """One request the check sent, and what happened."""

    request: str
    timeline: Timeline
    calls: list[Call]
    stall: float = 0.0
    """The longest time the event loop could not run anything else (seconds)."""

    @property
    def response_time(self) -> float:
        return self.timeline.response_complete.at

    @property
    def response_done(self) -> float:
        """`perf_counter()` when the last body message was sent."""
        return self.timeline.started + self.timeline.response_complete.at

    def calls_of(self, name: str) -> list[Call]:
        return [call for call in self.calls if call.name == name]

    def before_response(self, call: Call) -> bool:
        return call.start < self.response_done

    def failed_tasks(self) -> list[str]:
        return [event.name for event in self.timeline.all("task_failed")]

    def error_logs(self, level: int = 30) -> list[str]:
        """Log lines at `level` (WARNING) or above."""
        levels = {"WARNING": 30, "ERROR": 40, "CRITICAL": 50}
        return [
            str(event.detail.get("text", ""))
            for event in self.timeline.all("log")
            if levels.get(str(event.detail.get("level")), 0) >= level
        ]


def server_like(app: ASGIApp) -> ASGIApp:
    """Wrap `app` so that, once the response is complete, `receive` answers
    `http.disconnect`: what uvicorn does, and what a task reading the request
    after the response runs into."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        complete = False

        async def watch_send(message: Message) -> None:
            nonlocal complete
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                complete = True

        async def gone_after_response() -> Message:
            if complete:
                return {"type": "http.disconnect"}
            return await receive()

        await app(scope, gone_after_response, watch_send)

    return wrapped


class Lab:
    """Where a check runs: the learner's module, its app, the spies."""

    def __init__(self, module: ModuleType, path: Path, watch: Sequence[str]) -> None:
        self.module = module
        self.path = path
        self.calls: list[Call] = []
        self.trials: list[Trial] = []
        self._lock = threading.Lock()
        self.missing = [name for name in watch if not callable(getattr(module, name, None))]
        for name in watch:
            if name not in self.missing:
                setattr(module, name, self._spy(name, getattr(module, name)))
        app = getattr(module, "app", None)
        if app is None or not callable(app):
            raise LearnerError(
                "there is no `app` in this file: keep the line `app = Ravyn(...)`",
                self.path,
                when="reading it",
            )
        self.app: ASGIApp = app
        from ravyn.testing import Recorder  # imported when a check runs, not for `list`

        self.recorder = Recorder(server_like(app))

    def _spy(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        from ravyn.testing import mark

        calls, lock = self.calls, self._lock

        def begin(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call:
            call = Call(name, args, kwargs, time.perf_counter())
            with lock:
                calls.append(call)
            mark(f"{name} called")
            return call

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_spy(*args: Any, **kwargs: Any) -> Any:
                call = begin(args, kwargs)
                try:
                    return await func(*args, **kwargs)
                except BaseException as exc:
                    call.error = exc
                    raise
                finally:
                    call.end = time.perf_counter()

            return async_spy

        @functools.wraps(func)
        def sync_spy(*args: Any, **kwargs: Any) -> Any:
            call = begin(args, kwargs)
            try:
                return func(*args, **kwargs)
            except BaseException as exc:
                call.error = exc
                raise
            finally:
                call.end = time.perf_counter()

        return sync_spy

    async def __aenter__(self) -> Lab:
        try:
            await self.recorder.__aenter__()
        except Exception as exc:
            raise learner_frame(exc, self.path, "starting the app") from None
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.recorder.__aexit__(*exc_info)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        heartbeat: bool = False,
    ) -> Trial:
        """Send one request; with `heartbeat`, also measure how long the event
        loop stalled while the request and its tasks ran."""
        shown = f"{method} {path}" + ("" if json is None else f" {jsonlib.dumps(json)}")
        first = len(self.calls)
        stop = anyio.Event()
        gaps: list[float] = [0.0]

        async def tick() -> None:
            last = time.perf_counter()
            while not stop.is_set():
                await anyio.sleep(0.005)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        try:
            async with anyio.create_task_group() as group:
                if heartbeat:
                    group.start_soon(tick)
                    await anyio.sleep(0.02)
                try:
                    timeline = await self.recorder.request(method, path, json=json, headers=headers)
                finally:
                    stop.set()
        except Exception as exc:
            raise learner_frame(_unwrap(exc), self.path, f"answering {method} {path}") from None
        trial = Trial(shown, timeline, self.calls[first:], max(gaps))
        self.trials.append(trial)
        return trial


def _unwrap(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


Check = Callable[[Lab], Awaitable[Iterable[Finding]]]


@dataclass(frozen=True)
class Exercise:
    """A small broken app, what it should do, how to check it, and hints."""

    name: str
    title: str
    goal: str
    """What to make the app do, shown by `start`."""
    template: str
    """The broken app's file name in `ravyn_tutorial/exercises/templates/`."""
    watch: tuple[str, ...]
    """Functions of the learner's module the check spies on."""
    check: Check
    hints: tuple[str, ...]
    covers: str = ""
    """The lesson(s) of the guide this practises."""

    @property
    def file_name(self) -> str:
        return f"{self.name}.py"


# ---------------------------------------------------------------- verdicts shared by the checks


def _shown(value: Any) -> str:
    return jsonlib.dumps(value) if isinstance(value, (dict, list)) else repr(value)


def expect_response(trial: Trial, status: int, body: dict[str, Any]) -> Finding:
    """The response has `status` and a JSON body containing `body`."""
    timeline = trial.timeline
    try:
        received = timeline.json()
    except ValueError:
        received = timeline.body.decode("utf-8", "replace")
    fits = isinstance(received, dict) and all(received.get(k) == v for k, v in body.items())
    if timeline.status == status and fits:
        return Finding(True, f"It still answers {status} with {_shown(body)}.")
    return Finding(
        False,
        f"It should answer {status} with {_shown(body)} in the body; "
        f"it answered {timeline.status} with {_shown(received)}.",
    )


def ran_once_after_response(trial: Trial, name: str, *, purpose: str) -> tuple[Finding, Call | None]:
    """`name` was called exactly once, and only after the response was complete."""
    calls = trial.calls_of(name)
    if not calls:
        return Finding(False, f"{name} never ran: {purpose}"), None
    if len(calls) > 1:
        return Finding(False, f"{name} ran {len(calls)} times for one request; once is enough."), calls[0]
    call = calls[0]
    if trial.before_response(call):
        waited = f"{call.duration:.2f} s" if call.duration >= 0.01 else "for it"
        return (
            Finding(
                False,
                f"Your handler waited {waited} for {name} before answering: move {name} into a "
                "background task, so that it runs after the response.",
            ),
            call,
        )
    delay = (call.start - trial.response_done) * 1000
    return Finding(True, f"{name} ran after the response had gone ({delay:.1f} ms later)."), call


def expect_arguments(call: Call | None, name: str, expected: Sequence[Any]) -> Finding | None:
    """`call` got exactly `expected` (positional or keyword, in order)."""
    if call is None:
        return None
    got = call.values()
    if got == list(expected):
        return None
    shown = ", ".join(_shown(v) for v in got) or "nothing"
    wanted = ", ".join(_shown(v) for v in expected)
    return Finding(False, f"{name} was called with {shown}; it should get {wanted}.")
