"""The learner's working folder: where it is, and writing into it without
ever losing their work.

Every `start --fresh` and `reset` keeps the file it replaces as a numbered
backup (`slow_signup.py.1.bak`, `.2.bak`, ...); a backup is never
overwritten. A folder that cannot be written to gives `Unwritable`, one
sentence that says what to do, never a traceback.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ravyn_tutorial.exercises import Exercise, template_text
from ravyn_tutorial.progress import PROGRESS_FILE, Progress, digest

if TYPE_CHECKING:
    from ravyn_tutorial.checking import Report

__all__ = [
    "DEFAULT_DIR",
    "Unwritable",
    "backup",
    "check_and_record",
    "resolve_folder",
    "writable",
    "write_template",
]

DEFAULT_DIR = Path("ravyn-exercises")


class Unwritable(Exception):
    """The working folder cannot be written to."""


def resolve_folder(given: Path | None) -> Path:
    """The working folder: `given` if any; else `./ravyn-exercises`, or the
    current folder when the learner is already inside it."""
    if given is not None:
        return given
    if DEFAULT_DIR.is_dir():
        return DEFAULT_DIR
    here = Path.cwd()
    if (here / PROGRESS_FILE).is_file() or here.name == DEFAULT_DIR.name:
        return Path(".")
    return DEFAULT_DIR


@contextmanager
def writable(folder: Path) -> Iterator[None]:
    """Turn a failed write in `folder` into `Unwritable`, in plain words."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            where = "this folder" if folder == Path(".") else str(folder)
            raise Unwritable(
                f"Cannot write in {where} ({exc.strerror}): run the tutorial from a folder you can write "
                "to, or pick one with --dir."
            ) from None
        raise


def backup(path: Path) -> Path:
    """Copy `path` to the first free `<name>.<n>.bak` beside it; return the copy."""
    number = 1
    while (copy := path.with_name(f"{path.name}.{number}.bak")).exists():
        number += 1
    shutil.copy2(path, copy)
    return copy


def write_template(folder: Path, exercise: Exercise, *, fresh: bool) -> tuple[bool, Path | None]:
    """Put the exercise's broken app in `folder` unless a file is there
    (with `fresh`, back that file up and replace it). Returns whether the
    file was written, and the backup made, if any."""
    target = folder / exercise.file_name
    with writable(folder):
        folder.mkdir(parents=True, exist_ok=True)
        if target.exists() and not fresh:
            return False, None
        saved = backup(target) if target.exists() else None
        target.write_text(template_text(exercise), encoding="utf-8")
    return True, saved


def check_and_record(folder: Path, exercise: Exercise, **options: Any) -> tuple[Report, str | None]:
    """Check the learner's file in a child process and remember the outcome.

    Returns the report, and a one-line note if the outcome could not be saved.
    `options` are `check_isolated`'s; a check called off (`Cancelled`) records nothing.
    """
    from ravyn_tutorial.checking import check_isolated

    target = folder / exercise.file_name
    before = digest(target)  # taken first: a save during the check is not what passed
    report = check_isolated(exercise, target, **options)
    try:
        with writable(folder):
            Progress(folder).checked(exercise.name, report.passed, before)
    except Unwritable as exc:
        return report, f"Your progress was not saved. {exc}"
    return report, None
