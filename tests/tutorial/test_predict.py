"""`run LESSON --predict`: the guess is read and checked against the order
measured on the lesson's timeline (the server's clock)."""

from __future__ import annotations

import functools
import io
import random
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from ravyn_tutorial import predict
from ravyn_tutorial.cli import app
from ravyn_tutorial.lessons import load_lessons
from ravyn_tutorial.timeline import Event, RequestView

from .conftest import ROOT

LESSONS = load_lessons(ROOT)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_answer_may_be_spaced_or_not_and_must_use_each_letter_once() -> None:
    assert predict.parse("b a c", 3) == [1, 0, 2]
    assert predict.parse("B,A,C", 3) == [1, 0, 2]
    assert predict.parse("bac", 3) == [1, 0, 2]
    assert "Type each of the letters a, b, c once" in str(predict.parse("b a a", 3))
    assert "Type each of the letters a, b once" in str(predict.parse("a b c", 2))


def test_the_order_is_read_on_the_servers_clock_not_the_clients() -> None:
    view = RequestView("lesson")
    for event in (
        Event("request_sent", 100.0, "lesson", {"method": "POST", "path": "/signup"}),
        Event("response_sent", 100.0085, "lesson", {"status": 201}),
        Event("task_started", 100.0090, "lesson", {"name": "send_welcome_email"}),
        Event("response", 100.0091, "lesson", {"status": 201, "elapsed": 0.0091}),
    ):
        view.apply(event)

    moments = ["send_welcome_email starts", predict.RESPONSE]

    assert predict.actual_order(view, moments) == [predict.RESPONSE, "send_welcome_email starts"]


def test_a_wrong_guess_says_what_happened_and_why() -> None:
    said = predict.verdict(["a starts", predict.RESPONSE], [predict.RESPONSE, "a starts"]).plain

    assert said.startswith("✘ You predicted: a starts → the server has sent the whole response.")
    assert "It was: the server has sent the whole response → a starts." in _flat(said)
    assert "Ravyn sends the whole response first" in said


def test_asking_skips_on_an_empty_line_and_gives_up_after_three_bad_answers() -> None:
    lesson = LESSONS["quick_start"]
    screen = Console(file=io.StringIO(), width=100)
    answers = iter(["zz", "a a", "q"])

    assert predict.ask(screen, lesson, read=lambda _: "") is None
    assert predict.ask(screen, lesson, read=lambda _: next(answers)) is None
    assert "No prediction this time" in screen.file.getvalue()  # type: ignore[attr-defined]


def _right_answer(lesson_name: str, seed: int) -> str:
    choices = predict.moments(LESSONS[lesson_name])
    random.Random(seed).shuffle(choices)
    order = [predict.RESPONSE, *(m for m in predict.moments(LESSONS[lesson_name]) if m != predict.RESPONSE)]
    return " ".join(chr(ord("a") + choices.index(moment)) for moment in order)


@pytest.mark.parametrize("right", [True, False])
def test_run_predict_checks_the_guess_against_the_timeline(
    cli: CliRunner, in_checkout: Path, monkeypatch: pytest.MonkeyPatch, right: bool
) -> None:
    monkeypatch.setattr(predict, "ask", functools.partial(predict.ask, rng=random.Random(4)))
    answer = _right_answer("response_many_tasks", 4)
    if not right:
        answer = " ".join(reversed(answer.split()))

    result = cli.invoke(app, ["run", "response_many_tasks", "--predict"], input=answer + "\n")

    said = _flat(result.output)
    assert result.exit_code == 0, result.output
    assert "Predict the order: what happens first?" in said
    assert "Traceback" not in result.output
    if right:
        assert "✔ You predicted the order: the server has sent the whole response → email_receipt" in said
    else:
        assert "✘ You predicted:" in said
        assert "Ravyn sends the whole response first" in said


def test_predict_does_not_go_with_compare(cli: CliRunner, in_checkout: Path) -> None:
    result = cli.invoke(app, ["run", "quick_start", "--predict", "--compare"])

    assert result.exit_code == 2
    assert "--predict goes with a plain run" in result.output
