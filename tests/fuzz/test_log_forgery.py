"""A client cannot forge lines of the server's log through an exception's text.

Served by a real uvicorn: the handler's or dependency's exception holds what
the client sent, newlines and other control characters included. The server
logs the traceback; each such character must come out escaped, so that no
line of the log starts with the client's text.
"""

from __future__ import annotations

import http.client
import logging
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ravyn import Ravyn
from ravyn._logs import SERVER_ERROR_LOGGERS, TASK_LOGGER
from ravyn.testing import serve

ROOT = Path(__file__).resolve().parents[2]
FORGED = '\nINFO:     127.0.0.1:1 - "GET /admin HTTP/1.1" 200 OK\r\nforged'


def _get(url: str, target: str) -> int:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    connection.request("GET", target)
    status = connection.getresponse().status
    connection.close()
    return status


@pytest.mark.parametrize(
    "path",
    [
        "/fail",
        "/fail-in-dependency",
        "/fail-in-cleanup",
        "/fail-with-note",
        "/fail-in-group",
        "/fail-with-class",
    ],
)
def test_an_exceptions_text_cannot_forge_a_line_of_the_servers_log(path: str) -> None:
    with serve("tests.fuzz.forged_log_app:app", cwd=ROOT) as server:
        status = _get(server.url, f"{path}?text={quote(FORGED)}")
    output = server.output  # all of it, the server stopped
    assert "Exception in ASGI application" in output
    lines = output.splitlines()
    assert not any(line.startswith(("INFO:     127.0.0.1:1", "forged")) for line in lines), output
    assert '\\nINFO:     127.0.0.1:1 - "GET /admin HTTP/1.1" 200 OK\\r\\nforged' in output
    # the client still got the JSON 500 (the clean-up fails after the response: it got its 200)
    assert status == (200 if path == "/fail-in-cleanup" else 500)


def _logged(server_logger: logging.Logger, text: str) -> str:
    """How the server's logger formats its record of an exception holding `text`."""
    record = server_logger.makeRecord(
        server_logger.name, logging.ERROR, __file__, 1, "Exception in ASGI application\n", (), None
    )
    # every place a traceback prints text: the message, a note, a cause, a group's members
    member = ValueError(f"bad {text}")
    member.add_note(f"note {text}")
    # a class named, and placed in a module named, from the client's text
    named = type(f"Bad{text}".replace("\0", ""), (LookupError,), {"__module__": f"made.{text}"})
    member.__cause__ = KeyError(text)
    try:
        raise ExceptionGroup(f"group {text}", [member, named(text)])
    except ExceptionGroup as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    assert server_logger.filter(record)  # the logger's filters, as `handle` applies them
    return logging.Formatter().format(record)


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(max_size=30))
def test_no_text_in_an_exception_adds_a_line_to_the_server_error_log(text: str) -> None:
    Ravyn()  # building an app gives the server's logger the escaping
    assert logging.getLogger(TASK_LOGGER).filters
    server_logger = logging.getLogger(SERVER_ERROR_LOGGERS[0])
    # the message line and the traceback's lines: the exception's text adds none
    assert len(_logged(server_logger, text).splitlines()) == len(_logged(server_logger, "x").splitlines())
