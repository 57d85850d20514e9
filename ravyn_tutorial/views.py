"""How the exercise commands and the watch mode show things: an exercise's
goal, a check's report, a hint, the progress bar. Shared, so that `check`
and `watch` say the same thing the same way."""

from __future__ import annotations

import ast
import difflib
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ravyn_tutorial.checking import Report
from ravyn_tutorial.exercises import EXERCISES, Exercise
from ravyn_tutorial.learner import LearnerError
from ravyn_tutorial.progress import Progress

__all__ = [
    "PROGRAM",
    "code_lines",
    "current_exercise",
    "goal_panel",
    "hint_panel",
    "progress_bar",
    "show_learner_error",
    "show_report",
    "solution_diff",
    "status_table",
]

PROGRAM = "ravyn-tutorial"


def current_exercise(progress: Progress) -> Exercise | None:
    """The first exercise, in order, whose file has not passed as it is now."""
    return next((e for e in EXERCISES.values() if progress.status(e.name) != "passed"), None)


def goal_panel(exercise: Exercise) -> Panel:
    """The exercise's goal, in a box titled with its name."""
    return Panel(
        Text(exercise.goal),
        title=f"[bold]{exercise.name}[/] · {escape(exercise.title)}",
        title_align="left",
        subtitle=f"practises: {exercise.covers}" if exercise.covers else None,
        subtitle_align="right",
    )


def hint_panel(exercise: Exercise, index: int) -> Panel:
    """Hint number `index + 1`."""
    return Panel(
        Text(exercise.hints[index]),
        title=f"hint {index + 1} of {len(exercise.hints)} · {exercise.name}",
        title_align="left",
    )


def progress_bar(progress: Progress, width: int = 30) -> Text:
    """`[■■■■■□□□□□] 2 of 6 done`."""
    done = sum(progress.status(name) == "passed" for name in EXERCISES)
    filled = round(width * done / len(EXERCISES))
    return Text.assemble(
        ("[", "dim"),
        ("█" * filled, "green"),
        ("░" * (width - filled), "dim"),
        ("] ", "dim"),
        (f"{done} of {len(EXERCISES)} done", "bold"),
    )


MARKS = {"passed": "[green]✔[/]", "changed": "[yellow]?[/]", "started": "[yellow]…[/]", "new": "[dim]·[/]"}


def status_table(progress: Progress) -> Table:
    """Every exercise with its mark and what to do."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("exercise", style="bold cyan", no_wrap=True)
    table.add_column("what to do", ratio=1)
    for exercise in EXERCISES.values():
        status = progress.status(exercise.name)
        what = escape(exercise.title)
        if status == "changed":
            what += " [yellow](changed since it passed: check it again)[/]"
        table.add_row(MARKS[status], exercise.name, what)
    return table


def show_learner_error(console: Console, error: LearnerError) -> None:
    """The learner's error at their line, never a traceback of ours."""
    where = f"{error.path}, line {error.line}" if error.line else str(error.path)
    console.print(Text(f"Your file has a problem while {error.when}:", style="bold red"))
    console.print(Text(f"  {error.summary}", style="red"))
    console.print(Text(f"  in {where}", style="dim"))
    if error.source and error.line:
        console.print(
            Syntax(error.source, "python", line_numbers=True, start_line=error.line, word_wrap=True)
        )
        if error.column:
            pad = len(str(error.line)) + 3 + error.column - 1
            console.print(Text(" " * pad + "^", style="bold red"))


def show_report(console: Console, report: Report, timeline: bool = False) -> None:
    """The requests sent and the findings, ✔ or ✘ each."""
    if report.error is not None:
        show_learner_error(console, report.error)
        return
    if report.internal:
        console.print(
            Text(
                "The check itself failed; this is not a problem in your file.",
                style="bold red",
            )
        )
        console.print(Text(f"  {report.internal}", style="red"))
        console.print(Text("  If it happens again, please report it with your file.", style="dim"))
        return
    for trial in report.trials:
        console.print(
            Text.assemble(
                ("  sent ", "dim"),
                (trial.request, ""),
                ("  →  ", "dim"),
                (f"{trial.status} in {trial.response_time * 1000:.1f} ms", "bold"),
            )
        )
        if timeline:
            console.print(Text(trial.timeline, style="dim"))
    console.print()
    findings = Table.grid(padding=(0, 1))
    findings.add_column(no_wrap=True)
    findings.add_column(ratio=1)
    for finding in report.findings:
        mark = Text(" ✔", style="bold green") if finding.ok else Text(" ✘", style="bold red")
        findings.add_row(mark, Text(finding.text))
    console.print(findings)


def code_lines(text: str) -> list[str]:
    """The lines of a module without its docstring (and the blank lines after
    it): what the code does, not what the exercise's text says about it."""
    lines = text.splitlines()
    try:
        body = ast.parse(text).body
    except SyntaxError:
        return lines
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
        and first.end_lineno is not None
    ):
        start = first.lineno - 1
        del lines[start : first.end_lineno]
        while start < len(lines) and not lines[start].strip():
            del lines[start]
    return lines


def solution_diff(learner: Path, reference: str) -> RenderableType:
    """What the reference solution's code does differently from the learner's
    file (both files' docstrings left out)."""
    try:
        mine = code_lines(learner.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        mine = []
    theirs = code_lines(reference)
    lines = list(difflib.unified_diff(mine, theirs, "your file", "the reference solution", lineterm=""))
    if not lines:
        return Text("Your code and the reference solution's are the same, line for line.", style="green")
    return Group(
        Text(
            "What the reference solution's code does differently (- your file, + the solution; "
            "docstrings left out):",
            style="bold",
        ),
        Syntax("\n".join(lines), "diff", word_wrap=True),
    )
