"""flaky_partner: a task that may hang gets a time limit per attempt, and retries."""

from __future__ import annotations

from ravyn_tutorial.exercises import rules
from ravyn_tutorial.exercises.base import Exercise, Finding, Lab, TaskRun, Trial
from ravyn_tutorial.exercises.verdicts import FROZEN, expect_response, loop_blocked, ran_as_task, took

LIMIT = 0.5
"""Seconds an attempt may take."""
HANG = 2.0
"""How long the partner's first answer about an event takes, in the template."""
KINDS = ("signup", "payment", "refund", "upgrade", "cancel")


def _event(trial: Trial) -> str:
    return str(trial.sent["event"])


def _effect(trial: Trial) -> str:
    return f"partner told about {_event(trial)}"


def _calls(lab: Lab) -> dict[str, int] | None:
    calls = getattr(lab.module, "CALLS", None)
    return calls if isinstance(calls, dict) else None


def _timing(trials: list[Trial], runs: list[TaskRun]) -> Finding:
    """The hanging attempt was cut at the limit, and the next one told the partner."""
    for trial, run in zip(trials, runs, strict=True):
        if run.timeout is not None and run.timeout > LIMIT + 1e-9:
            return Finding(
                False,
                f"tell_partner may take {run.timeout:g} s per attempt; the partner gets at most {LIMIT:g} s.",
            )
        spent = run.duration or 0.0
        if spent > HANG * 0.8:
            return Finding(
                False,
                f"For {trial.request}, tell_partner waited {took(spent)} for the partner: nothing stopped "
                f"the attempt that hung. Each attempt may take at most {LIMIT:g} s.",
            )
    longest = max((run.duration or 0.0) for run in runs)
    attempts = max(run.attempts for run in runs)
    how = f"Ravyn cut the hanging attempt and tried again ({attempts} attempts)" if attempts > 1 else "it"
    return Finding(True, f"The partner heard about each event within {took(longest)}: {how}.")


async def check(lab: Lab) -> list[Finding]:
    findings = rules.mistakes(lab)
    calls = _calls(lab)
    if calls is None:
        findings.append(
            Finding(False, "CALLS, the partner's record of calls, is gone from the file: keep it.")
        )
        return findings
    trials = []
    for _ in range(3):
        event = f"{lab.random.choice(KINDS)}-{lab.random.randrange(1000, 10000)}"
        trials.append(await lab.request("POST", "/events", json={"event": event}))
    findings.append(expect_response(trials, 202, lambda trial: {"event": _event(trial)}))
    told, runs = ran_as_task(
        trials,
        "tell_partner",
        lambda trial: [_event(trial)],
        effect=_effect,
        purpose="the partner must be told about every event, once, after the response.",
    )
    findings.append(told)
    given_up = [
        run
        for trial in trials
        for run in trial.tasks_named("tell_partner")
        if isinstance(run.error, TimeoutError)
    ]
    if not told.ok and given_up:
        findings.append(
            Finding(
                False,
                f"tell_partner ran out of time after {took(given_up[0].duration or 0.0)} and Ravyn gave up "
                f"after {given_up[0].attempts} attempt(s): an attempt that timed out is tried again only "
                "if the task asks for retries.",
            )
        )
    if told.ok:
        once = [trial for trial in trials if calls.get(_event(trial), 0) < 2]
        hung = any((run.duration or 0.0) > HANG * 0.8 for run in runs)
        if once and not hung:
            findings.append(
                Finding(
                    False,
                    f"The partner was called only once about {_event(once[0])}, and answered at once: "
                    "tell_partner's first call about an event must still hang. It stands for the "
                    "partner's server, which you cannot change: put it back as it was.",
                )
            )
        else:
            findings.append(_timing(trials, runs))
    blocked = loop_blocked(trials, FROZEN)
    if blocked is not None:
        findings.append(blocked)
    return findings


EXERCISE = Exercise(
    name="flaky_partner",
    title="A task that may hang needs a time limit, and a retry",
    goal=(
        "tell_partner calls a flaky partner whose first answer about an event takes seconds. Give each "
        f"attempt at most {LIMIT:g} s and let Ravyn try again, so the partner hears about every event, once."
    ),
    template="flaky_partner.py",
    needs=("tell_partner",),
    check=check,
    covers="webhook_notification",
    rules=("tell_partner stays as it is: it stands for the partner's server.",),
    hints=(
        "A task runs after the response, so nobody waits for it... but a task that hangs still holds "
        "on to its work, and to a place in the server. What should happen to an attempt that takes too long?",
        "Ravyn can give a task a time limit per attempt and more attempts after a failure or a timeout: "
        "BackgroundTask's `configure()` sets them, and `add_task` takes the same keywords.",
        f"`BackgroundTask(tell_partner, event).configure(timeout={LIMIT:g}, retries=2)`, handed to the "
        "response as `background=`, or the same keywords to `add_task`: the hanging attempt is cancelled "
        "after half a second, and the next one is answered at once.",
    ),
)
