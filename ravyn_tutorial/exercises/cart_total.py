"""cart_total: a result the client needs is computed in the handler, not in a task."""

from __future__ import annotations

from ravyn_tutorial.exercises import rules, samples
from ravyn_tutorial.exercises.base import Exercise, Finding, Lab, Trial
from ravyn_tutorial.exercises.verdicts import FROZEN, expect_response, loop_blocked, ran_as_task


def _total(trial: Trial) -> float:
    return round(float(sum(trial.sent["prices"])), 2)


async def check(lab: Lab) -> list[Finding]:
    findings = rules.mistakes(lab)
    trials = []
    for _ in range(samples.REQUESTS):
        prices = [lab.random.randrange(50, 5000) / 100 for _ in range(lab.random.randrange(2, 6))]
        trials.append(await lab.request("POST", "/cart/total", json={"prices": prices}))
    findings.append(expect_response(trials, 200, lambda trial: {"total": _total(trial)}))
    if any(trial.tasks_named("add_up") for trial in trials):
        findings.append(
            Finding(
                False,
                "add_up still runs as a background task, after the response, so its result goes nowhere: "
                "a background task cannot answer the client.",
            )
        )
    audited, _ = ran_as_task(
        trials,
        "audit_total",
        lambda trial: [_total(trial)],
        effect=lambda trial: f"audit: a cart came to {_total(trial):.2f}",
        purpose="the audit note must still be written, after the response, with the total.",
    )
    findings.append(audited)
    blocked = loop_blocked(trials, FROZEN)
    if blocked is not None:
        findings.append(blocked)
    return findings


EXERCISE = Exercise(
    name="cart_total",
    title="A background task cannot answer the client",
    goal=(
        "POST /cart/total hands the sum to a background task and answers {}. Answer with the total, and "
        "write the audit note with audit_total after the response."
    ),
    template="cart_total.py",
    needs=("add_up", "audit_total"),
    check=check,
    covers="pitfall_return_value_wrong, pitfall_return_value_right",
    hints=(
        "By the time a background task runs, the response has been sent. Can its return value still "
        "reach the body?",
        "Work the client needs belongs in the handler: `total = add_up(prices)`, then answer "
        '`{"total": total}`.',
        "Side effects can still wait: `background=BackgroundTask(audit_total, total)` on the response.",
    ),
)
