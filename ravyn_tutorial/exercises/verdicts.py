"""Verdicts the checks share, each over every request the check sent.

A verdict looks at one request at a time and reports the first request
where something is wrong, in terms of that request's own values; when
everything is right it says so once, for all of them. When a wrong value is
the same for every request while the requests differed, it says the value
looks written into the code.
"""

from __future__ import annotations

import collections
import json as jsonlib
from collections.abc import Callable, Sequence
from typing import Any

from ravyn_tutorial.exercises.base import Effect, Finding, TaskRun, Trial

__all__ = ["FROZEN", "blocked_message", "expect_response", "loop_blocked", "ran_as_task", "shown", "took"]


FROZEN = 0.25
"""Seconds: an event loop stalled longer than this was blocked by something."""


def shown(value: Any) -> str:
    """A value as the learner would write it: JSON for dicts and lists."""
    return jsonlib.dumps(value) if isinstance(value, dict | list) else repr(value)


def took(seconds: float) -> str:
    """`12.3 ms` or `1.20 s`."""
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _matches(received: Any, expected: Any) -> bool:
    if isinstance(expected, float) and isinstance(received, int | float):
        return abs(received - expected) < 1e-6
    return bool(received == expected)


def expect_response(trials: Sequence[Trial], status: int, body: Callable[[Trial], dict[str, Any]]) -> Finding:
    """Every response has `status` and a JSON body holding `body(trial)`."""
    wrong: list[tuple[Trial, dict[str, Any], Any]] = []
    for trial in trials:
        wanted, received = body(trial), trial.body()
        fits = isinstance(received, dict) and all(_matches(received.get(k), v) for k, v in wanted.items())
        if trial.timeline.status != status or not fits:
            wrong.append((trial, wanted, received))
    if not wrong:
        example = body(trials[0])
        return Finding(True, f"It answers {status} with the right body, e.g. {shown(example)}.")
    trial, wanted, received = wrong[0]
    text = (
        f"For {trial.request} it should answer {status} with {shown(wanted)} in the body; "
        f"it answered {trial.timeline.status} with {shown(received)}."
    )
    first = wrong[0][2]
    answered = isinstance(first, dict) and set(wrong[0][1]) <= set(first)
    if answered and len(wrong) == len(trials) > 1 and all(shown(r) == shown(first) for _, _, r in wrong):
        text += " It gives the same answer whatever it is sent: is the answer written into the code?"
    return Finding(False, text)


def ran_as_task(
    trials: Sequence[Trial],
    name: str,
    expected: Callable[[Trial], list[Any]],
    *,
    effect: Callable[[Trial], str],
    purpose: str,
    any_order: bool = False,
) -> tuple[Finding, list[TaskRun]]:
    """The effect of `name`, the line `effect(trial)` it prints, happened
    exactly once per request, inside a background task Ravyn ran after the
    response, and that task did not fail.

    When the task is `name` itself (or a `functools.partial` of it), its
    arguments must be `expected(trial)` (in any order with `any_order`).
    Another task that calls `name` (a lambda, a small wrapper) is right too:
    the finding then says "This works, but..." and why the plain form is
    better. Returns the finding and the runs it judged.
    """
    runs: list[TaskRun] = []
    mismatches: list[tuple[Trial, list[Any], list[Any]]] = []
    other_forms: list[TaskRun] = []
    for trial in trials:
        text = effect(trial)
        seen = trial.effects(text, name)
        if len(seen) > 1:
            return Finding(False, _more_than_once(trial, name, text, seen)), runs
        named = trial.tasks_named(name)
        if not seen and len(named) > 1:
            return Finding(
                False, f"Ravyn ran {name} {len(named)} times for {trial.request}; once is enough."
            ), runs
        if seen and seen[0].run is None:
            return Finding(False, _outside_tasks(trial, name, seen[0], purpose)), runs
        run = seen[0].run if seen else (named[0] if named else None)
        if run is None:
            return Finding(False, _not_a_task(trial, name, text, purpose)), runs
        runs.append(run)
        if run.started < trial.response_done:
            return Finding(False, f"{name} started before the response was complete."), runs
        if run.function.rsplit(".", 1)[-1] != name:
            if run.error is not None:
                return Finding(False, _failed(run, trial)), runs
            other_forms.append(run)
            continue
        wanted, got = expected(trial), run.values()
        if any_order:
            wanted, got = sorted(wanted, key=shown), sorted(got, key=shown)
        if len(got) != len(wanted) or not all(_matches(g, w) for g, w in zip(got, wanted, strict=True)):
            # wrong arguments come first: they are often why the task failed
            mismatches.append((trial, run.values(), expected(trial)))
        elif run.error is not None:
            return Finding(False, _failed(run, trial)), runs
        elif not seen:
            return Finding(
                False,
                f"Ravyn ran {name} for {trial.request} with the right values, but it never printed "
                f"{text!r}: the work itself is gone. Keep the function's body as it was.",
            ), runs
    if mismatches:
        trial, got, wanted = mismatches[0]
        text = f"For {trial.request}, {name} got {_arguments(got)}; it should get {_arguments(wanted)}."
        if len(mismatches) == len(trials) > 1 and all(m[1] == got for m in mismatches):
            text += " It got the same values for every request: are they written into the code?"
        return Finding(False, text), runs
    delays = [run.started - trial.response_done for run, trial in zip(runs, trials, strict=True)]
    done = (
        f"Ravyn ran {name} as a background task for each of the {len(trials)} requests, with that "
        f"request's values, {took(min(delays))} to {took(max(delays))} after the response."
    )
    if other_forms:
        done = f"{_works_but(other_forms[0], name)} ({done})"
    return Finding(True, done), runs


def _failed(run: TaskRun, trial: Trial) -> str:
    error = f"{type(run.error).__name__}: {run.error}"
    return f"{run.name} failed when Ravyn ran it for {trial.request}: {error}"


def _works_but(run: TaskRun, name: str) -> str:
    if run.is_lambda:
        return (
            f"This works, but Ravyn only knows the task as a lambda: its logs and events say "
            f"`{run.name}`, not {name}, so a failure is harder to trace. `add_task({name}, ...)` "
            "hands over the function itself, with its arguments."
        )
    return (
        f"This works, but through a task of your own, {run.name}, that calls {name}: handing {name} "
        f"to Ravyn directly (`add_task({name}, ...)`) is one function less, and Ravyn's logs then "
        f"name {name} itself."
    )


def _more_than_once(trial: Trial, name: str, text: str, seen: Sequence[Effect]) -> str:
    places = collections.Counter(effect.where() for effect in seen)
    where = "; ".join(place if count == 1 else f"{place} ({count} times)" for place, count in places.items())
    message = (
        f"For {trial.request}, {name}'s work happened {len(seen)} times: {text!r} was printed {where}. "
        "It must happen once, in the background task."
    )
    if any(effect.before_response and effect.run is None for effect in seen):
        message += (
            f" The handler still calls {name} itself, and the client waited {took(trial.response_time)} "
            f"for it: remove that direct call now that the task does the work."
        )
    elif any(count > 1 for place, count in places.items() if place.startswith("in the background task")):
        message += " The same task was handed to Ravyn more than once: add it once."
    return message


def _outside_tasks(trial: Trial, name: str, seen: Effect, purpose: str) -> str:
    if seen.before_response:
        return (
            f"{name} ran in the handler, before the response, and the client waited "
            f"{took(trial.response_time)} for its answer to {trial.request}. Hand it to Ravyn as a "
            f"background task instead: {purpose}"
        )
    return (
        f"{name} ran after the response, but not as a background task of Ravyn's: no task Ravyn "
        "started was running when it did its work, so Ravyn cannot wait for it, log its failure or "
        f"let it finish at shutdown. Hand it to Ravyn with add_task or BackgroundTask: {purpose}"
    )


def _not_a_task(trial: Trial, name: str, text: str, purpose: str) -> str:
    failed = [run for run in trial.tasks if run.failed]
    if failed:
        error = failed[0].error
        return (
            f"Ravyn never ran {name} for {trial.request}; a task called {failed[0].name} failed instead "
            f"({type(error).__name__}: {error})."
        )
    if trial.tasks:
        ran = ", ".join(run.name for run in trial.tasks)
        return (
            f"For {trial.request}, Ravyn ran {ran}, but {text!r} was never printed: {name}'s work did "
            f"not happen with this request's values. {purpose}"
        )
    return f"Ravyn never ran {name} as a background task for {trial.request}: {purpose}"


def loop_blocked(trials: Sequence[Trial], frozen: float) -> Finding | None:
    """A failure when an `async def` task blocked the event loop for more than
    `frozen` seconds (a `time.sleep` on the loop's own thread), else `None`."""
    for trial in sorted(trials, key=lambda trial: trial.stall, reverse=True):
        if trial.stall <= frozen:
            return None
        culprits = [run for run in trial.stalled_runs() if run.is_async]
        if culprits:
            return Finding(False, blocked_message(culprits[0].name, trial.stall))
    return None


def blocked_message(name: str, stall: float) -> str:
    """Why an `async def` task that blocks freezes the server, and what to do."""
    return (
        f"While {name} ran, the server was frozen for {took(stall)}: no other request could be "
        f"answered. {name} is an `async def` task, and Ravyn awaits those on the event loop's own "
        "thread, the one that answers every request; a blocking call in it, such as time.sleep(), "
        "holds that thread. Make it a plain `def` (Ravyn runs those on a worker thread), or await "
        "something that does not block. (The lesson: ravyn-tutorial run sync_and_async_tasks.)"
    )


def _arguments(values: list[Any]) -> str:
    return ", ".join(shown(v) for v in values) or "nothing"
