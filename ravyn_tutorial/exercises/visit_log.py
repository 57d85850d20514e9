"""visit_log: pass plain values to a task, not the Request."""

from __future__ import annotations

from lilya.requests import Request

from ravyn_tutorial.exercises import rules, samples
from ravyn_tutorial.exercises.base import Exercise, Finding, Lab, Trial
from ravyn_tutorial.exercises.verdicts import FROZEN, expect_response, loop_blocked, ran_as_task

PAGES = ("/pricing", "/docs", "/blog", "/about", "/careers")


def _values(trial: Trial) -> list[str]:
    return [str(trial.sent["page"]), trial.headers["user-agent"]]


def _effect(trial: Trial) -> str:
    page, agent = _values(trial)
    return f"visit to {page} with {agent}"


async def check(lab: Lab) -> list[Finding]:
    findings = rules.mistakes(lab)
    trials = []
    for _ in range(samples.REQUESTS):
        page = f"{lab.random.choice(PAGES)}/{lab.random.randrange(1, 100)}"
        agent = samples.user_agent(lab.random)
        trials.append(
            await lab.request("POST", "/visits", json={"page": page}, headers={"user-agent": agent})
        )
    findings.append(expect_response(trials, 202, lambda trial: {"status": "noted"}))
    handed = [
        run
        for trial in trials
        for run in trial.tasks_named("record_visit")
        if any(isinstance(value, Request) for value in run.values())
    ]
    if handed:
        failure = f" (here: {type(handed[0].error).__name__})" if handed[0].error else ""
        findings.append(
            Finding(
                False,
                "record_visit is handed the whole Request. It runs after the response, when the client "
                f"has gone, and reading the request then fails{failure}.",
            )
        )
        return findings
    ran, _ = ran_as_task(
        trials,
        "record_visit",
        _values,
        effect=_effect,
        purpose="the visit must still be recorded, after the response, from the page and the user agent.",
        any_order=True,
    )
    findings.append(ran)
    blocked = loop_blocked(trials, FROZEN)
    if blocked is not None:
        findings.append(blocked)
    return findings


EXERCISE = Exercise(
    name="visit_log",
    title="Take what you need from the request first",
    goal=(
        "record_visit reads the Request after the response, when the client is gone, and fails. Give it "
        "the page and the user agent as plain values, read in the handler."
    ),
    template="visit_log.py",
    needs=("record_visit",),
    check=check,
    covers="pitfall_request_in_task_wrong, pitfall_request_values_right",
    hints=(
        "When does record_visit run, and is the client still connected then?",
        "The handler runs while the request is alive. A handler parameter `page: str` is filled from "
        'the JSON body, and `request.headers.get("user-agent")` works there too.',
        "Change record_visit to take `(page: str, agent: str)` and add it with "
        '`tasks.add_task(record_visit, page, request.headers.get("user-agent", "unknown"))`.',
    ),
)
