"""The server's error log, made as safe as the task log from forged lines.

An exception a handler or a dependency lets out goes up through Lilya's error
layers (the client gets its JSON 500) and on to the server, which logs it
with its traceback: uvicorn's `uvicorn.error` logger, "Exception in ASGI
application". The exception's text may hold what a client sent
(`ValueError(f"bad id {raw}")`), newlines included, and each newline
started a line of the log that the client wrote: a forged log entry.

The task logger (`ravyn.background`) already escapes control characters in
the exception messages of the tracebacks it logs (with
`ravyn.runner.escape_text`). Its filters are reused here, not copied: added
to the servers' error loggers when a `Ravyn` app is built.
"""

from __future__ import annotations

import logging

import ravyn.runner  # noqa: F401  # installs the task logger's escaping filter

__all__ = ["SERVER_ERROR_LOGGERS", "TASK_LOGGER", "escape_server_error_logs"]

TASK_LOGGER = "ravyn.background"
"""The logger whose filters escape exception text in tracebacks."""

SERVER_ERROR_LOGGERS = ("uvicorn.error",)
"""The loggers a server logs an application's exceptions to."""


def escape_server_error_logs() -> None:
    """Give each of `SERVER_ERROR_LOGGERS` the task logger's filters.

    Safe to call for every app: a logger holds a filter once. Uvicorn's own
    logging setup keeps a logger's filters (it replaces only its handlers).
    """
    filters = logging.getLogger(TASK_LOGGER).filters
    for name in SERVER_ERROR_LOGGERS:
        server_logger = logging.getLogger(name)
        for each in filters:
            server_logger.addFilter(each)
