"""How tasks are named and logged: on the `ravyn.background` logger, with text
from clients escaped so that it cannot forge a log line."""

from __future__ import annotations

import functools
import logging
import traceback
from typing import Any

from lilya.background import Task, Tasks

from ravyn._lilya.concurrency import sync_function

__all__ = ["describe", "escape_text", "log_attempt", "log_failure", "logger", "task_name"]

logger = logging.getLogger("ravyn.background")


def task_name(task_or_func: object) -> str:
    """Return a readable name for a task or a function: its `__qualname__`.

    Works for our tasks (their `name`), Lilya's tasks (whose `func` may be a
    thread wrapper) and plain callables; a collection is named by its class.

    Example:
        ```python
        from ravyn.background import BackgroundTask, task_name

        def send_email(to: str) -> None: ...

        assert task_name(BackgroundTask(send_email, "a@b.c")) == "send_email"
        ```
    """
    if isinstance(task_or_func, Tasks):
        return type(task_or_func).__name__
    if isinstance(task_or_func, Task):
        name = getattr(task_or_func, "name", None)  # a BackgroundTask's
        if isinstance(name, str):
            return name
        func: Any = task_or_func.func
        func = sync_function(func) or func  # Lilya's AsyncCallable thread wrapper
    else:
        func = task_or_func
    while isinstance(func, functools.partial):
        func = func.func
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    return str(name) if name else repr(func)


def describe(task: Task) -> str:
    """The task for a log line: `name(args...)` for ours, its name for Lilya's."""
    described = getattr(task, "describe", None)
    return str(described()) if callable(described) else task_name(task)


_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL |= {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def escape_text(text: str) -> str:
    """`text` with its control characters (newlines included) escaped, so that
    text from a client cannot forge a log line."""
    return text.translate(_CONTROL)


def log_attempt(task: Task, error: BaseException, attempt: int, attempts: int, elapsed: float) -> None:
    """Log an attempt that failed, with another one to follow."""
    logger.warning(
        "Background task %s attempt %d/%d failed after %.3fs: %s: %s; retrying",
        describe(task),
        attempt,
        attempts,
        elapsed,
        escape_text(type(error).__name__),
        escape_text(str(error)),
        extra={"task_name": task_name(task)},
    )


def log_failure(task: Task, error: BaseException, elapsed: float, attempts: int) -> None:
    """Log a task that failed for good, with its traceback."""
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    logger.error(
        "Background task %s failed after %.3fs%s: %s: %s",
        describe(task),
        elapsed,
        tries,
        escape_text(type(error).__name__),
        escape_text(str(error)),
        exc_info=error,
        extra={"task_name": task_name(task)},
    )


def _escape_exception_text(record: logging.LogRecord) -> bool:
    """A filter of the `ravyn.background` logger: format a record's traceback
    once, with the exception messages escaped, their notes and the members of
    an exception group included (a handler reuses `exc_text`).

    It leans on how `traceback.TracebackException` keeps what it prints, which
    changes between Python versions: should that fail, the whole traceback is
    escaped into one line rather than the record lost (a filter that raises
    makes the logging call itself raise)."""
    error = record.exc_info[1] if record.exc_info else None
    if error is not None and not record.exc_text:
        try:
            record.exc_text = _escaped_traceback(error)
        except Exception:  # a Python whose traceback module we do not know
            whole = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            record.exc_text = escape_text(whole.rstrip("\n"))
    return True


def _escaped_traceback(error: BaseException) -> str:
    formatted = traceback.TracebackException.from_exception(error)
    seen: set[int] = set()
    pending = [formatted]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        message = getattr(current, "_str", None)  # the exception's text, as formatted
        if isinstance(message, str):
            setattr(current, "_str", escape_text(message))  # noqa: B010
        _escape_exception_type(current)
        notes = getattr(current, "__notes__", None)  # add_note() text is printed too
        if isinstance(notes, list):
            current.__notes__ = [escape_text(note) if isinstance(note, str) else note for note in notes]
        pending += [link for link in (current.__cause__, current.__context__) if link is not None]
        pending += getattr(current, "exceptions", None) or []  # an ExceptionGroup's members
    return "".join(formatted.format()).rstrip("\n")


def _escape_exception_type(formatted: traceback.TracebackException) -> None:
    """The name of the exception's class escaped too: a class can be made at run
    time with a name from a client's text (`type(name, (Exception,), {})`)."""
    names = vars(formatted)
    if "exc_type_qualname" in names:  # Python 3.13 and later: the names, kept as text
        for key in ("exc_type_qualname", "exc_type_module"):
            if isinstance(names.get(key), str):
                names[key] = escape_text(names[key])
        return
    exc_type = names.get("exc_type")  # before 3.13: the class itself
    if isinstance(exc_type, type):
        name, module = exc_type.__qualname__, exc_type.__module__
        if isinstance(module, str) and (escape_text(name) != name or escape_text(module) != module):
            # a stand-in with the escaped names: the class itself is not ours to change
            stand_in = type("_Escaped", (), {"__module__": escape_text(module)})
            stand_in.__qualname__ = escape_text(name)
            names["exc_type"] = stand_in


# our own logger, configured once: every handler of it sees escaped tracebacks
logger.addFilter(_escape_exception_text)
