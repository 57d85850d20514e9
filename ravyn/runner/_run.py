"""One request's tasks while they run: what the shutdown drain may cancel."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
from lilya.background import Task

from ravyn.runner.plan import Plan


class Run:
    """One request's tasks while they run, and how to cancel them.

    The common case, one plain task with nobody listening, has no `Run` at all
    (see `ravyn.runner.inline`). Most other runs cancel through an anyio
    cancel scope around them. A run of one async task with no timeout, retries
    or error hook has no scope: its only wait is the future the detached call
    is awaited through (`waiter`), which `cancel()` cancels instead, once, as
    the scope would have.

    A plan with no group (`host` set) has no scope either: its async tasks
    with no timeout are awaited in the request's own asyncio task, `host`,
    which `cancel()` cancels once with asyncio's `Task.cancel()`; the runner
    takes that cancellation back (`uncancel`) when the run ends.
    """

    __slots__ = ("base", "cancel_called", "ended", "host", "leaves", "plan", "scope", "waiter")

    def __init__(
        self,
        plan: Plan | None,
        leaves: list[Task],
        *,
        scoped: bool = True,
        host: asyncio.Task[Any] | None = None,
    ) -> None:
        self.plan = plan
        self.leaves = leaves
        self.ended: set[int] = set()
        self.scope = anyio.CancelScope() if scoped and host is None else None
        self.waiter: asyncio.Future[None] | None = None
        self.host = host
        self.base = host.cancelling() if host is not None else 0
        self.cancel_called = False

    def cancel(self) -> None:
        """Cancel what runs now (the drain, a second signal), once."""
        if self.cancel_called:
            return
        self.cancel_called = True
        if self.scope is not None:
            self.scope.cancel()
        elif self.host is not None:
            self.host.cancel()
        elif self.waiter is not None:
            self.waiter.cancel()

    def unfinished(self) -> list[Task]:
        """The tasks not ended yet, in plan order."""
        return [task for task in self.leaves if id(task) not in self.ended]
