"""`ravyn-tutorial watch` in a pseudo-terminal, as a learner uses it: save
a wrong fix and see it fail, save the right one and see it pass and move
on, then single keys for a hint, the list and quit."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ravyn_tutorial.exercises import EXERCISES, solution_text
from ravyn_tutorial.progress import Progress

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")


class Terminal:
    """A child process on a pseudo-terminal, 80 columns wide."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        import pty
        import struct
        import termios
        from fcntl import ioctl

        self.master, slave = pty.openpty()
        ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 80, 0, 0))
        env = os.environ | {"COLUMNS": "80", "LINES": "30", "TERM": "xterm-256color"}
        env.pop("NO_COLOR", None)
        self.process = subprocess.Popen(
            args, cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.seen = ""
        self.mark = 0

    def read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # the child closed the terminal
                return
            self.seen += ANSI.sub("", data.decode("utf-8", "replace"))

    def expect(self, *phrases: str, timeout: float = 30.0) -> str:
        """Wait until every phrase has appeared since the last expect (whitespace-insensitive)."""
        deadline = time.monotonic() + timeout
        while True:
            fresh = " ".join(self.seen[self.mark :].split())
            if all(phrase in fresh for phrase in phrases):
                self.mark = len(self.seen)
                return fresh
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {phrases!r}; the screen said:\n{self.seen[self.mark :]}")
            self.read(0.2)

    def press(self, key: str) -> None:
        os.write(self.master, key.encode())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        os.close(self.master)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    session = Terminal([sys.executable, "-m", "ravyn_tutorial", "watch"], tmp_path)
    try:
        yield session
    finally:
        session.close()


def _save(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    if path.stat().st_mtime_ns == before:  # a coarse clock: make the save visible
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def test_watch_fails_a_wrong_fix_passes_the_right_one_and_moves_on(
    terminal: Terminal, tmp_path: Path
) -> None:
    first, second = list(EXERCISES)[:2]
    learner_file = tmp_path / "ravyn-exercises" / f"{first}.py"
    terminal.expect(f"watch · {first}", "✘ Not there yet", f"0 of {len(EXERCISES)} done", "h hint · l list")
    assert learner_file.is_file()

    reference = solution_text(EXERCISES[first])
    _save(
        learner_file,
        reference.replace("add_task(send_welcome_email, email)", 'add_task(send_welcome_email, "a@b.c")'),
    )
    terminal.expect("are they written into the code?", "✘ Not there yet")

    _save(learner_file, reference)
    terminal.expect(f"✔ Passed: {first} is done.", f"{second} ·", f"1 of {len(EXERCISES)} done")
    assert (tmp_path / "ravyn-exercises" / f"{second}.py").is_file(), "the next exercise is ready"

    terminal.press("h")
    terminal.expect(f"hint 1 of {len(EXERCISES[second].hints)} · {second}")
    terminal.press("l")
    listed = terminal.expect("exercise", "what to do", "cart_total")
    assert re.search(rf"✔ {first}", listed)
    terminal.press("q")
    terminal.expect("Bye")
    assert terminal.process.wait(10) == 0


def test_watch_rechecks_once_per_save_not_per_write(terminal: Terminal, tmp_path: Path) -> None:
    first = next(iter(EXERCISES))
    learner_file = tmp_path / "ravyn-exercises" / f"{first}.py"
    terminal.expect("✘ Not there yet")
    text = learner_file.read_text()

    for step in range(3):  # an editor writing in quick steps
        _save(learner_file, text + f"\n# step {step}\n")
        time.sleep(0.05)
    terminal.expect("✘ Not there yet")
    time.sleep(1.5)
    terminal.read(0.5)

    assert terminal.seen[terminal.mark :].count("checking") == 0, "one check for the burst of writes"
    terminal.press("q")
    assert terminal.process.wait(10) == 0


HANGING = solution_text(EXERCISES["slow_signup"]).replace(
    "    tasks.add_task(send_welcome_email, email)\n", "    time.sleep(120)\n"
)


def test_the_first_screen_shows_the_exercises_goal(terminal: Terminal) -> None:
    first = next(iter(EXERCISES.values()))

    screen = terminal.expect(f"watch · {first.name}", "✘ Not there yet")

    assert " ".join(first.goal.split()[:8]) in screen
    terminal.press("q")
    assert terminal.process.wait(10) == 0


def test_keys_answer_while_a_check_runs_and_q_calls_it_off(tmp_path: Path) -> None:
    folder = tmp_path / "ravyn-exercises"
    folder.mkdir()
    (folder / "slow_signup.py").write_text(HANGING, encoding="utf-8")
    session = Terminal([sys.executable, "-m", "ravyn_tutorial", "watch", "--timeout", "60"], tmp_path)
    try:
        session.expect("checking", "(h hint · l list · q stop and quit)")
        session.press("h")
        session.expect("hint 1 of 3 · slow_signup")
        session.press("1")
        session.expect("hint 1 of 3 · slow_signup")
        session.press("l")
        session.expect("what to do", "cart_total")
        until = time.monotonic() + 1.5
        while time.monotonic() < until:
            session.read(0.1)
        shown = [float(seconds) for seconds in re.findall(r"checking \S+ \.\.\. (\d+\.\d) s", session.seen)]
        assert len(set(shown)) >= 2 and max(shown) >= 1.0, "the time taken so far is shown, and grows"

        session.press("q")
        session.expect("Check called off", "Bye", timeout=15)
        assert session.process.wait(15) == 0
    finally:
        session.close()
    assert Progress(folder).status("slow_signup") == "started", "a check called off records nothing"


def test_a_digit_shows_a_hint_already_seen_and_only_those(terminal: Terminal) -> None:
    terminal.expect("✘ Not there yet")

    terminal.press("2")
    terminal.expect("No hint seen yet: press h for the first one.")
    terminal.press("h")
    terminal.expect("hint 1 of 3")
    terminal.press("2")
    terminal.expect("You have seen hints 1 to 1")
    terminal.press("1")
    terminal.expect("hint 1 of 3")
    terminal.press("q")
    assert terminal.process.wait(10) == 0


def test_a_deleted_working_folder_is_reported_and_a_new_save_is_checked(
    terminal: Terminal, tmp_path: Path
) -> None:
    import shutil

    first = next(iter(EXERCISES))
    folder = tmp_path / "ravyn-exercises"
    terminal.expect("✘ Not there yet")

    shutil.rmtree(folder)
    terminal.expect("is gone: press r to get the exercise back")
    folder.mkdir()
    (folder / f"{first}.py").write_text(solution_text(EXERCISES[first]), encoding="utf-8")

    terminal.expect(f"✔ Passed: {first} is done.")
    terminal.press("q")
    assert terminal.process.wait(10) == 0
