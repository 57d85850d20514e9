"""The request being served: which runner its tasks go to, and the place it
holds among the app's pending tasks (`max_pending_tasks`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only: the runner imports this module
    from lilya.background import Task

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
    (`handed_over`), whether it tried to add more before that (`overflowed`),
    whether its response has started (`response_started`), and, once its
    handler or a dependency raised, the tasks held for after the error response
    (`failed`, see `park`) and whether they run now (`after_error`)."""

    __slots__ = (
        "added",
        "after_error",
        "failed",
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
        self.failed: list[Task | None] | None = None

    def park(self, sources: Sequence[Task | None]) -> None:
        """Mark the request failed and hold `sources` (tasks, collections; none
        is fine) until its error response is out: `Ravyn.__call__` then runs
        those whose `when=` says so (`ravyn.runner.when.run_parked`).

        (`after_error` is set here, not for every request: it is read only
        once `failed` is set.)"""
        if self.failed is None:
            self.failed = list(sources)
            self.after_error = False
        else:
            self.failed.extend(sources)


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

    def __enter__(self) -> RequestSlot:
        self.token = _current.set(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _current.reset(self.token)
        if self.reserved or self.overflowed:
            self.runner.release(self)
