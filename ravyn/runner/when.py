"""The outcome policy of a task, `when=`: which of a request's tasks run once
its outcome is known.

* `"success"` (the default): after a response the handler produced;
* `"error"`: after the error response of a request whose handler or
  dependency raised, or whose input was refused (a 400) or cut short;
* `"always"`: after either.

A task's own `when` wins; a task that sets none takes the `when` of the
nearest collection holding it that sets one; at the top, `"success"`.

Nothing here runs for a request until a task with a `when` other than
`"success"` has been made in the process (`in_use`): until then, requests
take exactly the paths they took before the policy existed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, get_args

from lilya.background import Task, Tasks

from ravyn.runner.logs import escape_text, logger, task_name

if TYPE_CHECKING:  # for annotations only: the runner imports this module
    from ravyn.runner.requests import RequestSlot

__all__ = [
    "RUNS_ON",
    "RequestOutcome",
    "When",
    "check_when",
    "first_names",
    "in_use",
    "outcome_of",
    "own_when",
    "run_parked",
    "split",
]

When = Literal["success", "always", "error"]
"""A task's outcome policy: after which outcomes of its request it runs."""

RequestOutcome = Literal["success", "error"]
"""How a request ended: the handler's own response was sent, or an error response."""

WHEN_VALUES: tuple[When, ...] = get_args(When)

RUNS_ON: dict[RequestOutcome, frozenset[When]] = {
    "success": frozenset({"success", "always"}),
    "error": frozenset({"always", "error"}),
}
"""The policies whose tasks run after each outcome."""

in_use = False
"""Whether a task or collection with a `when` other than `"success"` was made
in this process: until then no request pays for looking at policies."""


def check_when(value: object) -> When:
    """`value` if it is one of the three policies; a `TypeError` or `ValueError` naming it otherwise.

    Marks the policies in use (`in_use`) when it is not `"success"`."""
    allowed = ", ".join(repr(option) for option in WHEN_VALUES)
    if not isinstance(value, str):
        raise TypeError(f"when must be one of {allowed}, got {value!r} ({type(value).__name__})")
    if value not in WHEN_VALUES:
        raise ValueError(f"when must be one of {allowed}, got {value!r}")
    if value != "success":
        global in_use
        in_use = True
    return value


def own_when(task: object) -> When | None:
    """The policy `task` sets itself, or None when it takes its collection's
    (Lilya's tasks, and ours that were given no `when`)."""
    attributes: dict[str, Any] | None = getattr(task, "__dict__", None)
    return attributes.get("when") if attributes else None


def split(sources: Iterable[Task | None], outcome: RequestOutcome) -> tuple[list[Task], list[Task]]:
    """The tasks of `sources` (collections opened), in order, each once: those
    whose policy runs them after `outcome`, and those it leaves out."""
    runs: list[Task] = []
    skipped: list[Task] = []
    wanted = RUNS_ON[outcome]
    seen: set[int] = set()
    # a loop with a stack, not recursion: collections nested thousands deep stay fine
    stack: list[tuple[Task | None, When]] = [(source, "success") for source in sources]
    stack.reverse()
    while stack:
        task, inherited = stack.pop()
        if task is None or id(task) in seen:
            continue
        seen.add(id(task))
        policy = own_when(task) or inherited
        if isinstance(task, Tasks):
            stack.extend((inner, policy) for inner in reversed(task.tasks))
        else:
            (runs if policy in wanted else skipped).append(task)
    return runs, skipped


NAMED_IN_A_LOG_LINE = 10
"""How many tasks one log line names; the others are counted (as in `ravyn.runner.core`)."""


def first_names(tasks: list[Task]) -> str:
    """The names of the first tasks, and how many more: a request may hold thousands."""
    named = ", ".join(task_name(task) for task in tasks[:NAMED_IN_A_LOG_LINE])
    more = len(tasks) - NAMED_IN_A_LOG_LINE
    return f"{named} and {more} more" if more > 0 else named


def outcome_of(request: RequestSlot) -> RequestOutcome | None:
    """The outcome whose policies select the tasks `request` hands over now:
    `"success"` until it failed, `"error"` while the tasks it parked run, and
    None in between: the tasks of the error response itself (an exception
    handler's `background=`) exist only because of the error, and all run."""
    if request.failed is None:
        return "success"
    return "error" if request.after_error else None


async def run_parked(request: RequestSlot, error: BaseException | None) -> None:
    """Run the tasks `request` parked when it failed (`RequestSlot.park`) whose
    policy runs them after an error, through its runner: called by
    `Ravyn.__call__` once the app's call has ended, so the error response is out.

    `error` is what the app's call raised (None when it returned: the error
    was answered). An `Exception` was answered by the error layers (a 500) or
    could not be; anything else (a cancellation, `KeyboardInterrupt`,
    `SystemExit`) ends the request without an error response, and the tasks
    are not run: one WARNING names them.
    """
    sources = request.failed
    if not sources:
        request.failed = None
        return
    if error is not None and not isinstance(error, Exception):
        request.failed = None
        runs, _ = split(sources, "error")
        if runs:
            logger.warning(
                "%d background task(s) for after an error not run: the request ended with %s: %s",
                len(runs),
                escape_text(type(error).__name__),
                first_names(runs),
            )
        return
    # `failed` stays set while they run: the runner reads the request's outcome from it
    overflowed = request.overflowed  # handing tasks over clears it; a 503 for it stays refused
    request.after_error = True
    try:
        await request.runner.run(*sources)
    finally:
        request.failed = None
        request.overflowed = overflowed
