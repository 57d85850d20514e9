"""A crash and a restart under a real server, for the exercises about durability.

[`crash_and_restart`][ravyn_tutorial.exercises.restart.crash_and_restart]
serves the learner's file with uvicorn (through
[`ravyn.testing.serve`][ravyn.testing.serve]) in a scratch folder of its own,
sends one request, kills the server with SIGKILL as soon as the response is
in, starts the same file again in the same folder, sends a second request,
and keeps every line each server printed. No in-process stand-in can show
what a crash loses: only a process that really dies can.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Crash", "Reply", "crash_and_restart"]

READY_TIMEOUT = 8.0
"""Seconds a server may take to listen."""
ANSWER_TIMEOUT = 5.0
"""Seconds a server may take to answer the request."""
REPLAY_WAIT = 6.0
"""Seconds to wait, after the restart, for work the journal announced it runs again."""
SETTLE = 1.5
"""Seconds to keep listening after the second request's work is done, for work that comes back late."""
REPLAYING = "Running durable task"
"""What Ravyn's journal logs at start for each task it runs again."""


@dataclass(frozen=True)
class Reply:
    """One response a server sent."""

    status: int
    body: Any
    """The JSON body, or the text when it is not JSON."""


@dataclass
class Crash:
    """What the two servers printed and answered."""

    first: Reply | None = None
    """The answer of the server that was then killed."""
    second: Reply | None = None
    """The answer of the restarted server."""
    before_kill: list[str] = field(default_factory=list)
    """Lines the first server printed before it was killed."""
    after_restart: list[str] = field(default_factory=list)
    """Lines the restarted server printed."""
    failure: str = ""
    """Why a server could not be started or asked (then the rest may be empty)."""


class _Lines:
    """Lines printed by a server, kept from its reader thread, waited on from the check's."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()

    def add(self, line: str) -> None:
        with self.changed:
            self.lines.append(line)
            self.changed.notify_all()

    def wait_for(self, wanted: Callable[[list[str]], bool], timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: wanted(self.lines), timeout)


def _post(url: str, path: str, body: dict[str, Any]) -> Reply:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=ANSWER_TIMEOUT)
    try:
        payload = json.dumps(body).encode()
        connection.request("POST", path, payload, {"content-type": "application/json"})
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
    finally:
        connection.close()
    try:
        return Reply(response.status, json.loads(text))
    except ValueError:
        return Reply(response.status, text)


def _target(path: Path, scratch: Path) -> tuple[str, dict[str, str]]:
    """`module:app` and the environment that imports the learner's file from its own folder
    (a copy in `scratch` when its name is not a module name)."""
    folder, module = path.parent, path.stem
    if not module.isidentifier():
        folder, module = scratch / "code", "learner_app"
        folder.mkdir()
        shutil.copyfile(path, folder / "learner_app.py")
    paths = [str(folder), *filter(None, [os.environ.get("PYTHONPATH", "")])]
    return f"{module}:app", {"PYTHONPATH": os.pathsep.join(paths)}


def crash_and_restart(
    path: Path,
    route: str,
    first: dict[str, Any],
    second: dict[str, Any],
    done: Callable[[dict[str, Any]], str],
) -> Crash:
    """Serve `path`, POST `first` to `route`, SIGKILL the server once it answered,
    serve `path` again in the same folder, POST `second`, and wait for the line
    `done(second)` (and for `done(first)` when the journal says it runs again).

    Both servers run in one scratch folder, so a journal given by a relative
    path is the same file for both and is gone afterwards.
    """
    from ravyn.testing import serve  # imported when a check runs, not for `list`

    crash = Crash()
    with tempfile.TemporaryDirectory(prefix="ravyn-crash-") as folder:
        scratch = Path(folder)
        target, env = _target(path, scratch)
        killed, restarted = _Lines(), _Lines()
        try:
            with serve(
                target, cwd=scratch, env=env, on_output=killed.add, ready_timeout=READY_TIMEOUT
            ) as server:
                crash.first = _post(server.url, route, first)
                if crash.first.status < 400:
                    server.process.kill()  # the crash: no drain, no shutdown, nothing written after
                    server.process.wait()
                # else it is stopped as usual, with time to log why it refused the request
            if crash.first.status >= 400:
                return crash  # refused at once: a restart would show nothing more
            with serve(
                target, cwd=scratch, env=env, on_output=restarted.add, ready_timeout=READY_TIMEOUT
            ) as server:
                crash.second = _post(server.url, route, second)
                if crash.second.status >= 400:
                    return crash
                replaying = any(REPLAYING in line for line in restarted.lines)
                restarted.wait_for(lambda lines: any(done(second) in line for line in lines), REPLAY_WAIT)
                if replaying:
                    restarted.wait_for(lambda lines: any(done(first) in line for line in lines), REPLAY_WAIT)
                else:  # nothing announced: a little longer for work that comes back another way
                    restarted.wait_for(lambda lines: any(done(first) in line for line in lines), SETTLE)
        except (OSError, RuntimeError, TimeoutError, http.client.HTTPException) as exc:
            crash.failure = _why(exc, route)
        finally:
            crash.before_kill, crash.after_restart = list(killed.lines), list(restarted.lines)
    return crash


def _why(exc: BaseException, route: str) -> str:
    """One sentence for why the servers could not be started or asked, with the error
    the learner's app raised when the server's output holds one."""
    if isinstance(exc, TimeoutError) and "listen" not in str(exc):
        return (
            f"the server did not answer POST {route} within {ANSWER_TIMEOUT:g} s: "
            "does the handler wait for something?"
        )
    text = str(exc).strip()
    errors = [line.strip() for line in text.splitlines() if _ERROR.match(line)]
    first = text.splitlines()[0].rstrip(":") if text else type(exc).__name__
    return (f"{first} ({errors[-1]})" if errors else first)[:500]


_ERROR = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt): ")
"""A line such as `ConnectionError: no mail server`: the last line of a traceback."""
