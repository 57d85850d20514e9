"""The asyncio task that runs the caller, found without a system call.

`asyncio.current_task()` asks `asyncio.get_running_loop()` for the loop, and
CPython 3.11's `get_running_loop` calls `getpid()`, a system call, on every
call: it tells a loop inherited across `fork` from the child's own. The
runner's fast path asks for the request's task once per request, so under a
server that was one system call per request (`strace -c` counted 7,017
`getpid` for 6,907 requests).

`current_host()` remembers, per thread, the loop it last found, and asks
`asyncio.current_task(loop)` of it (a dict lookup). One thread runs one loop
at a time, so a remembered loop that has a current task is the running one.
When it has none (another loop runs in the thread now, or none does), the
usual `asyncio.current_task()` is asked, and its loop remembered. A fork
forgets the child's remembered loop, so a child never takes its parent's loop
for its own (which is what the `getpid()` guards).
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

__all__ = ["current_host"]


class _Remembered(threading.local):
    loop: asyncio.AbstractEventLoop | None = None


_remembered = _Remembered()
_forgets_at_fork = False


def _forget() -> None:
    _remembered.loop = None


def current_host() -> asyncio.Task[Any] | None:
    """The asyncio task running the caller, as `asyncio.current_task()` gives it;
    None outside a task (or with no running asyncio loop)."""
    loop = _remembered.loop
    if loop is not None:
        task = asyncio.current_task(loop)
        if task is not None:
            return task
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    global _forgets_at_fork
    if not _forgets_at_fork:  # once, when a loop is first remembered (nothing is done at import)
        _forgets_at_fork = True
        if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
            os.register_at_fork(after_in_child=_forget)
    _remembered.loop = loop
    return asyncio.current_task(loop)
