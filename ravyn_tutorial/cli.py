"""The `ravyn-tutorial` command (also `python -m ravyn_tutorial`).

```
ravyn-tutorial list                    the lessons, in the guide's order
ravyn-tutorial run quick_start         run a lesson under uvicorn, timeline drawn live
ravyn-tutorial run quick_start --compare   the same work inline and as a background task
ravyn-tutorial run quick_start --serve     keep the server up and try it with curl
ravyn-tutorial exercises               the exercises and how far you got
ravyn-tutorial watch                   re-check the current exercise on every save
ravyn-tutorial start [slow_signup]     copy a broken app into ./ravyn-exercises/
ravyn-tutorial check [slow_signup]     check your fix, in plain words
ravyn-tutorial hint [slow_signup] [N]  one hint at a time (or hint N again)
ravyn-tutorial reset slow_signup       start an exercise over (your file is backed up)
ravyn-tutorial solution slow_signup    once it passes: the reference solution, and the difference
```

Without a name, `start`, `check` and `hint` mean the current exercise: the
first one not yet passed.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ravyn_tutorial.exercises import EXERCISES, Exercise, solution_text
from ravyn_tutorial.lessons import Lesson, LessonsUnavailable, load_lessons
from ravyn_tutorial.progress import Progress
from ravyn_tutorial.views import (
    PROGRAM,
    current_exercise,
    goal_panel,
    hint_panel,
    progress_bar,
    show_report,
    solution_diff,
    status_table,
)
from ravyn_tutorial.workspace import (
    DEFAULT_DIR,
    Unwritable,
    check_and_record,
    resolve_folder,
    writable,
    write_template,
)

__all__ = ["app", "main"]


app = typer.Typer(
    name=PROGRAM,
    help="Learn Ravyn's background tasks by running them: lessons with a live timeline, and exercises.",
    add_completion=False,
    no_args_is_help=False,
    rich_markup_mode="rich",
)

DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        "-d",
        help="The working folder for exercises and your progress "
        "(default: ./ravyn-exercises, or the current folder from inside it).",
        file_okay=False,
        show_default=False,
    ),
]
NameArgument = Annotated[
    str | None,
    typer.Argument(
        help="The exercise's name (default: the current one, the first not yet passed).", show_default=False
    ),
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


def _exercise(name: str | None, progress: Progress) -> Exercise:
    if name is None:
        current = current_exercise(progress)
        if current is None:
            _fail("Every exercise has passed: there is no current one. Name one to work on it again.", 2)
        return current
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
        ("watch", "fix them one by one, re-checked on every save"),
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
        typer.Option(
            help="The port to serve on (0: any free one; a busy one is swapped for a free one).",
            min=0,
            max=65535,
        ),
    ] = 0,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the tasks to finish.")] = 15.0,
    svg: Annotated[
        Path | None,
        typer.Option(help="Also save what was drawn as an SVG picture in this file.", dir_okay=False),
    ] = None,
    predict: Annotated[
        bool,
        typer.Option("--predict", help="First guess the order of the response and the tasks, then see it."),
    ] = False,
    interrupt: Annotated[
        bool,
        typer.Option(
            "--interrupt",
            help="Send the server Ctrl-C (SIGINT) while a task runs, and see what the drain does.",
        ),
    ] = False,
    crash: Annotated[
        bool,
        typer.Option(
            "--crash",
            help="Kill the server (SIGKILL) while a task runs, start it again, and see what comes back.",
        ),
    ] = False,
) -> None:
    """Run a lesson's example under uvicorn and draw its timeline as it happens."""
    from ravyn_tutorial import predict as predicting
    from ravyn_tutorial.runner import ServerFailed, run_compare, run_lesson
    from ravyn_tutorial.timeline import RequestView

    chosen = _lesson(lesson)
    if compare and serve:
        _fail("--compare and --serve do not go together: pick one.", 2)
    if svg is not None:
        _check_writable(svg)
    if predict and compare:
        _fail("--predict goes with a plain run, not with --compare.", 2)
    if interrupt and (compare or serve or predict):
        _fail("--interrupt goes alone: not with --compare, --serve or --predict.", 2)
    if crash and (interrupt or compare or serve or predict):
        _fail("--crash goes alone: not with --interrupt, --compare, --serve or --predict.", 2)
    console = Console(highlight=False, record=svg is not None)
    guess = predicting.ask(console, chosen) if predict else None

    def judge(view: RequestView) -> None:
        if guess is not None:
            console.print()
            console.print(predicting.verdict(guess, predicting.actual_order(view, guess)))

    try:
        if crash:
            from ravyn_tutorial.crash import run_crashed

            complete = run_crashed(console, chosen, port=port, timeout=max(timeout, 20.0))
        elif interrupt:
            from ravyn_tutorial.interrupt import run_interrupted

            complete = run_interrupted(console, chosen, port=port, timeout=max(timeout, 40.0))
        elif compare:
            complete = run_compare(console, chosen, port=port, timeout=timeout)
        else:
            complete = run_lesson(console, chosen, port=port, timeout=timeout, serve=serve, after=judge)
    except ServerFailed as exc:
        _fail(f"The lesson's server did not start: {exc}", 1, exc.details)
    except KeyboardInterrupt:
        console.print("[dim]Stopped.[/]")
        raise typer.Exit(130) from None
    if svg is not None:
        command = f"{PROGRAM} run {chosen.name}" + (" --compare" if compare else "")
        try:
            console.save_svg(str(svg), title=command)
        except OSError as exc:
            _fail(f"Could not save the picture as {svg}: {exc.strerror or exc}.")
        console.print(f"[dim]Saved the picture as {svg}.[/]")
    if not complete:
        raise typer.Exit(1)


def _check_writable(target: Path) -> None:
    """Fail in one line, before the lesson runs, when `target` cannot be written."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        _fail(f"Cannot save the picture as {target}: the folder {folder} does not exist. Create it first.", 2)
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        _fail(f"Cannot save the picture as {target}: it is not writable here. Pick another --svg path.", 2)


def _dir_flag(folder: Path) -> str:
    return "" if folder in (DEFAULT_DIR, Path(".")) else f" --dir {folder}"


def _save(folder: Path, action: Callable[[], object], console: Console) -> None:
    """Record progress; a folder that cannot be written gets one line, not a crash."""
    try:
        with writable(folder):
            action()
    except Unwritable as exc:
        console.print(Text(f"Your progress was not saved. {exc}", style="yellow"))


@app.command()
def exercises(folder: DirOption = None) -> None:
    """List the exercises and what you have done so far."""
    place = resolve_folder(folder)
    progress = Progress(place)
    console = _out()
    console.print(status_table(progress))
    console.print()
    console.print(progress_bar(progress))
    current = current_exercise(progress)
    if current is not None:
        console.print(
            f"Next: [bold]{PROGRAM} start {current.name}[/]{_dir_flag(place)}, "
            f"or [bold]{PROGRAM} watch[/]{_dir_flag(place)} to go through them one by one."
        )


def _start(folder: Path, chosen: Exercise, *, fresh: bool, console: Console) -> None:
    try:
        written, saved = write_template(folder, chosen, fresh=fresh)
        with writable(folder):
            Progress(folder).started(chosen.name)
    except Unwritable as exc:
        _fail(str(exc))
    target = folder / chosen.file_name
    if saved is not None:
        console.print(f"[dim]Your previous version is saved as {saved}.[/]")
    if written:
        console.print(f"Created [bold]{target}[/]")
    else:
        console.print(f"[yellow]{target} is already there: keeping your version.[/]")
        console.print(f"[dim](`{PROGRAM} reset {chosen.name}` starts over and keeps a backup.)[/]")


@app.command()
def start(
    exercise: NameArgument = None,
    folder: DirOption = None,
    fresh: Annotated[
        bool,
        typer.Option("--fresh", help="Start over: your current file is kept as a numbered backup."),
    ] = False,
) -> None:
    """Copy an exercise's broken app into the working folder (never over your edits)."""
    place = resolve_folder(folder)
    chosen = _exercise(exercise, Progress(place))
    console = _out()
    _start(place, chosen, fresh=fresh, console=console)
    console.print()
    console.print(goal_panel(chosen))
    steps = Table.grid(padding=(0, 1))
    steps.add_column(no_wrap=True, justify="right")
    steps.add_column(ratio=1)
    steps.add_row(" 1.", f"Open {place / chosen.file_name} and fix it; its docstring says what it should do.")
    steps.add_row(" 2.", f"[bold]{PROGRAM} check {chosen.name}[/]{_dir_flag(place)}")
    steps.add_row(" 3.", f"Stuck? [bold]{PROGRAM} hint {chosen.name}[/]{_dir_flag(place)}")
    console.print(steps)
    console.print(f"[dim]Or let [bold]{PROGRAM} watch[/] check every save for you.[/]")


@app.command()
def reset(
    exercise: Annotated[str, typer.Argument(help="The exercise to start over.")],
    folder: DirOption = None,
) -> None:
    """Put an exercise's broken app back (your file is kept as a numbered backup)."""
    place = resolve_folder(folder)
    chosen = _exercise(exercise, Progress(place))
    _start(place, chosen, fresh=True, console=_out())


@app.command()
def check(
    exercise: NameArgument = None,
    folder: DirOption = None,
    timeline: Annotated[bool, typer.Option("--timeline", help="Also show each recorded timeline.")] = False,
    seed: Annotated[
        int | None, typer.Option(help="Replay the random values of an earlier check.", hidden=True)
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds before a check that hangs is stopped.")] = 20.0,
    every: Annotated[
        bool, typer.Option("--all", help="Check every exercise you have started, one line each.")
    ] = False,
) -> None:
    """Check your version of an exercise and say what is right and what is not."""
    place = resolve_folder(folder)
    if every:
        if exercise is not None:
            _fail(f"Either name an exercise or give --all, not both: `{PROGRAM} check --all`.", 2)
        _check_all(place, timeout)
        return
    chosen = _exercise(exercise, Progress(place))
    target = place / chosen.file_name
    if not target.exists():
        _fail(f"There is no {target} yet: `{PROGRAM} start {chosen.name}{_dir_flag(place)}` creates it.")
    console = _out()
    console.print(Rule(f"[bold]check {chosen.name}[/] · {target}", align="left"))
    report, unsaved = check_and_record(place, chosen, seed=seed, timeout=timeout)
    if unsaved:
        console.print(Text(unsaved, style="yellow"))
    show_report(console, report, timeline)
    console.print()
    if not report.passed:
        if report.error is None:
            console.print(
                f"Not there yet. [bold]{PROGRAM} hint {chosen.name}[/]{_dir_flag(place)} gives a hint."
            )
        raise typer.Exit(1)
    console.print("[bold green]Passed![/]", end=" ")
    console.print(
        f"[bold]{PROGRAM} solution {chosen.name}[/]{_dir_flag(place)} shows the reference solution."
    )
    following = current_exercise(Progress(place))
    if following is not None:
        console.print(f"Next: [bold]{PROGRAM} start {following.name}[/]{_dir_flag(place)}")
    else:
        console.print("That was the last one: every exercise is done.")


def _check_all(place: Path, timeout: float) -> None:
    """`check --all`: every exercise whose file is in the folder, one line each."""
    present = [exercise for exercise in EXERCISES.values() if (place / exercise.file_name).exists()]
    if not present:
        _fail(f"There is no exercise in {place} yet: `{PROGRAM} start`{_dir_flag(place)} creates the first.")
    console = _out()
    console.print(Rule(f"[bold]check --all[/] · {place}", align="left"))
    table = Table(box=None, pad_edge=False, show_header=False)
    table.add_column(no_wrap=True)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(ratio=1)
    failed = 0
    for exercise in present:
        with console.status(f"checking {exercise.name} ..."):
            report, unsaved = check_and_record(place, exercise, timeout=timeout)
        if report.passed:
            table.add_row("[green]✔[/]", exercise.name, "passed")
            continue
        failed += 1
        if report.error is not None:
            why = f"your file has a problem while {report.error.when}: {report.error.summary}"
        elif report.internal:
            why = f"the check itself failed: {report.internal}"
        else:
            why = next(finding.text for finding in report.findings if not finding.ok)
        table.add_row("[red]✘[/]", exercise.name, Text(why))
        if unsaved:
            console.print(Text(unsaved, style="yellow"))
    console.print(table)
    console.print()
    missing = len(EXERCISES) - len(present)
    summary = f"{len(present) - failed} of {len(present)} checked passed"
    if missing:
        summary += f"; {missing} not started yet"
    console.print(summary + ".")
    console.print(progress_bar(Progress(place)))
    if failed:
        console.print(f"[dim]`{PROGRAM} check <exercise>`{_dir_flag(place)} tells more about one.[/]")
        raise typer.Exit(1)


@app.command()
def hint(
    exercise: NameArgument = None,
    number: Annotated[
        int | None, typer.Argument(help="Show this hint again (1 is the first).", show_default=False)
    ] = None,
    folder: DirOption = None,
) -> None:
    """Show the next hint for an exercise (one more each time you ask), or hint NUMBER again."""
    if exercise is not None and exercise.isdigit() and number is None:
        number, exercise = int(exercise), None  # `hint 2`: hint 2 of the current exercise
    place = resolve_folder(folder)
    progress = Progress(place)
    chosen = _exercise(exercise, progress)
    console = _out()
    total = len(chosen.hints)
    seen = progress.hints_seen(chosen.name)
    if number is not None:
        if not 1 <= number <= total:
            _fail(f"{chosen.name} has hints 1 to {total}.", 2)
        if number > seen + 1:
            _fail(
                f"You have seen {seen} hint{'s' if seen != 1 else ''} of {chosen.name} so far: they come "
                f"in order. `{PROGRAM} hint {chosen.name}{_dir_flag(place)}` shows the next one.",
                2,
            )
        if number <= seen:
            console.print(hint_panel(chosen, number - 1))
            return
    index = min(seen, total - 1)
    console.print(hint_panel(chosen, index))
    _save(place, lambda: progress.next_hint(chosen.name, total), console)
    if index == total - 1:
        console.print(
            "[dim]That is the last hint. The docstring at the top of the file says what to reach.[/]"
        )
    else:
        console.print(f"[dim]Ask again for the next one: {PROGRAM} hint {chosen.name}{_dir_flag(place)}[/]")


@app.command()
def solution(
    exercise: Annotated[str, typer.Argument(help="An exercise you have passed.")],
    folder: DirOption = None,
) -> None:
    """Once your version has passed: the reference solution, and how it differs from yours."""
    place = resolve_folder(folder)
    progress = Progress(place)
    chosen = _exercise(exercise, progress)
    status = progress.status(chosen.name)
    if status not in ("passed", "changed"):
        _fail(
            f"The solution of {chosen.name} opens once your own version passes: "
            f"`{PROGRAM} check {chosen.name}{_dir_flag(place)}` (stuck? `{PROGRAM} hint {chosen.name}`)."
        )
    console = _out()
    reference = solution_text(chosen)
    console.print(
        Rule(f"[bold]solution {chosen.name}[/] · a reference, not the only right answer", align="left")
    )
    console.print(Syntax(reference, "python", line_numbers=True, word_wrap=True))
    console.print()
    console.print(solution_diff(place / chosen.file_name, reference))


@app.command()
def watch(
    folder: DirOption = None,
    timeout: Annotated[float, typer.Option(help="Seconds before a check that hangs is stopped.")] = 20.0,
) -> None:
    """Work through the exercises: the current one is re-checked on every save.

    Keys: h hint, l list, r reset the exercise, c check now, q quit.
    """
    from ravyn_tutorial.watch import Watcher

    place = resolve_folder(folder)
    try:
        code = Watcher(place, _out(), timeout=timeout).run()
    except Unwritable as exc:
        _fail(str(exc))
    raise typer.Exit(code)


def main() -> None:
    """The console script's entry point."""
    app(prog_name=PROGRAM)
