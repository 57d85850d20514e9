"""thumbnails: a sync (blocking) task must not block the event loop."""

from __future__ import annotations

from ravyn_tutorial.exercises.base import (
    Exercise,
    Finding,
    Lab,
    expect_arguments,
    expect_response,
    ran_once_after_response,
)

FILENAME = "cat.png"
WORK = 0.5
FROZEN = 0.25


async def check(lab: Lab) -> list[Finding]:
    trial = await lab.request("POST", "/photos", json={"filename": FILENAME}, heartbeat=True)
    findings = [expect_response(trial, 202, {"filename": FILENAME})]
    ran, call = ran_once_after_response(
        trial, "make_thumbnail", purpose="the thumbnail must still be made, after the response."
    )
    findings.append(ran)
    wrong = expect_arguments(call, "make_thumbnail", [FILENAME])
    if wrong:
        findings.append(wrong)
    if call is None:
        return findings
    if call.duration < WORK * 0.8:
        findings.append(
            Finding(
                False,
                f"make_thumbnail was done in {call.duration * 1000:.0f} ms: keep the time.sleep({WORK}), "
                "it stands for the image library, which you cannot change.",
            )
        )
    elif trial.stall > FROZEN:
        findings.append(
            Finding(
                False,
                f"While make_thumbnail ran, the server was frozen for {trial.stall:.2f} s: no other "
                "request could be answered. time.sleep() blocks its thread, and an `async def` task runs "
                "on the event loop's own thread. Make make_thumbnail a plain `def`: Ravyn runs sync "
                "tasks on a worker thread.",
            )
        )
    else:
        findings.append(
            Finding(
                True,
                f"The server kept answering while make_thumbnail worked (longest pause: "
                f"{trial.stall * 1000:.0f} ms).",
            )
        )
    return findings


EXERCISE = Exercise(
    name="thumbnails",
    title="A slow job must not freeze the server",
    goal=(
        "make_thumbnail runs after the response, but its blocking half second freezes the whole server. "
        "Keep it a background task that takes its time, and keep the server answering meanwhile."
    ),
    template="thumbnails.py",
    watch=("make_thumbnail",),
    check=check,
    covers="sync_and_async_tasks",
    hints=(
        "An `async def` function runs on the event loop, the one thread that answers every request. "
        "What does time.sleep() do to that thread?",
        "Ravyn runs a sync task (a plain `def`) on a worker thread, away from the event loop, and awaits "
        "an `async def` task on the loop itself.",
        "Write `def make_thumbnail(...)` instead of `async def make_thumbnail(...)`. (If the library "
        "had an async API you would `await` it instead; this one does not.)",
    ),
)
