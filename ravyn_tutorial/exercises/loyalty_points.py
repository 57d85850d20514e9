"""loyalty_points: a failing task must be logged, and must not stop the next one."""

from __future__ import annotations

from typing import Any

from ravyn_tutorial.exercises import rules, samples
from ravyn_tutorial.exercises.base import LEVELS, Exercise, Finding, Lab, Trial
from ravyn_tutorial.exercises.verdicts import expect_response, ran_as_task

TASK = "add_loyalty_points"


def _points(lab: Lab) -> dict[str, Any] | None:
    points = getattr(lab.module, "POINTS", None)
    return dict(points) if isinstance(points, dict) else None


def _receipt(trial: Trial) -> str:
    return f"receipt for {trial.sent['amount']:.2f} sent to {trial.sent['customer']}"


def _unlogged(lab: Lab, customer: str, trial: Trial) -> str:
    handlers = rules.except_handlers(lab.tree, "add_loyalty_points")
    quiet = [(level, text) for level, text in trial.logs(level=10, task=TASK) if LEVELS[level] < 30]
    start = (
        f"add_loyalty_points failed for {customer}, who has no account, and the task logged nothing "
        "at WARNING or above"
    )
    if any(handler.does == "nothing" for handler in handlers):
        line = next(handler.line for handler in handlers if handler.does == "nothing")
        why = f"{start}: the `except` on line {line} swallows the error without a word."
    elif quiet:
        level, text = quiet[0]
        why = f"{start}: it logged the failure at {level} only ({text!r}), where nobody looks for failures."
    elif any(handler.does == "print" for handler in handlers):
        why = (
            f"{start}: the `except` block prints, and print() goes to the terminal's output, not to the "
            "log where failures are looked for."
        )
    else:
        why = f"{start}."
    in_task = trial.logs(task=TASK)
    elsewhere = [text for level, text in trial.logs() if (level, text) not in in_task]
    if elsewhere:
        why += (
            f" A warning was logged outside the task ({elsewhere[0]!r}), by the handler, before the "
            "task ran: it cannot tell whether adding the points failed. Log the failure where it "
            "happens, in add_loyalty_points."
        )
    return why


async def check(lab: Lab) -> list[Finding]:
    findings = rules.mistakes(lab)
    before = _points(lab)
    if not before:
        findings.append(Finding(False, "POINTS, the customers' accounts, is gone from the file: keep it."))
        return findings
    known = lab.random.sample(sorted(before), k=min(2, len(before)))
    unknown = samples.person(lab.random)
    while unknown in before:
        unknown += "x"
    customers = [known[0], unknown, known[-1]]
    trials: list[Trial] = []
    changes: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for customer in customers:
        amount = float(lab.random.randrange(5, 400)) + lab.random.choice((0.0, 0.5, 0.25))
        ahead = _points(lab) or {}
        trials.append(await lab.request("POST", "/checkout", json={"customer": customer, "amount": amount}))
        changes.append((ahead, _points(lab) or {}))
    findings.append(
        expect_response(trials, 201, lambda trial: {"customer": trial.sent["customer"], "status": "paid"})
    )
    for trial, (ahead, after) in zip(trials, changes, strict=True):
        customer, amount = trial.sent["customer"], trial.sent["amount"]
        if customer == unknown:
            if customer in after:
                findings.append(
                    Finding(
                        False,
                        f"An account was made for {customer}, who had none: a failure should be reported, "
                        "not papered over. Let add_loyalty_points fail for an unknown customer, and log it.",
                    )
                )
            continue
        gained = after.get(customer, 0) - ahead.get(customer, 0)
        if gained == 2 * int(amount) > 0:
            findings.append(
                Finding(
                    False,
                    f"{customer} spent {amount:.2f} and gained {gained} points, twice {int(amount)}: "
                    "add_loyalty_points ran twice for one checkout. Does the handler still call it "
                    "itself, besides the task?",
                )
            )
            break
        if gained != int(amount):
            findings.append(
                Finding(
                    False,
                    f"{customer} spent {amount:.2f} and should have gained {int(amount)} points; their "
                    f"account went from {ahead.get(customer)} to {after.get(customer)}. "
                    "add_loyalty_points must still add the points.",
                )
            )
            break
        if trial.logs() or any(run.failed for run in trial.tasks):
            findings.append(
                Finding(False, f"add_loyalty_points should work quietly for {customer}, who has an account.")
            )
            break
    else:
        findings.append(Finding(True, f"Customers with an account got their points ({', '.join(known)})."))
    bad = trials[1]
    logged = [text for _, text in bad.logs(task=TASK)]
    failed = [run for run in bad.tasks if run.failed and run.name == TASK]
    if logged or failed:
        shown = logged[0] if logged else f"Ravyn logged the failing task {failed[0].name}"
        findings.append(
            Finding(True, f"For {unknown}, who has no account, the failure reached the log: {shown}")
        )
    else:
        findings.append(Finding(False, _unlogged(lab, unknown, bad)))
    receipts, _ = ran_as_task(
        trials,
        "send_receipt",
        lambda trial: [trial.sent["customer"], trial.sent["amount"]],
        effect=_receipt,
        purpose="every customer still gets a receipt, even when adding the points failed. Keep the two "
        "as separate tasks: one task's failure does not stop the next.",
    )
    findings.append(receipts)
    return findings


EXERCISE = Exercise(
    name="loyalty_points",
    title="A failing task must leave a trace",
    goal=(
        "When add_loyalty_points fails, the error vanishes. Make the failure show up in the server's log "
        "(WARNING or above) while the points are still added for known customers, send_receipt still "
        "runs and the client still gets its 201."
    ),
    template="loyalty_points.py",
    needs=("add_loyalty_points", "send_receipt"),
    check=check,
    covers="pitfall_silent_error_wrong, pitfall_logged_error_right",
    hints=(
        "Read add_loyalty_points' `except` block. Where does a KeyError for an unknown customer go?",
        "A task runs after the response: the client can never hear about its failure, so the log is "
        "the only place where anyone can. The module already has a `logger`.",
        'Either replace `pass` with `logger.exception("could not add points for %s", customer)`, or '
        "delete the try/except altogether: Ravyn logs a task that raises, with its traceback, and goes "
        "on with the next task.",
    ),
)
