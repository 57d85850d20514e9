"""The `ravyn-tutorial` command (also `python -m ravyn_tutorial`).

```
ravyn-tutorial list                    the lessons, in the guide's order
ravyn-tutorial run quick_start         run a lesson under uvicorn, timeline drawn live
ravyn-tutorial run quick_start --compare   the same work inline and as a background task
ravyn-tutorial run quick_start --serve     keep the server up and try it with curl
ravyn-tutorial exercises               the exercises and how far you got
ravyn-tutorial start slow_signup       copy a broken app into ./ravyn-exercises/
ravyn-tutorial check slow_signup       check your fix, in plain words
ravyn-tutorial hint slow_signup        one hint at a time
```
"""

from __future__ import annotations

import difflib
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ravyn_tutorial.exercises import EXERCISES, Exercise, template_text
from ravyn_tutorial.lessons import Lesson, LessonsUnavailable, load_lessons
from ravyn_tutorial.progress import Progress

if TYPE_CHECKING:
    from ravyn_tutorial.checking import Report
    from ravyn_tutorial.learner import LearnerError

__all__ = ["app", "main"]

PROGRAM = "ravyn-tutorial"
DEFAULT_DIR = Path("ravyn-exercises")

app = typer.Typer(
    name=PROGRAM,
    help="Learn Ravyn's background tasks by running them: lessons with a live timeline, and exercises.",
    add_completion=False,
    no_args_is_help=False,
    rich_markup_mode="rich",
)

DirOption = Annotated[
    Path,
    typer.Option("--dir", "-d", help="The working folder for exercises and your progress.", file_okay=False),
]


def _out() -> Console:
    return Console(highlight=False)


def _err() -> Console:
    return Console(stderr=True, highlight=False)


def _fail(message: str, code: int = 1, details: str = "") -> NoReturn:
    console = _err()
    console.print(Text(message, style="bold red"))
    if details:
        console.print(Text(details))
    raise typer.Exit(code)


def _unknown(kind: str, name: str, valid: Iterable[str], listing: str) -> NoReturn:
    names = list(valid)
    close = difflib.get_close_matches(name, names, n=1)
    message = f"There is no {kind} called {name!r}."
    if close:
        message += f" Did you mean {close[0]}?"
    _fail(message, 2, f"The {kind}s are: {', '.join(names)}\n(`{PROGRAM} {listing}` describes them.)")


def _lessons() -> dict[str, Lesson]:
    try:
        lessons = load_lessons()
    except LessonsUnavailable as exc:
        _fail("Cannot find the lessons.", 1, str(exc))
    if not lessons:
        _fail("The catalogue (docs_src/catalogue.py) lists no examples yet.", 1)
    return lessons


def _lesson(name: str) -> Lesson:
    lessons = _lessons()
    if name not in lessons:
        _unknown("lesson", name, lessons, "list")
    return lessons[name]


def _exercise(name: str) -> Exercise:
    if name not in EXERCISES:
        _unknown("exercise", name, EXERCISES, "exercises")
    return EXERCISES[name]


@app.callback(invoke_without_command=True)
def welcome(context: typer.Context) -> None:
    """Learn Ravyn's background tasks by running them."""
    if context.invoked_subcommand is not None:
        return
    console = _out()
    console.print(Rule("[bold]Ravyn background tasks: the terminal tutorial[/]", align="left"))
    console.print(
        "Each lesson runs one example of the guide under a real uvicorn server and draws what happens, "
        "as it happens: when the client had its answer, and when each task ran.\n"
    )
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for command, what in (
        ("list", "the lessons, in the guide's order"),
        ("run quick_start", "run a lesson, with a live timeline"),
        ("run quick_start --compare", "the same work inline and as a task"),
        ("run quick_start --serve", "keep the server up and try curl"),
        ("exercises", "small broken apps to fix"),
        ("start slow_signup", "begin the first exercise"),
    ):
        table.add_row(f"{PROGRAM} {command}", what)
    console.print(table)
    console.print(
        f"\n[dim]`{PROGRAM} COMMAND --help` tells more. Lessons need a checkout: run from its root.[/]"
    )


@app.command("list")
def list_lessons() -> None:
    """List the lessons in the guide's order, with their titles."""
    lessons = _lessons()
    console = _out()
    wide = console.width >= 110
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("#", justify="right", style="dim")
    table.add_column("lesson", style="bold cyan", no_wrap=True)
    table.add_column("title", ratio=1)
    if wide:
        table.add_column("example", style="dim", no_wrap=True)
    for number, lesson in enumerate(lessons.values(), 1):
        row = [str(number), lesson.name, escape(lesson.title)]
        if wide:
            row.append(lesson.example.import_path.replace(".", "/") + ".py")
        table.add_row(*row)
    console.print(table)
    console.print()
    if not wide:
        console.print("[dim]Each lesson's code is docs_src/background_tasks/<lesson>.py.[/]")
    console.print(
        f"Run one with [bold]{PROGRAM} run <lesson>[/]; practise with [bold]{PROGRAM} exercises[/]."
    )


@app.command()
def run(
    lesson: Annotated[str, typer.Argument(help="The lesson's name, as `list` shows it.")],
    compare: Annotated[
        bool, typer.Option("--compare", help="Run the work inline and as a background task, side by side.")
    ] = False,
    serve: Annotated[
        bool,
        typer.Option("--serve", help="Keep the server up afterwards to try it with curl (Ctrl-C stops)."),
    ] = False,
    port: Annotated[
        int,
        typer.Option(help="The port to serve on (0: any free one; a busy one is swapped for a free one)."),
    ] = 0,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the tasks to finish.")] = 15.0,
    svg: Annotated[
        Path | None,
        typer.Option(help="Also save what was drawn as an SVG picture in this file.", dir_okay=False),
    ] = None,
) -> None:
    """Run a lesson's example under uvicorn and draw its timeline as it happens."""
    from ravyn_tutorial.runner import ServerFailed, run_compare, run_lesson

    chosen = _lesson(lesson)
    if compare and serve:
        _fail("--compare and --serve do not go together: pick one.", 2)
    console = Console(highlight=False, record=svg is not None)
    try:
        if compare:
            complete = run_compare(console, chosen, port=port, timeout=timeout)
        else:
            complete = run_lesson(console, chosen, port=port, timeout=timeout, serve=serve)
    except ServerFailed as exc:
        _fail(f"The lesson's server did not start: {exc}", 1, exc.details)
    except KeyboardInterrupt:
        console.print("[dim]Stopped.[/]")
        raise typer.Exit(130) from None
    if svg is not None:
        command = f"{PROGRAM} run {chosen.name}" + (" --compare" if compare else "")
        console.save_svg(str(svg), title=command)
        console.print(f"[dim]Saved the picture as {svg}.[/]")
    if not complete:
        raise typer.Exit(1)


@app.command()
def exercises(folder: DirOption = DEFAULT_DIR) -> None:
    """List the exercises and what you have done so far."""
    progress = Progress(folder)
    console = _out()
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("exercise", style="bold cyan", no_wrap=True)
    table.add_column("what to do", ratio=1)
    marks = {"passed": "[green]✔[/]", "started": "[yellow]…[/]", "new": "[dim]·[/]"}
    for exercise in EXERCISES.values():
        table.add_row(marks[progress.status(exercise.name)], exercise.name, escape(exercise.title))
    console.print(table)
    done = sum(progress.status(name) == "passed" for name in EXERCISES)
    console.print(f"\n{done} of {len(EXERCISES)} done. Begin one with [bold]{PROGRAM} start <exercise>[/].")


@app.command()
def start(
    exercise: Annotated[str, typer.Argument(help="The exercise's name, as `exercises` shows it.")],
    folder: DirOption = DEFAULT_DIR,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Start over: your current file is kept as <name>.py.bak.")
    ] = False,
) -> None:
    """Copy an exercise's broken app into the working folder (never over your edits)."""
    chosen = _exercise(exercise)
    console = _out()
    target = folder / chosen.file_name
    folder.mkdir(parents=True, exist_ok=True)
    if target.exists() and not fresh:
        console.print(f"[yellow]{target} is already there: keeping your version.[/]")
        console.print(f"[dim](`{PROGRAM} start {chosen.name} --fresh` starts over and keeps a backup.)[/]")
    else:
        if target.exists():
            backup = target.with_name(target.name + ".bak")
            shutil.copy2(target, backup)
            console.print(f"[dim]Your previous version is saved as {backup}.[/]")
        target.write_text(template_text(chosen), encoding="utf-8")
        console.print(f"Created [bold]{target}[/]")
    Progress(folder).started(chosen.name)
    console.print()
    console.print(
        Panel(
            Text(chosen.goal),
            title=f"[bold]{chosen.name}[/] · {escape(chosen.title)}",
            title_align="left",
            subtitle=f"practises: {chosen.covers}" if chosen.covers else None,
            subtitle_align="right",
        )
    )
    steps = Table.grid(padding=(0, 1))
    steps.add_column(no_wrap=True, justify="right")
    steps.add_column(ratio=1)
    steps.add_row(" 1.", f"Open {target} and fix it; its docstring says what it should do.")
    steps.add_row(" 2.", f"[bold]{PROGRAM} check {chosen.name}[/]{_dir_flag(folder)}")
    steps.add_row(" 3.", f"Stuck? [bold]{PROGRAM} hint {chosen.name}[/]{_dir_flag(folder)}")
    console.print(steps)


def _dir_flag(folder: Path) -> str:
    return "" if folder == DEFAULT_DIR else f" --dir {folder}"


def _show_learner_error(console: Console, error: LearnerError) -> None:
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


def _show_report(console: Console, report: Report, timeline: bool) -> None:
    for trial in report.trials:
        status = trial.timeline.status
        console.print(
            Text.assemble(
                ("  sent ", "dim"),
                (trial.request, ""),
                ("  →  ", "dim"),
                (f"{status} in {trial.response_time * 1000:.1f} ms", "bold"),
            )
        )
        if timeline:
            console.print(Text(trial.timeline.render(), style="dim"))
    console.print()
    findings = Table.grid(padding=(0, 1))
    findings.add_column(no_wrap=True)
    findings.add_column(ratio=1)
    for finding in report.findings:
        mark = Text(" ✔", style="bold green") if finding.ok else Text(" ✘", style="bold red")
        findings.add_row(mark, Text(finding.text))
    console.print(findings)


@app.command()
def check(
    exercise: Annotated[str, typer.Argument(help="The exercise's name.")],
    folder: DirOption = DEFAULT_DIR,
    timeline: Annotated[bool, typer.Option("--timeline", help="Also show each recorded timeline.")] = False,
) -> None:
    """Check your version of an exercise and say what is right and what is not."""
    chosen = _exercise(exercise)
    target = folder / chosen.file_name
    if not target.exists():
        _fail(f"There is no {target} yet: `{PROGRAM} start {chosen.name}{_dir_flag(folder)}` creates it.")
    console = _out()
    console.print(Rule(f"[bold]check {chosen.name}[/] · {target}", align="left"))
    from ravyn_tutorial.checking import run_check

    report = run_check(chosen, target)
    progress = Progress(folder)
    progress.checked(chosen.name, report.passed)
    if report.error is not None:
        _show_learner_error(console, report.error)
        raise typer.Exit(1)
    _show_report(console, report, timeline)
    console.print()
    if not report.passed:
        console.print(
            f"Not there yet. [bold]{PROGRAM} hint {chosen.name}[/]{_dir_flag(folder)} gives a hint."
        )
        raise typer.Exit(1)
    console.print("[bold green]Passed![/]", end=" ")
    remaining = [name for name in EXERCISES if progress.status(name) != "passed"]
    if remaining:
        console.print(f"Next: [bold]{PROGRAM} start {remaining[0]}[/]{_dir_flag(folder)}")
    else:
        console.print("That was the last one: every exercise is done.")


@app.command()
def hint(
    exercise: Annotated[str, typer.Argument(help="The exercise's name.")],
    folder: DirOption = DEFAULT_DIR,
) -> None:
    """Show the next hint for an exercise (one more each time you ask)."""
    chosen = _exercise(exercise)
    index = Progress(folder).next_hint(chosen.name, len(chosen.hints))
    console = _out()
    last = index == len(chosen.hints) - 1
    console.print(
        Panel(
            Text(chosen.hints[index]),
            title=f"hint {index + 1} of {len(chosen.hints)} · {chosen.name}",
            title_align="left",
        )
    )
    if last:
        console.print(
            "[dim]That is the last hint. The docstring at the top of the file says what to reach.[/]"
        )
    else:
        console.print(f"[dim]Ask again for the next one: {PROGRAM} hint {chosen.name}{_dir_flag(folder)}[/]")


def main() -> None:
    """The console script's entry point."""
    app(prog_name=PROGRAM)
