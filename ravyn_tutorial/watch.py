"""`ravyn-tutorial watch`: the current exercise, re-checked on every save.

The watcher polls the file's modification time and size (no dependency, and
it works on every file system), waits until a save has settled, checks the
file in a child process, and moves on to the next exercise once it passes.
Single keys, read without Enter when the terminal allows it:

| key | does |
|-----|------|
| `h` | the next hint |
| `l` | the list of exercises |
| `r` | reset the exercise (your file is kept as a numbered backup) |
| `c` | check now |
| `q` | quit |
"""

from __future__ import annotations

import os
import select
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

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

KEYS = "h hint · l list · r reset · c check now · q quit"

Stamp = tuple[int, int] | None


def _stamp(path: Path) -> Stamp:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


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

    def _loop(self, fd: int | None) -> int:
        if not self._begin(current_exercise(Progress(self.folder))):
            return 0
        self.check()
        while True:
            key = self._key(fd)
            if key == "q":
                self.console.print("[dim]Bye: your progress is saved.[/]")
                return 0
            if key == "\x04":  # end of input: keep watching, without keys
                fd = None
            elif key:
                self._on_key(key)
                if self.exercise is None:
                    return 0
                continue
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

    def _key(self, fd: int | None) -> str:
        if fd is None:
            time.sleep(self.poll)
            return ""
        ready, _, _ = select.select([fd], [], [], self.poll)
        if not ready:
            return ""
        data = os.read(fd, 1)
        return data.decode("utf-8", "replace").lower() if data else "\x04"

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
        """Check the current exercise now and show the outcome; whether it passed."""
        exercise = self._current()
        # taken before the check, so that a save during the check is checked next
        self.checked = _stamp(self.path)
        if self.console.is_terminal:
            self.console.clear()
        self.console.print(Rule(f"[bold]watch · {exercise.name}[/] · {self.path}", align="left"))
        self.console.print(Text(f"checking {self.path} ...", style="dim"))
        report, unsaved = check_and_record(self.folder, exercise, timeout=self.timeout)
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
