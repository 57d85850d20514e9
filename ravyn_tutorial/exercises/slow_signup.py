"""slow_signup: move slow work out of the handler into a background task."""

from __future__ import annotations

from ravyn_tutorial.exercises import rules, samples
from ravyn_tutorial.exercises.base import Exercise, Finding, Lab, Trial
from ravyn_tutorial.exercises.verdicts import FROZEN, expect_response, loop_blocked, ran_as_task, took

QUICK = 0.25


def _email(trial: Trial) -> str:
    return str(trial.sent["email"])


def _effect(trial: Trial) -> str:
    return f"welcome email sent to {_email(trial)}"


async def check(lab: Lab) -> list[Finding]:
    findings = rules.mistakes(lab)
    if not rules.keeps_stand_in(lab.tree, "send_welcome_email", 0.5):
        findings.append(
            Finding(
                False,
                "send_welcome_email no longer calls time.sleep(0.5): it stands for the slow mail server, "
                "which you cannot make faster. Put it back, and move the whole call out of the client's way.",
            )
        )
    trials = [
        await lab.request("POST", "/signup", json={"email": samples.email(lab.random)})
        for _ in range(samples.REQUESTS)
    ]
    findings.append(expect_response(trials, 201, lambda trial: {"email": _email(trial)}))
    sent, _ = ran_as_task(
        trials,
        "send_welcome_email",
        lambda trial: [_email(trial)],
        effect=_effect,
        purpose="the welcome email must still be sent, once, after the response.",
    )
    findings.append(sent)
    if not sent.ok:
        return findings
    blocked = loop_blocked(trials, FROZEN)
    if blocked is not None:
        findings.append(blocked)
    slowest = max(trials, key=lambda trial: trial.response_time)
    if slowest.response_time < QUICK:
        findings.append(Finding(True, f"The client had its answer within {took(slowest.response_time)}."))
    else:
        findings.append(
            Finding(
                False,
                f"The client still waited {took(slowest.response_time)} for its answer to {slowest.request}: "
                "something else in the handler is slow.",
            )
        )
    return findings


EXERCISE = Exercise(
    name="slow_signup",
    title="Answer first, send the email after",
    goal=(
        "POST /signup makes the client wait half a second for a welcome email. Make the client get its "
        "201 straight away while the email is still sent, once, after the response."
    ),
    template="slow_signup.py",
    needs=("send_welcome_email",),
    check=check,
    covers="quick_start, response_single_task",
    rules=("send_welcome_email keeps its time.sleep(0.5): the mail server stays slow.",),
    hints=(
        "The client needs its 201, not the email. Which part of signup() could happen after the "
        "response has been sent?",
        "Give the handler one more parameter annotated `BackgroundTasks` (import it from ravyn): Ravyn "
        "passes in an empty collection and runs whatever you add to it after the response.",
        "Replace the direct call with `tasks.add_task(send_welcome_email, email)`: hand over the function "
        "and its argument, don't call it yourself. The guide's quick start does the same with "
        "`background=BackgroundTask(...)` on a response.",
    ),
)
