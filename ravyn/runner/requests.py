"""The request being served: which runner its tasks go to, and the place it
holds among the app's pending tasks (`max_pending_tasks`)."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only: the runner imports this module
    from ravyn.runner.core import TaskRunner

__all__ = ["METHODS_WITHOUT_TASKS", "RequestSlot", "current_request", "serving"]

METHODS_WITHOUT_TASKS = frozenset({"HEAD", "OPTIONS"})
"""Methods whose responses run no background tasks (like Lilya): monitors and
CORS preflights repeat them freely, so they must have no side effects."""


class RequestSlot:
    """The runner serving the current request, and what the request holds there:
    a reserved place (`reserved`), the most tasks it may add (`room`:
    `max_pending_tasks`, then the places free when it is admitted), how many it
    added (`added`), whether its tasks were handed to the runner yet
    (`handed_over`), whether it tried to add more before that (`overflowed`)
    and whether its response has started (`response_started`)."""

    __slots__ = (
        "added",
        "handed_over",
        "method",
        "overflowed",
        "reserved",
        "response_started",
        "room",
        "runner",
    )

    def __init__(self, runner: TaskRunner, method: str) -> None:
        self.runner = runner
        self.method = method
        self.reserved = False
        self.room = runner.max_pending
        self.added = 0
        self.handed_over = False
        self.overflowed = False
        self.response_started = False
        """Whether the response our handler sends has started (set by our
        responses, read by the app's core when an exception comes up: see
        `ravyn._pipeline.started`)."""


_current: ContextVar[RequestSlot | None] = ContextVar("ravyn_current_request", default=None)


current_request: Callable[[], RequestSlot | None] = _current.get
"""The request a `Ravyn` app serves in the current context, or None (the
context variable's own `get`: it is read for every task added and run)."""


class serving(RequestSlot):
    """Mark the code inside as serving one request of `runner`'s app: tasks
    called there run through `runner`, and a place it reserved for tasks is
    given back when the request ends. Used by `Ravyn.__call__`:
    `with serving(runner, method):`. It is the request's `RequestSlot` too
    (one object per request, not two)."""

    __slots__ = ("token",)

    def __enter__(self) -> None:
        self.token = _current.set(self)

    def __exit__(self, *exc_info: object) -> None:
        _current.reset(self.token)
        if self.reserved or self.overflowed:
            self.runner.release(self)
