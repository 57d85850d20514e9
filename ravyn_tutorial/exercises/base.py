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
import functools
import inspect
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
    from ravyn.testing import Recorder, Timeline, TimelineEvent

__all__ = [
    "BLOCKING_SHARE",
    "LEVELS",
    "Effect",
    "Exercise",
    "Finding",
    "Lab",
    "TaskRun",
    "Trial",
    "attribute",
]


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
    """The arguments the function is called with (a `functools.partial`'s included)."""
    started: float
    """`time.perf_counter()` when Ravyn started it."""
    ended: float | None = None
    duration: float | None = None
    """How long it ran, as the runner measured it (seconds)."""
    error: BaseException | None = None
    function: str = ""
    """The `__qualname__` of the function it calls, a partial unwrapped."""
    is_async: bool = False
    """Whether that function is an `async def`, which Ravyn awaits on the event loop."""
    timeout: float | None = None
    """The task's time limit per attempt (seconds), if it has one."""
    retries: int = 0
    """How many more attempts Ravyn may make after a failure or a timeout."""
    attempts: int = 1
    """How many attempts Ravyn made."""

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def is_lambda(self) -> bool:
        return self.function.endswith("<lambda>")

    def values(self) -> list[Any]:
        """The arguments it was given, positional then keyword."""
        return [*self.args, *self.kwargs.values()]

    def overlaps(self, start: float, end: float) -> bool:
        """Whether it was running at some point between `start` and `end` (`perf_counter()`)."""
        return self.started < end and (self.ended is None or self.ended > start)


def _run_of(event: TaskEvent) -> TaskRun:
    """A `TaskRun` for a `started` event: what the task will call, and with what."""
    task = event.task
    call: Any = getattr(task, "call", None) or getattr(task, "func", None)
    call = getattr(call, "_callable", call)  # Lilya's thread wrapper of a sync function
    args, kwargs = tuple(getattr(task, "args", ())), dict(getattr(task, "kwargs", {}))
    while isinstance(call, functools.partial):
        args, kwargs = (*call.args, *args), {**call.keywords, **kwargs}
        call = call.func
    function = str(getattr(call, "__qualname__", "") or getattr(call, "__name__", "") or event.name)
    return TaskRun(
        event.name,
        args,
        kwargs,
        event.time,
        function=function,
        is_async=inspect.iscoroutinefunction(call),
        timeout=getattr(task, "timeout", None),
        retries=int(getattr(task, "retries", 0) or 0),
    )


@dataclass(frozen=True)
class Effect:
    """One printed line the check looked for, and where it happened."""

    at: float
    """Seconds since the request."""
    run: TaskRun | None
    """The background task that was running when it was printed; `None` outside every task."""
    before_response: bool
    """Printed before the response was complete (so in the handler, while the client waited)."""

    def where(self) -> str:
        """`in the handler, before the response`, `in the background task send_email`, ..."""
        if self.run is not None:
            return f"in the background task {self.run.name}"
        if self.before_response:
            return "in the handler, before the response"
        return "after the response, outside every task Ravyn ran"


@dataclass
class Trial:
    """One request the check sent, and what happened."""

    request: str
    timeline: Timeline
    tasks: list[TaskRun]
    stall: float = 0.0
    """The longest time the event loop could not run anything else (seconds)."""
    stall_span: tuple[float, float] = (0.0, 0.0)
    """When that longest stall began and ended (`perf_counter()`)."""
    sent: Any = None
    """The JSON body the check sent."""
    headers: dict[str, str] = field(default_factory=dict)
    """The headers the check sent, beyond the usual ones."""
    inside: dict[int, tuple[TaskRun, ...]] = field(default_factory=dict)
    """For each `output` and `log` event (by `seq`), the tasks that were
    running when it happened, the latest started last (more than one only in
    a concurrent group); events outside every task are not in it."""

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

    def effects(self, text: str, function: str = "") -> list[Effect]:
        """Every printed line containing `text`, with the task (if any) it was
        printed in. Where tasks ran at the same time (a group), the one that
        calls `function` is taken when it was among them."""
        answered = self.response_time
        found = []
        for event in self.timeline.all("output"):
            if text not in str(event.detail.get("text", "")):
                continue
            running = self.inside.get(event.seq, ())
            named = [run for run in running if run.function.rsplit(".", 1)[-1] == function]
            run = named[-1] if named else (running[-1] if running else None)
            found.append(Effect(event.at, run, event.at <= answered))
        return found

    def stalled_runs(self) -> list[TaskRun]:
        """The tasks that were running during the longest stall of the event loop
        and spent most of their run in it (so a task that merely overlapped a
        pause of a busy machine is not blamed for it)."""
        start, end = self.stall_span
        return [
            run
            for run in self.tasks
            if run.overlaps(start, end) and self.stall >= BLOCKING_SHARE * (run.duration or self.stall)
        ]

    def logs(self, level: int = 30, *, task: str | None = None) -> list[tuple[str, str]]:
        """`(level name, message)` of log records at `level` (WARNING) or above;
        with `task`, only those logged while that task ran (by it, or by Ravyn about it)."""
        return [
            (str(event.detail.get("level")), str(event.detail.get("text", "")))
            for event in self.timeline.all("log")
            if LEVELS.get(str(event.detail.get("level")), 0) >= level
            and (task is None or self._logged_in(event, task))
        ]

    def _logged_in(self, event: TimelineEvent, task: str) -> bool:
        running = self.inside.get(event.seq, ())
        return (
            any(task in (run.name, run.function) for run in running) or event.detail.get("task_name") == task
        )


BLOCKING_SHARE = 0.8
"""The share of its run a task must have spent in the loop's longest stall to be blamed for it."""

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
"""The standard logging levels by name, as the timeline records them."""


def attribute(timeline: Timeline, runs: Sequence[TaskRun]) -> dict[int, tuple[TaskRun, ...]]:
    """Which tasks were running at each `output` and `log` event of `timeline`.

    `runs` are the request's tasks in the order they started, as the timeline's
    `task_started` events are: Ravyn runs one request's tasks one after the
    other, so a line printed between a task's start and its end is that task's.
    In a concurrent group several are running; all of them are given.
    """
    running: list[TaskRun] = []
    started = iter(runs)
    found: dict[int, tuple[TaskRun, ...]] = {}
    for event in timeline.events:
        if event.kind == "task_started":
            run = next(started, None)
            if run is not None:
                running.append(run)
        elif event.kind in ("task_finished", "task_failed", "task_lost"):
            for index, run in enumerate(running):
                if run.name == event.name:
                    del running[index]
                    break
        elif event.kind in ("output", "log") and running:
            found[event.seq] = tuple(running)
    return found


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
        heartbeat: bool = True,
    ) -> Trial:
        """Send one request and wait for its tasks; with `heartbeat` (the
        default), also measure how long the event loop stalled meanwhile."""
        shown = f"{method} {path}" + ("" if json is None else f" {jsonlib.dumps(json)}")
        runs: dict[int, TaskRun] = {}
        order: list[TaskRun] = []
        lock = threading.Lock()

        def listen(event: TaskEvent) -> None:
            with lock:
                run = runs.get(id(event.task))
                if event.kind == "started" and run is None:
                    run = runs[id(event.task)] = _run_of(event)
                    order.append(run)
                elif run is not None and event.kind == "retrying":
                    run.attempts += 1
                elif run is not None and event.kind in ("finished", "failed", "lost"):
                    run.ended, run.duration = event.time, event.duration
                    if event.kind != "finished":
                        run.error = event.error or RuntimeError("lost at shutdown")

        stop = anyio.Event()
        longest = [0.0, 0.0]

        async def tick() -> None:
            last = time.perf_counter()
            while not stop.is_set():
                await anyio.sleep(0.005)
                now = time.perf_counter()
                if now - last > longest[1] - longest[0]:
                    longest[:] = [last, now]
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
        start, end = longest
        trial = Trial(shown, timeline, order, end - start, (start, end), json, dict(headers or {}))
        trial.inside = attribute(timeline, order)
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
    served: bool = False
    """Its check serves the file under a real server of its own (to kill it, say):
    the app loaded in the check's process is then not started, and the file is
    loaded from a scratch folder, so that what it writes at import (a journal)
    lands there and not in the learner's folder."""

    @property
    def file_name(self) -> str:
        return f"{self.name}.py"
