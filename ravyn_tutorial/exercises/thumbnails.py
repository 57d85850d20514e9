"""thumbnails: a sync (blocking) task must not block the event loop."""

from __future__ import annotations

from ravyn_tutorial.exercises import rules, samples
from ravyn_tutorial.exercises.base import Exercise, Finding, Lab, Trial
from ravyn_tutorial.exercises.verdicts import FROZEN, blocked_message, expect_response, ran_as_task, took

WORK = 0.5


def _filename(trial: Trial) -> str:
    return str(trial.sent["filename"])


def _effect(trial: Trial) -> str:
    return f"thumbnail ready for {_filename(trial)}"


def _stand_in(lab: Lab) -> Finding | None:
    if rules.keeps_stand_in(lab.tree, "make_thumbnail", WORK):
        return None
    if rules.sleeps_async(lab.tree, "make_thumbnail"):
        return Finding(
            False,
            f"make_thumbnail awaits an async sleep instead of calling time.sleep({WORK}). The sleep stands "
            "for the image library, which blocks and cannot be awaited: swapping it hides the problem "
            f"instead of solving it. Put time.sleep({WORK}) back and make the blocking call harmless.",
        )
    return Finding(
        False,
        f"make_thumbnail no longer calls time.sleep({WORK}): it stands for the image library, which you "
        "cannot change. Put it back and make the blocking call harmless instead.",
    )


async def check(lab: Lab) -> list[Finding]:
    findings = rules.mistakes(lab)
    stand_in = _stand_in(lab)
    if stand_in is not None:
        findings.append(stand_in)
    trials = [
        await lab.request("POST", "/photos", json={"filename": samples.filename(lab.random)}, heartbeat=True)
        for _ in range(samples.REQUESTS)
    ]
    findings.append(expect_response(trials, 202, lambda trial: {"filename": _filename(trial)}))
    ran, runs = ran_as_task(
        trials,
        "make_thumbnail",
        lambda trial: [_filename(trial)],
        effect=_effect,
        purpose="the thumbnail must still be made, after the response.",
    )
    findings.append(ran)
    if not ran.ok:
        return findings
    short = [run for run in runs if (run.duration or 0.0) < WORK * 0.8]
    if short and stand_in is None:
        findings.append(
            Finding(
                False,
                f"make_thumbnail was done in {took(short[0].duration or 0.0)}, though it holds "
                f"time.sleep({WORK}): does it return before reaching it?",
            )
        )
    stalled = max(trials, key=lambda trial: trial.stall)
    if stalled.stall > FROZEN:
        culprits = [run for run in stalled.stalled_runs() if run.is_async]
        text = (
            blocked_message(culprits[0].name, stalled.stall)
            if culprits
            else f"While make_thumbnail ran, the server was frozen for {took(stalled.stall)}: no other "
            "request could be answered. Something blocking ran on the event loop's own thread."
        )
        findings.append(Finding(False, text))
    else:
        findings.append(
            Finding(
                True,
                "The server kept answering while make_thumbnail worked "
                f"(longest pause: {took(stalled.stall)}).",
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
    needs=("make_thumbnail",),
    check=check,
    covers="sync_and_async_tasks",
    rules=(f"make_thumbnail keeps its time.sleep({WORK}): it stands for a library that blocks.",),
    hints=(
        "An `async def` function runs on the event loop, the one thread that answers every request. "
        "What does time.sleep() do to that thread?",
        "Ravyn runs a sync task (a plain `def`) on a worker thread, away from the event loop, and awaits "
        "an `async def` task on the loop itself.",
        "Write `def make_thumbnail(...)` instead of `async def make_thumbnail(...)`. (If the library "
        "had an async API you would `await` it instead; this one does not.)",
    ),
)
