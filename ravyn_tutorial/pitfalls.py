"""How a pitfall lesson ends: on what went wrong in the run just shown, and
where the fix is, rather than on the happy-path takeaway of a lesson that
worked. Each sentence is built from the measured run, so it stays true."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.text import Text

from ravyn_tutorial.timeline import RequestView, format_duration

__all__ = ["fix_for", "is_pitfall", "what_went_wrong"]

FIXES = {
    "pitfall_return_value_wrong": "pitfall_return_value_right",
    "pitfall_long_job_wrong": "pitfall_long_job_celery",
    "pitfall_silent_error_wrong": "pitfall_logged_error_right",
    "pitfall_request_in_task_wrong": "pitfall_request_values_right",
}


def is_pitfall(name: str) -> bool:
    """Whether the lesson shows a pitfall's wrong version."""
    return name.startswith("pitfall_") and name.endswith("_wrong")


def fix_for(name: str, lessons: Iterable[str]) -> str | None:
    """The lesson that shows the fix of pitfall `name`, if there is one."""
    known = list(lessons)
    if FIXES.get(name) in known:
        return FIXES[name]
    topic = name.removesuffix("_wrong")
    return next((other for other in known if other.startswith(topic) and other != name), None)


def _first_task(view: RequestView) -> str:
    return view.tasks[0].name if view.tasks else "the task"


def _return_value(view: RequestView) -> str:
    answer = view.body or "its answer"
    return (
        f"{_first_task(view)} worked out its result after the client already had {answer}: "
        "a background task's return value goes nowhere."
    )


def _long_job(view: RequestView) -> str:
    took = view.tasks[0].duration if view.tasks else None
    ran = f"ran for {format_duration(took)}" if took is not None else "ran"
    return (
        f"{_first_task(view)} {ran} inside the web server's process. Had the server restarted meanwhile "
        "(a deploy, a crash), the job would be gone with nobody told, and the client cannot ask how it went."
    )


def _failure(what: str) -> Callable[[RequestView], str]:
    def sentence(view: RequestView) -> str:
        failed = view.failed
        if not failed:
            return f"{_first_task(view)} did not fail this time, but nothing guards it: {what}"
        return f"{failed[0].name} failed ({failed[0].error}) after the client was told {view.status}: {what}"

    return sentence


SENTENCES: dict[str, Callable[[RequestView], str]] = {
    "pitfall_return_value_wrong": _return_value,
    "pitfall_long_job_wrong": _long_job,
    "pitfall_silent_error_wrong": _failure(
        "the refund never happened, the client will never hear of it, and only the server's log knows."
    ),
    "pitfall_request_in_task_wrong": _failure(
        "the task read the request after the client had gone, and the feedback is lost."
    ),
}


def what_went_wrong(name: str, view: RequestView, lessons: Iterable[str]) -> Text | None:
    """The closing lines of a pitfall lesson; `None` for other lessons."""
    if not is_pitfall(name):
        return None
    sentence = SENTENCES.get(name)
    said = sentence(view) if sentence else "this example shows the wrong way: read the run above again."
    text = Text("What went wrong: ", style="bold red").append(said, style="red")
    fix = fix_for(name, lessons)
    if fix:
        text.append("\nThe fix: ", style="bold").append(f"ravyn-tutorial run {fix}", style="bold cyan")
    return text
