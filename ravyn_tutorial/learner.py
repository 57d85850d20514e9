"""Loading the learner's file, and explaining what went wrong in their words,
not ours: the error, the file, the line, never a traceback of the tutorial."""

from __future__ import annotations

import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

__all__ = ["LearnerError", "learner_frame", "load_module"]


@dataclass
class LearnerError(Exception):
    """A problem in the learner's code, located in their file when possible."""

    summary: str
    """What happened: `SyntaxError: invalid syntax`."""
    path: Path
    line: int | None = None
    source: str = ""
    """The offending line of code, as written."""
    column: int | None = None
    when: str = "loading it"
    """`loading` the file, or what was running (`the handler`, ...)."""

    def __str__(self) -> str:
        where = f"{self.path}, line {self.line}" if self.line else str(self.path)
        return f"{self.summary} ({where})"


def _line_of(path: Path, number: int | None) -> str:
    if not number:
        return ""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    return lines[number - 1].rstrip() if 0 < number <= len(lines) else ""


def learner_frame(exc: BaseException, path: Path, when: str) -> LearnerError:
    """Describe `exc` by the deepest frame of the traceback that is in `path`."""
    summary = traceback.format_exception_only(exc)[-1].strip()
    wanted = str(path.resolve())
    line: int | None = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if str(Path(frame.filename).resolve()) == wanted:
            line = frame.lineno
    return LearnerError(summary, path, line, _line_of(path, line), when=when)


def load_module(path: Path, name: str) -> ModuleType:
    """Import the file at `path` as a fresh module called `name`.

    Raises `LearnerError` for a syntax error (with its line and column) or
    for any exception raised while the module runs (located at the learner's
    line that led to it, e.g. a `from ravyn import` of a name that does not exist).
    """
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LearnerError(f"cannot read the file: {exc.strerror}", path) from None
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        summary = f"{type(exc).__name__}: {exc.msg}"
        text = (exc.text or _line_of(path, exc.lineno)).rstrip("\n")
        raise LearnerError(summary, path, exc.lineno, text, exc.offset) from None
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except BaseException as exc:
        sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise learner_frame(exc, path, "loading it") from None
    return module
