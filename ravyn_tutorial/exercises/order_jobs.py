"""order_jobs: several tasks with add_task, run in order after the response."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from ravyn_tutorial.exercises import rules, samples
from ravyn_tutorial.exercises.base import Exercise, Finding, Lab, Trial
from ravyn_tutorial.exercises.verdicts import FROZEN, expect_response, loop_blocked, ran_as_task


def _order_id(trial: Trial) -> Any:
    body = trial.body()
    return body.get("order_id") if isinstance(body, dict) else None


JOBS: dict[str, tuple[Callable[[Trial], list[Any]], Callable[[Trial], str], str]] = {
    "send_receipt": (
        lambda t: [t.sent["email"], _order_id(t)],
        lambda t: f"receipt for order {_order_id(t)} sent to {t.sent['email']}",
        "jobs.add_task(send_receipt, email, order_id)",
    ),
    "reserve_stock": (
        lambda t: [t.sent["sku"], t.sent["quantity"]],
        lambda t: f"reserved {t.sent['quantity']} x {t.sent['sku']}",
        "jobs.add_task(reserve_stock, sku, quantity)",
    ),
    "notify_warehouse": (
        lambda t: [_order_id(t)],
        lambda t: f"warehouse told about order {_order_id(t)}",
        "jobs.add_task(notify_warehouse, order_id)",
    ),
}


def _overlapping(trials: list[Trial]) -> Finding | None:
    """A failure when two of the jobs ran at the same time (a concurrent group)."""
    for trial in trials:
        runs = sorted((run for run in trial.tasks if run.name in JOBS), key=lambda run: run.started)
        for first, second in itertools.pairwise(runs):
            if first.ended is not None and second.started < first.ended:
                return Finding(
                    False,
                    f"For {trial.request}, {second.name} started while {first.name} was still running: the "
                    "jobs ran at the same time (a group, as_group=True), so nothing holds their order. "
                    "This shop needs them one after the other.",
                )
    return None


async def check(lab: Lab) -> list[Finding]:
    findings = rules.mistakes(lab)
    trials = []
    for _ in range(samples.REQUESTS):
        order: dict[str, Any] = {"email": samples.email(lab.random), "sku": samples.sku(lab.random)}
        order["quantity"] = lab.random.randrange(1, 20)
        trials.append(await lab.request("POST", "/orders", json=order))
    findings.append(expect_response(trials, 201, lambda trial: {"status": "placed"}))
    numbers = [_order_id(trial) for trial in trials]
    if not all(isinstance(number, int) for number in numbers) or len(set(numbers)) != len(numbers):
        findings.append(
            Finding(False, f"Each order should get its own number in `order_id`; the answers had {numbers}.")
        )
        return findings
    if not any(trial.tasks or trial.outputs() for trial in trials):
        findings.append(
            Finding(
                False,
                "None of the three jobs ran. A BackgroundTasks you build yourself does nothing until it "
                "reaches Ravyn.",
            )
        )
        return findings
    for name, (arguments, effect, how) in JOBS.items():
        finding, _ = ran_as_task(trials, name, arguments, effect=effect, purpose=f"add it with `{how}`.")
        findings.append(finding)
    wanted = list(JOBS)
    together = _overlapping(trials)
    if together is not None:
        findings.append(together)
        return findings
    for trial in trials:
        # the order the work happened in, read from when each job's line was printed
        # (so a wrapper task that calls them in the wrong order is caught too)
        when = {name: trial.effects(effect(trial), name) for name, (_, effect, _) in JOBS.items()}
        ran = [name for _, name in sorted((seen[0].at, name) for name, seen in when.items() if seen)]
        if sorted(ran) == sorted(wanted) and ran != wanted:
            findings.append(
                Finding(
                    False,
                    f"They ran in the order {', '.join(ran)}; tasks run in the order they are added, and "
                    f"this shop needs {', '.join(wanted)}.",
                )
            )
            break
    else:
        if all(finding.ok for finding in findings):
            findings.append(Finding(True, f"They ran in the right order: {', '.join(wanted)}."))
    blocked = loop_blocked(trials, FROZEN)
    if blocked is not None:
        findings.append(blocked)
    return findings


EXERCISE = Exercise(
    name="order_jobs",
    title="Three jobs after one order",
    goal=(
        "POST /orders answers 201 but none of its three follow-up jobs ever runs. Make send_receipt, "
        "reserve_stock and notify_warehouse run after the response, once each, in that order, with the "
        "values of the order."
    ),
    template="order_jobs.py",
    needs=tuple(JOBS),
    check=check,
    covers="add_task_conditional, registration_flow, response_many_tasks",
    hints=(
        "The handler builds a BackgroundTasks and adds a job to it... and then? Look at what the "
        "JSONResponse is given: Ravyn only runs tasks it is handed.",
        "Pass the collection to the response: `JSONResponse(..., status_code=201, background=jobs)`. "
        "Or drop the line `jobs = BackgroundTasks()` and take `jobs: BackgroundTasks` as a parameter.",
        "Add the two missing jobs with `jobs.add_task(function, arg, ...)`, after send_receipt: "
        "tasks run one after the other, in the order they were added.",
    ),
)
