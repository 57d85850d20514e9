"""Running an exercise's check on the learner's file, safely.

The learner's module is imported fresh for each check, its prints and logs
are kept off the terminal (they show up in the recorded timeline instead),
and the logging setup it changes (building a Lilya app reconfigures logging)
is put back afterwards.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from ravyn_tutorial.exercises import Exercise, Finding, Lab, Trial
from ravyn_tutorial.learner import LearnerError, load_module

__all__ = ["CHECK_TIMEOUT", "Report", "run_check"]

CHECK_TIMEOUT = 20.0


@dataclass
class Report:
    """The outcome of one check."""

    exercise: Exercise
    path: Path
    findings: list[Finding] = field(default_factory=list)
    trials: list[Trial] = field(default_factory=list)
    error: LearnerError | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.findings) and all(f.ok for f in self.findings)


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


def run_check(exercise: Exercise, path: Path) -> Report:
    """Load `path` and run `exercise`'s check on it."""
    report = Report(exercise, path)
    module_name = f"ravyn_tutorial_exercise_{exercise.name}"
    with _quiet():
        try:
            module = load_module(path, module_name)
            lab = Lab(module, path, exercise.watch)
            for name in lab.missing:
                report.findings.append(
                    Finding(False, f"{name} is gone from the file: the exercise needs it, keep it.")
                )

            async def go() -> None:
                with anyio.fail_after(CHECK_TIMEOUT):
                    async with lab:
                        report.findings.extend(await exercise.check(lab))

            try:
                anyio.run(go)
            except TimeoutError:
                report.error = LearnerError(
                    f"the check did not finish in {CHECK_TIMEOUT:.0f} s: does your app wait for something "
                    "that never comes?",
                    path,
                )
            report.trials = lab.trials
        except LearnerError as error:
            report.error = error
        finally:
            sys.modules.pop(module_name, None)
    return report
