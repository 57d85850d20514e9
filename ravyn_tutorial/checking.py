"""Running an exercise's check on the learner's file, safely.

`run_check` runs a check in this process: the learner's module is imported
fresh, its prints and logs are kept off the terminal (they show up in the
recorded timeline instead), and the logging setup it changes (building a
Lilya app reconfigures logging) is put back afterwards. The tests drive
checks this way.

`check_isolated` runs the same check in a child process with a time limit
that always lands: a handler that blocks forever, sync or async, cannot
hold the tutorial, because the child is stopped and the learner gets one
plain sentence instead of a traceback. The commands use it.

```
python -m ravyn_tutorial.checking EXERCISE FILE SEED REPORT.json
```
"""

from __future__ import annotations

import io
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import chdir, contextmanager, nullcontext, redirect_stderr, redirect_stdout
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anyio

from ravyn_tutorial.exercises import EXERCISES, Exercise, Finding, Lab
from ravyn_tutorial.learner import LearnerError, learner_frame, load_module

__all__ = ["CHECK_TIMEOUT", "Cancelled", "Report", "TrialSummary", "check_isolated", "run_check"]

CHECK_TIMEOUT = 20.0


class Cancelled(Exception):
    """The check was called off (`cancel` was set) before it finished; its process is stopped."""


@dataclass(frozen=True)
class TrialSummary:
    """One request of a check, as the learner sees it."""

    request: str
    status: int | None
    response_time: float
    """Seconds until the response was complete."""
    timeline: str
    """The recorded timeline, one event a line."""


@dataclass
class Report:
    """The outcome of one check."""

    exercise: str
    path: Path
    seed: int
    findings: list[Finding] = field(default_factory=list)
    trials: list[TrialSummary] = field(default_factory=list)
    error: LearnerError | None = None
    internal: str = ""
    """When the check itself failed (a bug of the tutorial, not of the learner's file): what it raised."""

    @property
    def passed(self) -> bool:
        return (
            self.error is None
            and not self.internal
            and bool(self.findings)
            and all(f.ok for f in self.findings)
        )

    def to_json(self) -> str:
        """The report as JSON, to cross a process boundary."""
        error = None
        if self.error is not None:
            error = {k: v for k, v in vars(self.error).items() if not k.startswith("_")}
            error["path"] = str(self.error.path)
        return json.dumps(
            {
                "exercise": self.exercise,
                "path": str(self.path),
                "seed": self.seed,
                "findings": [asdict(f) for f in self.findings],
                "trials": [asdict(t) for t in self.trials],
                "error": error,
                "internal": self.internal,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Report:
        """The report `to_json` wrote."""
        data: dict[str, Any] = json.loads(text)
        error = data["error"]
        return cls(
            data["exercise"],
            Path(data["path"]),
            data["seed"],
            [Finding(**f) for f in data["findings"]],
            [TrialSummary(**t) for t in data["trials"]],
            None if error is None else LearnerError(**(error | {"path": Path(error["path"])})),
            str(data.get("internal", "")),
        )


@contextmanager
def _quiet() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    sink = io.StringIO()
    try:
        with redirect_stdout(sink), redirect_stderr(sink):
            yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@contextmanager
def _scratch_folder() -> Iterator[None]:
    """The current folder is an empty scratch one until the block ends (then removed)."""
    with tempfile.TemporaryDirectory(prefix="ravyn-check-") as folder, chdir(folder):
        yield


def new_seed() -> int:
    """A seed for a check nobody asked to replay."""
    return random.SystemRandom().randrange(2**31)


def run_check(
    exercise: Exercise,
    path: Path,
    seed: int | None = None,
    *,
    loaded: Callable[[], None] | None = None,
    interruptible: bool = True,
) -> Report:
    """Load `path` and run `exercise`'s check on it, in this process.

    `seed` fixes the requests' random values (a new one when `None`). An
    async app that hangs is stopped after `CHECK_TIMEOUT`; a blocking one is
    not: use `check_isolated` where that matters. `loaded` is called once
    the file has been imported. What escapes the check is blamed on the
    learner's file when it was raised there (a `sys.exit` in a handler, say),
    and otherwise reported as a failure of the check itself (`internal`). A
    `KeyboardInterrupt` is raised again when `interruptible` (Ctrl-C in this
    process); in the check's own process, where no Ctrl-C can arrive, it is
    the learner's like any other exception.
    """
    report = Report(exercise.name, path, new_seed() if seed is None else seed)
    module_name = f"ravyn_tutorial_exercise_{exercise.name}"
    if exercise.served:
        path = path.absolute()  # it is loaded from a scratch folder
    with _quiet(), _scratch_folder() if exercise.served else nullcontext():
        try:
            module = load_module(path, module_name)
            if loaded is not None:
                loaded()
            lab = Lab(module, path, exercise.needs, report.seed)
            for name in lab.missing:
                report.findings.append(
                    Finding(False, f"{name} is gone from the file: the exercise needs it, keep it.")
                )

            async def go() -> None:
                with anyio.fail_after(CHECK_TIMEOUT):
                    if exercise.served:  # its check starts servers of its own
                        report.findings.extend(await exercise.check(lab))
                        return
                    async with lab:
                        report.findings.extend(await exercise.check(lab))

            try:
                anyio.run(go)
            except TimeoutError:
                report.error = _too_slow(path, CHECK_TIMEOUT)
            report.trials = [
                TrialSummary(t.request, t.timeline.status, t.response_time, t.timeline.render())
                for t in lab.trials
            ]
        except LearnerError as error:
            report.error = error
        except BaseException as exc:
            escaped = _unwrap(exc)
            if isinstance(escaped, KeyboardInterrupt) and interruptible:
                raise
            blamed = learner_frame(escaped, path, "checking it")
            if blamed.line is not None:
                if isinstance(escaped, SystemExit):
                    blamed.summary = (
                        f"your file ended the process (SystemExit: {escaped.code}) while the check ran: "
                        "an app must not call sys.exit() or exit()"
                    )
                report.error = blamed
            else:
                report.internal = "".join(traceback.format_exception_only(escaped)).strip()
        finally:
            sys.modules.pop(module_name, None)
    return report


def _unwrap(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _hung_loading(path: Path, timeout: float) -> LearnerError:
    return LearnerError(
        f"loading your file did not finish in {timeout:g} s, so the check stopped it before sending a "
        "single request. Does it start a server or a loop at import (uvicorn.run(app), while True, "
        "input())? The check imports the file and serves `app` itself: put such code under "
        '`if __name__ == "__main__":`.',
        path,
        when="loading it",
    )


def _too_slow(path: Path, timeout: float) -> LearnerError:
    return LearnerError(
        f"your app was still busy after {timeout:g} s, so the check stopped it. Does a handler or a task "
        "wait for something that never comes (a long sleep, a loop that never ends)?",
        path,
        when="checking it",
    )


def check_isolated(
    exercise: Exercise,
    path: Path,
    *,
    seed: int | None = None,
    timeout: float = CHECK_TIMEOUT,
    cancel: threading.Event | None = None,
) -> Report:
    """Run the check in a child process, stopped after `timeout` seconds.

    Setting `cancel` (from another thread) stops it at once and raises `Cancelled`.
    """
    seed = new_seed() if seed is None else seed
    with tempfile.TemporaryDirectory(prefix="ravyn-check-") as scratch:
        out = Path(scratch) / "report.json"
        phase = Path(scratch) / "phase"
        command = [
            sys.executable,
            "-m",
            "ravyn_tutorial.checking",
            exercise.name,
            str(path),
            str(seed),
            str(out),
        ]
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so whatever it started stops with it
        )
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    # short waits when it may be called off; retrying loses no output
                    _, stderr = child.communicate(timeout=timeout if cancel is None else 0.1)
                    break
                except subprocess.TimeoutExpired:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled(exercise.name) from None
                    if time.monotonic() >= deadline:
                        _stop(child)
                        return _timed_out(exercise, path, seed, timeout, _read(phase))
        except BaseException:
            _stop(child)
            raise
        if out.exists():
            return Report.from_json(out.read_text(encoding="utf-8"))
        reached = _read(phase)  # read before the scratch folder goes
    said = stderr.decode("utf-8", "replace").strip().splitlines()
    code = child.returncode
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        summary = (
            f"the check was killed by the signal {name} before it finished: did your file kill its own "
            "process, or did it run out of memory?"
        )
    else:
        summary = (
            f"the check's process ended before it finished (exit code {code}) without a word from the "
            "check: does your file end the process with os._exit()?"
        )
    if said:
        summary += f" Its last words: {said[-1]}"
    when = "checking it" if reached == "checking" else "loading it"
    return Report(exercise.name, path, seed, error=LearnerError(summary, path, when=when))


def _read(phase: Path) -> str:
    try:
        return phase.read_text(encoding="utf-8")
    except OSError:
        return ""


def _timed_out(exercise: Exercise, path: Path, seed: int, timeout: float, phase: str) -> Report:
    if phase == "checking":
        return Report(exercise.name, path, seed, error=_too_slow(path, timeout))
    if phase == "loading":
        return Report(exercise.name, path, seed, error=_hung_loading(path, timeout))
    return Report(
        exercise.name,
        path,
        seed,
        internal=f"the check did not even start within {timeout:g} s (a very busy machine?): "
        "try again, or give it longer with --timeout 60",
    )


def _stop(child: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        child.kill()
    child.wait()


def main(argv: list[str]) -> int:
    """The child's side of `check_isolated`: the report goes to the file
    `REPORT`, and `REPORT`'s folder gets a file `phase` once the learner's
    file is loaded, so that the parent can tell a hang at import from one in
    a request."""
    name, path, seed, out = argv
    report_path = Path(out)

    phase = report_path.parent / "phase"

    def loaded() -> None:
        phase.write_text("checking", encoding="utf-8")

    phase.write_text("loading", encoding="utf-8")
    try:
        report = run_check(EXERCISES[name], Path(path), int(seed), loaded=loaded, interruptible=False)
    except BaseException as exc:  # whatever it is, the parent must hear of it
        report = Report(name, Path(path), int(seed), internal=f"{type(exc).__name__}: {exc}")
    report_path.write_text(report.to_json(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    # the learner's tasks may run on daemon threads: leave without waiting for them
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)
