"""visit_log: pass plain values to a task, not the Request."""

from __future__ import annotations

from lilya.requests import Request

from ravyn_tutorial.exercises.base import Exercise, Finding, Lab, expect_response, ran_once_after_response

PAGE = "/pricing"
AGENT = "Lynx/2.9"


async def check(lab: Lab) -> list[Finding]:
    trial = await lab.request("POST", "/visits", json={"page": PAGE}, headers={"user-agent": AGENT})
    findings = [expect_response(trial, 202, {"status": "noted"})]
    ran, call = ran_once_after_response(
        trial, "record_visit", purpose="the visit must still be recorded, after the response."
    )
    findings.append(ran)
    if call is None:
        return findings
    if any(isinstance(value, Request) for value in call.values()):
        failure = f" (here: {type(call.error).__name__})" if call.error else ""
        findings.append(
            Finding(
                False,
                "record_visit is handed the whole Request. It runs after the response, when the client "
                f"has gone, and reading the request then fails{failure}. Read what you need in the "
                "handler, the page and the user-agent header, and pass those values instead.",
            )
        )
        return findings
    if call.error is not None:
        findings.append(Finding(False, f"record_visit failed: {type(call.error).__name__}: {call.error}"))
    values = [str(value) for value in call.values()]
    for wanted, what in ((PAGE, "page"), (AGENT, "user agent")):
        if any(wanted in value for value in values):
            findings.append(Finding(True, f"record_visit got the {what}, {wanted!r}, as a plain value."))
        else:
            findings.append(Finding(False, f"record_visit never got the {what} ({wanted!r} in this check)."))
    return findings


EXERCISE = Exercise(
    name="visit_log",
    title="Take what you need from the request first",
    goal=(
        "record_visit reads the Request after the response, when the client is gone, and fails. Give it "
        "the page and the user agent as plain values, read in the handler."
    ),
    template="visit_log.py",
    watch=("record_visit",),
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
