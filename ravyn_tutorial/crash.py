"""`run LESSON --crash`: what SIGKILL does to a running task, and what a durable one survives.

The lesson's request is sent as usual; as soon as its first background task
starts, the server gets SIGKILL, as from an out-of-memory kill or a power
cut: no drain, no shutdown. The same app is then started again, in the same
folder and with the same task journal folder (`TASK_JOURNAL_DIR`, a scratch
one), and the timeline keeps being drawn: a durable task comes back and runs
again; a plain one never does.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

from ravyn_tutorial.lessons import Lesson
from ravyn_tutorial.runner import Session, live_run, session
from ravyn_tutorial.timeline import KILLED, Event, RequestView

__all__ = ["crash_takeaway", "run_crashed"]

REPLAYED = "again"
"""A word of the line Ravyn's journal logs at start for each task it runs again."""
SETTLE = 3.0
"""Seconds to watch the restarted server when it announced nothing to run again."""


def _kill_at_first_task(
    current: Session, view: RequestView, refresh: Callable[[], None], timeout: float
) -> bool:
    """Drain events until the first task starts, then SIGKILL the server; False if none started."""
    by_label = {view.label: view}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and current.server.alive:
        current.drain(by_label, 0.02)
        if view.tasks:
            current.events.put(Event("kill", time.time(), view.label))
            current.server.process.kill()
            current.server.process.wait()
            current.drain(by_label, 0.1)  # what it said before it died
            refresh()
            return True
        refresh()
    return False


def _follow_restart(again: Session, view: RequestView, refresh: Callable[[], None], timeout: float) -> None:
    """Apply the restarted server's events (they belong to no request) to `view` until the
    task it runs again has ended, or for `SETTLE` seconds when it runs nothing again."""
    again.current = view.label
    killed = len(view.tasks)
    deadline = time.monotonic() + timeout
    settle = time.monotonic() + SETTLE
    by_label = {view.label: view}
    while time.monotonic() < deadline:
        again.drain(by_label, 0.05)
        refresh()
        replaying = any(REPLAYED in row.text for row in view.logs)
        if any(span.end is not None for span in view.tasks[killed:]):
            again.drain(by_label, 0.2)
            refresh()
            return
        if not replaying and time.monotonic() > settle:
            return


def run_crashed(console: Console, lesson: Lesson, *, port: int = 0, timeout: float = 20.0) -> bool:
    """Run the lesson, SIGKILL the server once a task runs, start it again, draw it all.

    Returns whether a task started (so there was something to kill).
    """
    if not tuple(getattr(lesson.example, "tasks", ()) or ()):
        console.print(Text(f"{lesson.name} has no background task to kill: pick another lesson.", "yellow"))
        return False
    with tempfile.TemporaryDirectory(prefix="ravyn-tutorial-journal-") as journal:
        env = {"TASK_JOURNAL_DIR": journal}

        def follow(view: RequestView, refresh: Callable[[], None]) -> bool:
            if not _kill_at_first_task(current, view, refresh, timeout):
                return False
            view.apply(Event("restart", time.time(), view.label))
            with session(lesson, 0, env) as again:
                _follow_restart(again, view, refresh, timeout)
            return True

        with session(lesson, port, env) as current:
            view, killed = live_run(console, current, follow)
        console.print(Text("Takeaway: ", style="bold").append_text(crash_takeaway(view)))
        return killed


def crash_takeaway(view: RequestView) -> Text:
    """What the kill and the restart did to the tasks, read from the timeline."""
    if view.killed_at is None:
        return Text("The server was never killed: no task started.")
    cut = [span.name for span in view.tasks if span.error == KILLED]
    again = [span for span in view.tasks if view.restarted_at is not None and span.start >= view.restarted_at]
    if not cut:
        return Text("The tasks had ended before the kill landed: there was nothing to lose. Try again.")
    names = ", ".join(cut)
    if again and any(span.end is not None and span.error is None for span in again):
        return Text(
            f"SIGKILL ended the server while {names} ran: no drain, no shutdown. The restarted app found it "
            "in its task journal, written before the response, and ran it again to the end: a durable task "
            "runs at least once, even across a crash (so make it safe to run twice)."
        )
    if again:
        return Text(
            f"SIGKILL ended the server while {names} ran; the restarted app ran it again, and it failed."
        )
    return Text(
        f"SIGKILL ended the server while {names} ran, and the restarted app never ran it again: a plain "
        "task lives in the memory of its process and dies with it. A task that must survive this is made "
        "durable: `durable=True` on an app with a `task_journal` (lesson durable_tasks, exercise "
        "lost_invoice)."
    )
