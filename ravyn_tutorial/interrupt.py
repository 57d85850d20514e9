"""`run LESSON --interrupt`: what Ctrl-C does to a task that is running.

The lesson's request is sent as usual; as soon as its first background task
starts, the server gets SIGINT, as it would from Ctrl-C in its terminal.
The timeline keeps being drawn until the server process has ended: Ravyn's
shutdown drain lets a running task finish (up to `task_drain_timeout`, 30 s
by default) before the server stops, and cancels it, logged as lost, past that.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

from ravyn_tutorial.lessons import Lesson
from ravyn_tutorial.runner import Session, live_run, session
from ravyn_tutorial.timeline import Event, RequestView, format_duration

__all__ = ["interrupt_takeaway", "run_interrupted"]


def _follow(current: Session, view: RequestView, refresh: Callable[[], None], timeout: float) -> bool:
    """Drain events, interrupt at the first task, until the server has ended."""
    deadline = time.monotonic() + timeout
    by_label = {view.label: view}
    while time.monotonic() < deadline:
        current.drain(by_label, 0.05)
        if view.interrupted_at is None and (view.tasks or view.done):
            current.interrupt(view.label)
        if view.interrupted_at is not None and not current.server.alive:
            current.drain(by_label, 0.2)  # what it said on its way out
            view.apply(Event("server_stopped", time.time(), view.label))
            refresh()
            return True
        refresh()
    return False


def run_interrupted(console: Console, lesson: Lesson, *, port: int = 0, timeout: float = 40.0) -> bool:
    """Run the lesson, send the server SIGINT once a task runs, draw it all.

    Returns whether the server ended within `timeout` seconds.
    """
    if not tuple(getattr(lesson.example, "tasks", ()) or ()):
        console.print(
            Text(f"{lesson.name} has no background task to interrupt: pick another lesson.", "yellow")
        )
        return False
    with session(lesson, port) as current:
        view, ended = live_run(
            console, current, lambda view, refresh: _follow(current, view, refresh, timeout)
        )
        console.print(Text("Takeaway: ", style="bold").append_text(interrupt_takeaway(view, ended)))
        return ended


def interrupt_takeaway(view: RequestView, ended: bool) -> Text:
    """What the interruption did to the tasks, read from the timeline."""
    if view.interrupted_at is None:
        return Text("The server was never interrupted: no task started.")
    at = view.interrupted_at
    running = [span for span in view.tasks if span.start <= at and (span.end is None or span.end > at)]
    lost = [row for row in view.rows if row.kind == "task_lost"]
    if not ended:
        return Text("The server was still up when the tutorial stopped watching: it was stopped for good.")
    stopped = f"the server stopped {format_duration((view.stopped_at or at) - at)} after the signal"
    if lost:
        return Text(
            f"Ctrl-C reached the server while a task ran; the drain waited as long as it may, then "
            f"cancelled it ({lost[0].text.lstrip('✘ ')}), and {stopped}."
        )
    if running:
        names = ", ".join(span.name for span in running)
        later = [span for span in view.tasks if span.start > at]
        more = f" The tasks queued after it ({', '.join(s.name for s in later)}) ran too." if later else ""
        return Text(
            f"Ctrl-C reached the server while {names} was running. Instead of killing it, Ravyn's shutdown "
            f"drain waited for the request's tasks to end, and only then {stopped}: a task under way gets "
            f"up to task_drain_timeout (30 s by default) to finish.{more} A task that is never allowed to "
            "end this way (a crash, SIGKILL) is lost, unless it is durable: `durable=True` on an app with a "
            "task_journal runs it again at the next start (lesson durable_tasks, exercise lost_invoice); "
            "work that must also move to other machines belongs in a queue."
        )
    return Text(f"The tasks had ended before the signal arrived, and {stopped}.")
