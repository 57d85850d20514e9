"""order_jobs: several tasks with add_task, run in order after the response."""

from __future__ import annotations

from typing import Any

from ravyn_tutorial.exercises.base import (
    Exercise,
    Finding,
    Lab,
    expect_arguments,
    expect_response,
    ran_once_after_response,
)

ORDER = {"email": "grace@example.com", "sku": "MUG-01", "quantity": 2}
ORDER_ID = 1001
EXPECTED: dict[str, tuple[list[Any], str]] = {
    "send_receipt": ([ORDER["email"], ORDER_ID], "tasks.add_task(send_receipt, email, ORDER_ID)"),
    "reserve_stock": ([ORDER["sku"], ORDER["quantity"]], "tasks.add_task(reserve_stock, sku, quantity)"),
    "notify_warehouse": ([ORDER_ID], "tasks.add_task(notify_warehouse, ORDER_ID)"),
}


async def check(lab: Lab) -> list[Finding]:
    trial = await lab.request("POST", "/orders", json=ORDER)
    findings = [expect_response(trial, 201, {"order_id": ORDER_ID})]
    if not trial.calls:
        findings.append(
            Finding(
                False,
                "None of the three jobs ran. A BackgroundTasks you build yourself does nothing until it "
                "reaches Ravyn: give it to the response (`background=...`), or take it as a handler "
                "parameter annotated BackgroundTasks, which Ravyn runs for you.",
            )
        )
        return findings
    for name, (arguments, how) in EXPECTED.items():
        finding, call = ran_once_after_response(trial, name, purpose=f"add it with `{how}`.")
        findings.append(finding)
        wrong = expect_arguments(call, name, arguments)
        if wrong:
            findings.append(wrong)
    order = list(dict.fromkeys(call.name for call in trial.calls))
    if set(order) == set(EXPECTED):
        wanted = list(EXPECTED)
        if order == wanted:
            findings.append(Finding(True, f"They ran in the right order: {', '.join(order)}."))
        else:
            findings.append(
                Finding(
                    False,
                    f"They ran in the order {', '.join(order)}; tasks run in the order they are added, and "
                    f"this shop needs {', '.join(wanted)}.",
                )
            )
    return findings


EXERCISE = Exercise(
    name="order_jobs",
    title="Three jobs after one order",
    goal=(
        "POST /orders answers 201 but none of its three follow-up jobs ever runs. Make send_receipt, "
        "reserve_stock and notify_warehouse run after the response, once each, in that order."
    ),
    template="order_jobs.py",
    watch=tuple(EXPECTED),
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
