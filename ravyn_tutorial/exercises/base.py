"""What every exercise is made of, and the lab its check runs in.

A check loads the learner's file, sends it several requests with values
drawn at random (so an answer written into the code cannot pass), and
judges what Ravyn itself recorded: the task events of its runner (which
task started, finished or failed, with which arguments, and when, next to
the response) and the app's effects (what it printed, logged, or changed).
It never asks whether a function was merely called: only a task that Ravyn
ran counts as a background task.
"""

from __future__ import annotations

import ast
import json as jsonlib
import random
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import anyio
from lilya.types import ASGIApp

from ravyn.runner import TaskEvent, observe_tasks
from ravyn_tutorial.learner import LearnerError, learner_frame

if TYPE_CHECKING:
    from ravyn.testing import Recorder, Timeline

__all__ = ["Exercise", "Finding", "Lab", "TaskRun", "Trial"]


@dataclass(frozen=True)
class Finding:
    """One thing the check verified: right (`ok`) or wrong, in plain words."""

    ok: bool
    text: str


@dataclass
class TaskRun:
    """One background task as Ravyn's runner reported it."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    started: float
    """`time.perf_counter()` when Ravyn started it."""
    ended: float | None = None
    duration: float | None = None
    """How long it ran, as the runner measured it (seconds)."""
    error: BaseException | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def values(self) -> list[Any]:
        """The arguments it was given, positional then keyword."""
        return [*self.args, *self.kwargs.values()]


@dataclass
class Trial:
    """One request the check sent, and what happened."""

    request: str
    timeline: Timeline
    tasks: list[TaskRun]
    stall: float = 0.0
    """The longest time the event loop could not run anything else (seconds)."""
    sent: Any = None
    """The JSON body the check sent."""
    headers: dict[str, str] = field(default_factory=dict)
    """The headers the check sent, beyond the usual ones."""

    @property
    def response_time(self) -> float:
        """Seconds from the request to the last body message."""
        return self.timeline.response_complete.at

    @property
    def response_done(self) -> float:
        """`perf_counter()` when the last body message was sent."""
        return self.timeline.started + self.timeline.response_complete.at

    def body(self) -> Any:
        """The response body: JSON when it is JSON, else the text."""
        try:
            return self.timeline.json()
        except ValueError:
            return self.timeline.body.decode("utf-8", "replace")

    def tasks_named(self, name: str) -> list[TaskRun]:
        return [task for task in self.tasks if task.name == name]

    def outputs(self) -> list[tuple[float, str]]:
        """Printed lines, with their time in seconds since the request."""
        return [(event.at, str(event.detail.get("text", ""))) for event in self.timeline.all("output")]

    def printed(self, text: str) -> list[float]:
        """When lines containing `text` were printed (seconds since the request)."""
        return [at for at, line in self.outputs() if text in line]

    def logs(self, level: int = 30) -> list[tuple[str, str]]:
        """`(level name, message)` of log records at `level` (WARNING) or above."""
        levels = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
        return [
            (str(event.detail.get("level")), str(event.detail.get("text", "")))
            for event in self.timeline.all("log")
            if levels.get(str(event.detail.get("level")), 0) >= level
        ]


def _unwrap(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


class Lab:
    """Where a check runs: the learner's module and app, its source, the dice."""

    def __init__(self, module: ModuleType, path: Path, needs: Sequence[str], seed: int) -> None:
        self.module = module
        self.path = path
        self.random = random.Random(seed)
        self.source = path.read_text(encoding="utf-8")
        self.tree = ast.parse(self.source)
        self.trials: list[Trial] = []
        self.missing = [name for name in needs if not callable(getattr(module, name, None))]
        app = getattr(module, "app", None)
        if app is None or not callable(app):
            raise LearnerError(
                "there is no `app` in this file: keep the line `app = Ravyn(...)`",
                self.path,
                when="reading it",
            )
        self.app: ASGIApp = app
        from ravyn.testing import Recorder  # imported when a check runs, not for `list`

        self.recorder: Recorder = Recorder(app)

    async def __aenter__(self) -> Lab:
        try:
            await self.recorder.__aenter__()
        except Exception as exc:
            raise learner_frame(_unwrap(exc), self.path, "starting the app") from None
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
        """Send one request and wait for its tasks; with `heartbeat`, also
        measure how long the event loop stalled meanwhile."""
        shown = f"{method} {path}" + ("" if json is None else f" {jsonlib.dumps(json)}")
        runs: dict[int, TaskRun] = {}
        order: list[TaskRun] = []
        lock = threading.Lock()

        def listen(event: TaskEvent) -> None:
            with lock:
                run = runs.get(id(event.task))
                if event.kind == "started" and run is None:
                    args = tuple(getattr(event.task, "args", ()))
                    kwargs = dict(getattr(event.task, "kwargs", {}))
                    run = TaskRun(event.name, args, kwargs, event.time)
                    runs[id(event.task)] = run
                    order.append(run)
                elif run is not None and event.kind in ("finished", "failed", "lost"):
                    run.ended, run.duration = event.time, event.duration
                    if event.kind != "finished":
                        run.error = event.error or RuntimeError("lost at shutdown")

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
            with observe_tasks(listen):
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
        trial = Trial(shown, timeline, order, max(gaps), json, dict(headers or {}))
        self.trials.append(trial)
        return trial


Check = Callable[[Lab], Awaitable[Iterable[Finding]]]


@dataclass(frozen=True)
class Exercise:
    """A small broken app, what it should do, how to check it, and hints."""

    name: str
    title: str
    goal: str
    """What to make the app do, shown by `start`."""
    template: str
    """The broken app's file name in `ravyn_tutorial/exercises/templates/`
    (its reference solution has the same name in `solutions/`)."""
    needs: tuple[str, ...]
    """Functions the learner's module must keep."""
    check: Check
    hints: tuple[str, ...]
    covers: str = ""
    """The lesson(s) of the guide this practises."""
    rules: tuple[str, ...] = field(default=())
    """Rules of the exercise the check enforces on the code, in plain words."""

    @property
    def file_name(self) -> str:
        return f"{self.name}.py"
