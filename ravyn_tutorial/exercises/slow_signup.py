"""slow_signup: move slow work out of the handler into a background task."""

from __future__ import annotations

from ravyn_tutorial.exercises.base import (
    Exercise,
    Finding,
    Lab,
    expect_arguments,
    expect_response,
    ran_once_after_response,
)

EMAIL = "ada@example.com"


async def check(lab: Lab) -> list[Finding]:
    trial = await lab.request("POST", "/signup", json={"email": EMAIL})
    findings = [expect_response(trial, 201, {"email": EMAIL})]
    sent, call = ran_once_after_response(
        trial, "send_welcome_email", purpose="the welcome email must still be sent, after the response."
    )
    findings.append(sent)
    wrong = expect_arguments(call, "send_welcome_email", [EMAIL])
    if wrong:
        findings.append(wrong)
    if sent.ok:
        quick = trial.response_time < 0.25
        took = f"{trial.response_time * 1000:.1f} ms"
        findings.append(
            Finding(quick, f"The client had its answer after {took}.")
            if quick
            else Finding(False, f"The client still waited {took} for its answer: something else is slow.")
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
    watch=("send_welcome_email",),
    check=check,
    covers="quick_start, response_single_task",
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
