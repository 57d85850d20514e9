"""Verdicts the checks share, each over every request the check sent.

A verdict looks at one request at a time and reports the first request
where something is wrong, in terms of that request's own values; when
everything is right it says so once, for all of them. When a wrong value is
the same for every request while the requests differed, it says the value
looks written into the code.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Sequence
from typing import Any

from ravyn_tutorial.exercises.base import Finding, TaskRun, Trial

__all__ = ["expect_response", "ran_as_task", "shown", "took"]


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
    effect: Callable[[Trial], str] | None = None,
    purpose: str,
    any_order: bool = False,
) -> tuple[Finding, list[TaskRun]]:
    """Ravyn ran `name` once per request as a background task, after the
    response, without failing, with `expected(trial)` as its arguments.

    `effect(trial)` is text the function prints: when Ravyn did not run the
    task, when that text was printed says where the function ran instead.
    With `any_order`, the arguments may come in any order.
    Returns the finding and the runs it judged.
    """
    runs: list[TaskRun] = []
    mismatches: list[tuple[Trial, list[Any], list[Any]]] = []
    for trial in trials:
        found = trial.tasks_named(name)
        if not found:
            return Finding(False, _not_a_task(trial, name, effect, purpose)), runs
        if len(found) > 1:
            return Finding(
                False, f"Ravyn ran {name} {len(found)} times for {trial.request}; once is enough."
            ), runs
        run = found[0]
        runs.append(run)
        if run.started < trial.response_done:
            return Finding(False, f"{name} started before the response was complete."), runs
        wanted, got = expected(trial), run.values()
        if any_order:
            wanted, got = sorted(wanted, key=shown), sorted(got, key=shown)
        if len(got) != len(wanted) or not all(_matches(g, w) for g, w in zip(got, wanted, strict=True)):
            # wrong arguments come first: they are often why the task failed
            mismatches.append((trial, run.values(), expected(trial)))
        elif run.error is not None:
            error = f"{type(run.error).__name__}: {run.error}"
            return Finding(False, f"{name} failed when Ravyn ran it for {trial.request}: {error}"), runs
    if mismatches:
        trial, got, wanted = mismatches[0]
        text = f"For {trial.request}, {name} got {_arguments(got)}; it should get {_arguments(wanted)}."
        if len(mismatches) == len(trials) > 1 and all(m[1] == got for m in mismatches):
            text += " It got the same values for every request: are they written into the code?"
        return Finding(False, text), runs
    delays = [run.started - trial.response_done for run, trial in zip(runs, trials, strict=True)]
    return (
        Finding(
            True,
            f"Ravyn ran {name} as a background task for each of the {len(trials)} requests, with that "
            f"request's values, {took(min(delays))} to {took(max(delays))} after the response.",
        ),
        runs,
    )


def _arguments(values: list[Any]) -> str:
    return ", ".join(shown(v) for v in values) or "nothing"


def _not_a_task(trial: Trial, name: str, effect: Callable[[Trial], str] | None, purpose: str) -> str:
    printed = trial.printed(effect(trial)) if effect else []
    answered = trial.response_time
    if printed and printed[0] <= answered:
        return (
            f"{name} ran in the handler, before the response, and the client waited {took(answered)} "
            f"for its answer to {trial.request}. Hand it to Ravyn as a background task instead: {purpose}"
        )
    if printed:
        return (
            f"{name} ran after the response, but not as a background task of Ravyn's: Ravyn never "
            "started it, so it cannot wait for it, log its failure or let it finish at shutdown. "
            f"Hand it to Ravyn with add_task or BackgroundTask: {purpose}"
        )
    failed = [run for run in trial.tasks if run.failed]
    if failed:
        error = failed[0].error
        return (
            f"Ravyn never ran {name} for {trial.request}; a task called {failed[0].name} failed instead "
            f"({type(error).__name__}: {error})."
        )
    return f"Ravyn never ran {name} as a background task for {trial.request}: {purpose}"
