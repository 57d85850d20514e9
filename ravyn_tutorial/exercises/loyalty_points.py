"""loyalty_points: a failing task must be logged, and must not stop the next one."""

from __future__ import annotations

from ravyn_tutorial.exercises.base import Exercise, Finding, Lab, expect_response

KNOWN = {"customer": "ada", "amount": 30.0}
UNKNOWN = {"customer": "zoe", "amount": 30.0}


async def check(lab: Lab) -> list[Finding]:
    good = await lab.request("POST", "/checkout", json=KNOWN)
    bad = await lab.request("POST", "/checkout", json=UNKNOWN)
    findings = [
        expect_response(good, 201, {"customer": "ada"}),
        expect_response(bad, 201, {"customer": "zoe"}),
    ]
    if good.failed_tasks() or good.error_logs():
        findings.append(Finding(False, "add_loyalty_points should work for ada, who has an account."))
    logged = bad.error_logs()
    if logged:
        findings.append(
            Finding(True, f"For zoe, who has no account, the failure reached the log: {logged[0]}")
        )
    else:
        findings.append(
            Finding(
                False,
                "add_loyalty_points failed for zoe (there is no account for her) and nothing reached the "
                "log: `except Exception: pass` swallows the error. Log it (logger.exception(...) keeps "
                "the traceback), or remove the try/except: Ravyn logs a failing task with its name and "
                "traceback.",
            )
        )
    receipts = bad.calls_of("send_receipt")
    if receipts and not any(call.error for call in receipts):
        findings.append(Finding(True, "send_receipt still ran after the failure."))
    else:
        findings.append(
            Finding(
                False,
                "send_receipt did not run for zoe: one task's failure should not stop the next. "
                "Keep the two as separate tasks.",
            )
        )
    return findings


EXERCISE = Exercise(
    name="loyalty_points",
    title="A failing task must leave a trace",
    goal=(
        "When add_loyalty_points fails, the error vanishes. Make the failure show up in the server's log "
        "(WARNING or above) while send_receipt still runs and the client still gets its 201."
    ),
    template="loyalty_points.py",
    watch=("add_loyalty_points", "send_receipt"),
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
