"""cart_total: a result the client needs is computed in the handler, not in a task."""

from __future__ import annotations

from ravyn_tutorial.exercises.base import Exercise, Finding, Lab, expect_response, ran_once_after_response

PRICES = [2.5, 4.0, 1.5]
TOTAL = 8.0


async def check(lab: Lab) -> list[Finding]:
    trial = await lab.request("POST", "/cart/total", json={"prices": PRICES})
    findings = [expect_response(trial, 200, {"total": TOTAL})]
    late = [call for call in trial.calls_of("add_up") if not trial.before_response(call)]
    if late:
        findings.append(
            Finding(
                False,
                "add_up runs after the response, so its result goes nowhere: a background task cannot "
                "answer the client. Call it in the handler and put the total in the body.",
            )
        )
    audited, call = ran_once_after_response(
        trial, "audit_total", purpose="the audit note must still be written, after the response."
    )
    findings.append(audited)
    if call is not None and call.values() != [TOTAL]:
        findings.append(Finding(False, f"audit_total got {call.values()}; it should get the total, {TOTAL}."))
    return findings


EXERCISE = Exercise(
    name="cart_total",
    title="A background task cannot answer the client",
    goal=(
        "POST /cart/total hands the sum to a background task and answers {}. Answer with the total, and "
        "write the audit note with audit_total after the response."
    ),
    template="cart_total.py",
    watch=("add_up", "audit_total"),
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
