"""`ravyn-tutorial watch`: the current exercise, re-checked on every save.

The watcher hears of changes in the working folder from watchdog (see
`ravyn_tutorial.changes`), compares the file's modification time and size with
the last ones checked, waits until a save has settled, checks the file in a
child process, and moves on to the next exercise once it passes.
Every screen starts with the exercise's goal. While a check runs, the time
it has taken so far is shown and the keys still answer (`q` calls it off).
Single keys, read without Enter when the terminal allows it:

| key | does |
|-----|------|
| `h` | the next hint |
| `1`..`9` | that hint again (one already seen) |
| `l` | the list of exercises |
| `r` | reset the exercise (your file is kept as a numbered backup) |
| `c` | check now |
| `q` | quit |
"""

from __future__ import annotations

import os
import select
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.rule import Rule
from rich.text import Text

from ravyn_tutorial.changes import FileChanges
from ravyn_tutorial.checking import Cancelled, Report
from ravyn_tutorial.exercises import Exercise
from ravyn_tutorial.progress import Progress
from ravyn_tutorial.views import (
    current_exercise,
    goal_panel,
    hint_panel,
    progress_bar,
    show_report,
    status_table,
)
from ravyn_tutorial.workspace import check_and_record, writable, write_template

__all__ = ["KEYS", "Watcher"]

KEYS = "h hint · 1-9 a hint again · l list · r reset · c check now · q quit"
WHILE_CHECKING = "h hint · l list · q stop and quit"

Stamp = tuple[int, int] | None


def _stamp(path: Path) -> Stamp:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@contextmanager
def _single_keys() -> Iterator[int | None]:
    """Yield stdin's descriptor, in cbreak mode when it is a terminal (keys
    arrive without Enter); `None` when there is no stdin to read."""
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        yield None
        return
    if not os.isatty(fd):
        yield fd
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield fd
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


class Watcher:
    """Watches one working folder until every exercise passes or `q`."""

    def __init__(
        self,
        folder: Path,
        console: Console,
        *,
        timeout: float = 20.0,
        poll: float = 0.2,
        settle: float = 0.3,
    ) -> None:
        self.folder = folder
        self.console = console
        self.timeout = timeout
        self.poll = poll
        self.settle = settle
        self.exercise: Exercise | None = None
        self.checked: Stamp = None
        """The file's modification time and size as last checked (or shown)."""
        self.fd: int | None = None
        """Where keys come from (`None`: nowhere)."""
        self.changes: FileChanges | None = None
        self.quitting = False

    @property
    def path(self) -> Path:
        assert self.exercise is not None
        return self.folder / self.exercise.file_name

    def run(self) -> int:
        """Watch until done (0) or stopped; the exit code."""
        try:
            with _single_keys() as fd:
                return self._loop(fd)
        except KeyboardInterrupt:
            self.console.print("[dim]Stopped.[/]")
            return 130
        finally:
            if self.changes is not None:
                self.changes.stop()

    def _bye(self) -> int:
        self.console.print("[dim]Bye: your progress is saved.[/]")
        return 0

    def _loop(self, fd: int | None) -> int:
        self.fd = fd
        if not self._begin(current_exercise(Progress(self.folder))):
            return 0
        self.changes = FileChanges(self.folder)
        self.changes.start()
        self.check()
        while True:
            if self.quitting:
                return self._bye()
            key = self._key()
            if key == "q":
                return self._bye()
            if key:
                self._on_key(key)
                if self.exercise is None:
                    return 0
                continue
            if not self.changes.wait(0):
                continue  # nothing happened in the folder: no need to look
            stamp = _stamp(self.path)
            if stamp == self.checked:
                continue
            stamp = self._settled(stamp)
            if stamp is None:
                if self.checked is not None:
                    gone = f"{self.path} is gone: press r to get the exercise back, or restore your file."
                    self.console.print(Text(gone, style="yellow"))
                self.checked = None
                continue
            if self.check() and not self._next():
                return 0

    def _key(self, wait: float | None = None) -> str:
        """The next key pressed within `wait` (default: the poll interval), or `""`."""
        wait = self.poll if wait is None else wait
        if self.fd is None:
            time.sleep(wait)
            return ""
        ready, _, _ = select.select([self.fd], [], [], wait)
        if not ready:
            return ""
        data = os.read(self.fd, 1)
        if not data:  # end of input: keep watching, without keys
            self.fd = None
            return ""
        return data.decode("utf-8", "replace").lower()

    def _settled(self, stamp: Stamp) -> Stamp:
        """Wait until the file stops changing (an editor may write in steps)."""
        deadline = time.monotonic() + 5 * self.settle + 2
        while time.monotonic() < deadline:
            time.sleep(self.settle)
            again = _stamp(self.path)
            if again == stamp:
                break
            stamp = again
        return stamp

    def _begin(self, exercise: Exercise | None) -> bool:
        """Make `exercise` the current one (its file created if missing)."""
        self.exercise = exercise
        if exercise is None:
            self.console.print(Text("Every exercise has passed. Well done!", style="bold green"))
            self.console.print(progress_bar(Progress(self.folder)))
            return False
        write_template(self.folder, exercise, fresh=False)
        with writable(self.folder):
            Progress(self.folder).started(exercise.name)
        self.checked = _stamp(self.path)
        return True

    def _next(self) -> bool:
        """After a pass: show the next exercise; False when there is none."""
        if not self._begin(current_exercise(Progress(self.folder))):
            return False
        self.console.print()
        self.console.print(goal_panel(self._current()))
        self.console.print(f"Open [bold]{self.path}[/] and save it to check it.")
        self._footer()
        return True

    def _current(self) -> Exercise:
        assert self.exercise is not None
        return self.exercise

    def check(self) -> bool:
        """Check the current exercise now and show the outcome; whether it passed.

        The keys answer while the check runs; `q` calls it off (then `False`).
        """
        exercise = self._current()
        # taken before the check, so that a save during the check is checked next
        self.checked = _stamp(self.path)
        if self.console.is_terminal:
            self.console.clear()
        self.console.print(Rule(f"[bold]watch · {exercise.name}[/] · {self.path}", align="left"))
        self.console.print(goal_panel(exercise))
        outcome = self._checking(exercise)
        if outcome is None:
            return False
        report, unsaved = outcome
        show_report(self.console, report)
        if unsaved:
            self.console.print(Text(unsaved, style="yellow"))
        self.console.print()
        if report.passed:
            self.console.print(Text(f"✔ Passed: {exercise.name} is done.", style="bold green"))
            self.console.print(
                f"[dim](ravyn-tutorial solution {exercise.name} shows the reference solution.)[/]"
            )
            return True
        self.console.print(Text(f"✘ Not there yet. Save {self.path} to check again.", style="bold"))
        self._footer()
        return False

    def _checking(self, exercise: Exercise) -> tuple[Report, str | None] | None:
        """Run the check on a thread while the keys keep answering, with the
        time taken so far on screen; `None` if `q` (or Ctrl-C) called it off."""
        cancel = threading.Event()
        outcome: list[tuple[Report, str | None]] = []
        failure: list[BaseException] = []

        def work() -> None:
            try:
                outcome.append(check_and_record(self.folder, exercise, timeout=self.timeout, cancel=cancel))
            except BaseException as exc:  # handed to the main thread, which raises it
                failure.append(exc)

        worker = threading.Thread(target=work, name="ravyn-tutorial check", daemon=True)
        began = time.monotonic()

        def status() -> Text:
            took = time.monotonic() - began
            return Text(f"checking {self.path} ... {took:.1f} s   ({WHILE_CHECKING})", style="dim")

        worker.start()
        live = Live(status(), console=self.console, transient=True, auto_refresh=False)
        if not self.console.is_terminal:
            self.console.print(status())
        try:
            with live if self.console.is_terminal else _nothing():
                while worker.is_alive():
                    key = self._key(0.1)
                    if key == "q":
                        cancel.set()
                        self.quitting = True
                    elif key:
                        self._key_while_checking(key)
                    if self.console.is_terminal:
                        live.update(status(), refresh=True)
        except KeyboardInterrupt:
            cancel.set()
            worker.join(5)
            raise
        worker.join()
        if failure and not isinstance(failure[0], Cancelled):
            raise failure[0]
        if self.quitting or not outcome:
            self.console.print(Text("Check called off.", style="dim"))
            return None
        return outcome[0]

    def _key_while_checking(self, key: str) -> None:
        if key == "h" or key.isdigit():
            self._on_key(key)
        elif key == "l":
            self.console.print(status_table(Progress(self.folder)))
        else:
            self.console.print(Text(f"A check is running: {WHILE_CHECKING}.", style="dim"))

    def _footer(self) -> None:
        self.console.print(progress_bar(Progress(self.folder)))
        self.console.print(Text(KEYS, style="dim"))

    def _on_key(self, key: str) -> None:
        exercise = self._current()
        if key == "h":
            progress = Progress(self.folder)
            index = min(progress.hints_seen(exercise.name), len(exercise.hints) - 1)
            self.console.print(hint_panel(exercise, index))
            with writable(self.folder):
                progress.next_hint(exercise.name, len(exercise.hints))
        elif key.isdigit():
            self._hint_again(exercise, int(key))
        elif key == "l":
            self.console.print(status_table(Progress(self.folder)))
            self._footer()
        elif key == "r":
            _, saved = write_template(self.folder, exercise, fresh=True)
            kept = f" (your version is kept as {saved})" if saved else ""
            self.console.print(f"[yellow]{exercise.name} is back to its start{kept}.[/]")
            if self.check():
                self._next()
        elif key in ("c", "\n", "\r") and self.check() and not self._next():
            self.exercise = None

    def _hint_again(self, exercise: Exercise, number: int) -> None:
        seen = Progress(self.folder).hints_seen(exercise.name)
        if 1 <= number <= min(seen, len(exercise.hints)):
            self.console.print(hint_panel(exercise, number - 1))
        elif seen == 0:
            self.console.print(Text("No hint seen yet: press h for the first one.", style="dim"))
        else:
            self.console.print(
                Text(f"You have seen hints 1 to {seen}: press one of those, or h for the next.", style="dim")
            )
