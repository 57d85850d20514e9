"""`run LESSON --predict`: guess the order of what happens, then see it.

Before the request is sent, the learner gets the lesson's moments (the
server having sent the whole response, and each task starting) in a shuffled order,
and types the order they expect. After the run, the order measured on the
timeline is compared with the guess, with a word on why when the guess put a
task before the response.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.text import Text

from ravyn_tutorial.lessons import Lesson
from ravyn_tutorial.timeline import RequestView

__all__ = ["RESPONSE", "actual_order", "ask", "moments", "parse", "verdict"]

RESPONSE = "the server has sent the whole response"
TRIES = 3


def moments(lesson: Lesson) -> list[str]:
    """What to put in order: the response, and each of the lesson's tasks starting."""
    tasks = tuple(getattr(lesson.example, "tasks", ()) or ())
    return [RESPONSE, *(f"{task} starts" for task in dict.fromkeys(tasks))]


def parse(answer: str, count: int) -> list[int] | str:
    """The letters typed (`b a c`, `bac`, `b,a,c`) as indexes, or what is wrong with them."""
    letters = [char for char in answer.lower() if char.isalnum()]
    valid = [chr(ord("a") + index) for index in range(count)]
    if sorted(letters) != valid:
        example = " ".join(valid)
        return f"Type each of the letters {', '.join(valid)} once, in the order you expect (e.g. {example})."
    return [ord(letter) - ord("a") for letter in letters]


def ask(
    console: Console,
    lesson: Lesson,
    *,
    read: Callable[[str], str] = input,
    rng: random.Random | None = None,
) -> list[str] | None:
    """Show the moments shuffled and read the expected order; `None` when
    there is nothing to order or the learner skips (an empty line, end of input)."""
    choices = moments(lesson)
    if len(choices) < 2:
        console.print(Text("This lesson has no background task to put in order: no prediction.", style="dim"))
        return None
    (rng or random.Random()).shuffle(choices)
    console.print(Text("Predict the order: what happens first?", style="bold"))
    for index, choice in enumerate(choices):
        console.print(f"  {chr(ord('a') + index)}) {choice}")
    for _ in range(TRIES):
        try:
            answer = read("Your order (letters, Enter to skip): ")
        except EOFError:
            return None
        if not answer.strip():
            return None
        parsed = parse(answer, len(choices))
        if isinstance(parsed, str):
            console.print(Text(parsed, style="yellow"))
            continue
        return [choices[index] for index in parsed]
    console.print(Text("No prediction this time; here is what happens.", style="dim"))
    return None


def actual_order(view: RequestView, expected: Sequence[str]) -> list[str]:
    """The moments of `expected` in the order the timeline measured them
    (a moment that never happened is left out)."""
    when: dict[str, float] = {}
    # the server's clock, not the client's: the client may read its last byte a
    # moment after the first task has started, which says nothing of the order
    sent = view.sent_at if view.sent_at is not None else view.elapsed
    if sent is not None:
        when[RESPONSE] = sent
    for span in view.tasks:
        when.setdefault(f"{span.name} starts", span.start)
    return sorted((moment for moment in expected if moment in when), key=lambda moment: when[moment])


def verdict(predicted: Sequence[str], actual: Sequence[str]) -> Text:
    """Right or wrong, and why, in a line or two."""
    if list(predicted) == list(actual):
        return Text("✔ You predicted the order: " + " → ".join(actual) + ".", style="bold green")
    text = Text("✘ You predicted: ", style="bold red")
    text.append(" → ".join(predicted) + ".\n", style="")
    text.append("  It was:        ", style="bold")
    text.append(" → ".join(actual) + ".", style="")
    if RESPONSE in predicted and RESPONSE in actual:
        ahead = predicted.index(RESPONSE) > 0 and actual.index(RESPONSE) == 0
        if ahead:
            text.append(
                "\n  Ravyn sends the whole response first and only then starts the background tasks: "
                "nothing the client waits for runs after the handler returns.",
                style="dim",
            )
        elif predicted.index(RESPONSE) == 0 and actual.index(RESPONSE) > 0:
            text.append(
                "\n  Here the work ran before the response was complete: the client waited for it.",
                style="dim",
            )
    return text
