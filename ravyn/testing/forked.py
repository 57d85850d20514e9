"""uvicorn forked from the caller's process, for [`serve`][ravyn.testing.serve]
with an app object (or `fork=True`): the app and every module the caller has
imported are already there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

__all__ = ["ForkedProcess", "check_forkable", "fork_uvicorn"]

_served: Any = None
"""The app a forked server serves: uvicorn finds it as `ravyn.testing.forked:_served`."""

_ONE_PROCESS_ONLY = ("--workers", "--reload")


class ForkedProcess:
    """A server forked from the caller's process, driven like a `subprocess.Popen`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        """The child's process id."""
        self.returncode: int | None = None
        """Its exit status once it has ended (minus the signal that ended it), else None."""

    def poll(self) -> int | None:
        """The exit status if the child has ended, else None."""
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped behind our back: its status is lost
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the child to end; `subprocess.TimeoutExpired` after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"forked server {self.pid}", timeout or 0.0)
            time.sleep(0.01)
        return code

    def send_signal(self, sig: int) -> None:
        """Send `sig` to the child, unless it has already ended."""
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        """SIGTERM: uvicorn shuts down gracefully."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(signal.SIGKILL)


def check_forkable(uvicorn_args: Sequence[str]) -> None:
    """`ValueError` if a forked server cannot run with these options, or here at all."""
    refused = [arg for arg in uvicorn_args if arg.split("=", 1)[0] in _ONE_PROCESS_ONLY]
    if refused:
        raise ValueError(
            f"a forked server runs in one process: drop {', '.join(refused)} or pass a string app"
        )
    if not hasattr(os, "fork"):
        raise ValueError("fork=True (or an app object) needs os.fork(), which this platform lacks")


def fork_uvicorn(
    app: Any, options: Sequence[str], out: int, cwd: str | Path | None, env: Mapping[str, str]
) -> ForkedProcess:
    """Fork, and run uvicorn's command line on `app` (an import string or the
    object itself) with `options` in the child, its output going to the file
    descriptor `out`. The child only ever leaves through `os._exit`."""
    pid = os.fork()
    if pid:
        return ForkedProcess(pid)
    code: int | str | None = 1
    try:
        global _served
        _served = app
        target = app if isinstance(app, str) else f"{__name__}:_served"
        _run(target, options, out, cwd, env)
    except SystemExit as exc:  # uvicorn's command line ends with one
        code = exc.code
    except BaseException:
        traceback.print_exc()
    finally:
        with suppress(Exception):  # nothing is left to report a failure to
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 0 if code is None else 1)


def _run(
    target: str, options: Sequence[str], out: int, cwd: str | Path | None, env: Mapping[str, str]
) -> None:
    from uvicorn.main import main as uvicorn_main

    os.dup2(out, 1)
    os.dup2(out, 2)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    # fresh streams: another thread of the caller may have held the old ones' locks at fork
    sys.stdout = os.fdopen(1, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)
    # a caller's event loop may have its self-pipe as the wakeup fd: a signal to
    # this process must not wake (and be handled by) the caller's loop
    signal.set_wakeup_fd(-1)
    if cwd is not None:
        os.chdir(cwd)
    os.environ.update(env)
    uvicorn_main.main(args=[target, *options], prog_name="uvicorn", standalone_mode=True)
