"""Drawing timelines with rich: the table, the bar chart, the takeaway."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ravyn_tutorial.timeline import RequestView, Row, format_duration, format_offset

__all__ = ["bars", "compare_summary", "takeaway", "timeline_table"]

WHO_STYLE = {
    "client": "bold cyan",
    "server": "blue",
    "task": "magenta",
    "print": "green",
    "log": "yellow",
    "hook": "cyan",
}


def _row_style(row: Row) -> str:
    if row.kind in ("task_failed", "client_error"):
        return "bold red"
    if row.kind == "log" and not row.text.startswith(("INFO", "DEBUG")):
        return "red"
    if row.kind == "task_finished":
        return "magenta"
    if row.kind == "response":
        return "bold"
    return ""


def timeline_table(view: RequestView, *, compact: bool = False) -> Table:
    """The rows of `view` as a table: time, who, what. `compact` (for side by
    side) keeps the client's and the tasks' rows, a few words each."""
    table = Table(box=None, show_header=not compact, pad_edge=False)
    table.add_column("time", justify="right", no_wrap=True, style="dim", min_width=8)
    if not compact:
        table.add_column("who", no_wrap=True)
    table.add_column("what", overflow="ellipsis" if compact else "fold", no_wrap=compact, ratio=1)
    for row in view.rows:
        if compact and not row.short:
            continue
        what = Text()
        what.append(row.short if compact else row.text, style=_row_style(row))
        if row.detail and not compact:
            what.append("\n" + row.detail, style="dim")
        cells: list[RenderableType] = [format_offset(row.at)]
        if not compact:
            cells.append(Text(row.who, style=WHO_STYLE.get(row.who, "")))
        cells.append(what)
        table.add_row(*cells)
    return table


def bars(view: RequestView, width: int = 80, *, compact: bool = False, scale: float = 0.0) -> RenderableType:
    """A little Gantt chart: the client's wait, then each task, on one scale
    (at least `scale` seconds wide, to draw two charts alike). `compact` draws
    only the client's wait and the whole of the tasks' work. A finished task's
    figure is the runner's own, the one its row in the table shows."""
    # (label, start, end, style, the duration written beside the bar)
    spans: list[tuple[str, float, float, str, float]] = []
    if view.elapsed is not None:
        label = "client" if compact else "client waited"
        spans.append((label, 0.0, view.elapsed, "bold cyan", view.elapsed))
    ended = [task for task in view.tasks if task.end is not None]
    if compact and ended:
        start, end = min(t.start for t in ended), max(t.end or 0.0 for t in ended)
        style = "red" if any(t.error for t in ended) else "magenta"
        alone = ended[0].duration if len(ended) == 1 else None
        spans.append(("tasks", start, end, style, end - start if alone is None else alone))
    elif not compact:
        for task in view.tasks:
            took = task.duration if task.end is not None else None
            end = view.span if took is None else task.start + took
            shown = took if took is not None else end - task.start
            spans.append((task.name, task.start, end, "red" if task.error else "magenta", shown))
    if not spans:
        return Text("")
    total = max(scale, *(span[2] for span in spans)) or 1e-9
    label_width = min(max(len(span[0]) for span in spans), 22)
    bar_width = max(width - label_width - 12, 6)
    lines = Text()
    for name, start, end, style, took in spans:
        label = name if len(name) <= label_width else name[: label_width - 1] + "…"
        first = int(start / total * bar_width)
        length = max(1, round((end - start) / total * bar_width))
        first = min(first, bar_width - length)
        lines.append(f"{label:<{label_width}} ", style="dim")
        lines.append(" " * first)
        lines.append("█" * length, style=style)
        lines.append(" " * (bar_width - first - length))
        lines.append(f" {format_duration(took):>9}\n")
    lines.rstrip()
    return lines


def _and(names: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def takeaway(view: RequestView, queue: str | None = None) -> Text:
    """One line, true for this run: what the client waited for and what it did not."""
    if view.client_error is not None:
        return Text(f"The request did not get an answer: {view.client_error}", style="red")
    if view.elapsed is None:
        return Text("No response yet.")
    answer = f"The client had its {view.status} after {format_duration(view.elapsed)}"
    finished = [t for t in view.tasks if t.end is not None]
    if not finished:
        if queue and view.polls:
            states = " → ".join(dict.fromkeys(view.polls))
            return Text(
                f"{answer}; the job went to the {queue} queue, and a worker ran it on its own time. The "
                f"client followed it at the address the response gave ({view.location}): {states}. That "
                "is what the queue adds here: the job has an id, and a client can ask for its state "
                "while a worker runs it."
            )
        if queue:
            return Text(f"{answer}; the job went to the {queue} queue, and a worker ran it on its own time.")
        return Text(f"{answer}; no background task ran here.")
    sent = view.sent_at if view.sent_at is not None else view.elapsed
    after = [t for t in finished if t.start >= sent]
    work_end = view.work_end or view.elapsed
    names = _and(list(dict.fromkeys(t.name for t in finished)))
    if len(after) == len(finished):
        later = work_end - view.elapsed
        if later > 0:
            line = f"{answer}; {names} went on for another {format_duration(later)} with nobody waiting."
        else:  # quick tasks may end before the client has read the whole response
            line = f"{answer}; {names} ran after the response was sent, and nobody waited for them."
    else:
        line = f"{answer}, and it waited for {names}."
    failed = [t for t in finished if t.error]
    text = Text(line)
    if failed:
        text.append(
            f" {failed[0].name} failed ({failed[0].error}): it was logged, and the response "
            "was already on its way.",
            style="red",
        )
    return text


def compare_summary(inline: RequestView, background: RequestView, width: int = 80) -> RenderableType:
    """The two runs' numbers side by side and a sentence about them."""
    table = Table(box=None, pad_edge=False)
    table.add_column("")
    table.add_column("inline", justify="right")
    table.add_column("background task", justify="right")

    def cell(value: float | None) -> str:
        return "—" if value is None else format_duration(value)

    table.add_row("client had its response after", cell(inline.elapsed), cell(background.elapsed))
    table.add_row("status", str(inline.status or "—"), str(background.status or "—"))
    table.add_row("the work was done after", cell(inline.work_end), cell(background.work_end))
    parts: Sequence[RenderableType] = [table]
    if inline.elapsed and background.elapsed:
        if not background.tasks:
            line = "No background task ran in this example, so both ways take the same time."
        else:
            ratio = inline.elapsed / background.elapsed if background.elapsed else 0.0
            line = (
                f"Same work both times. Inline, the client waited {format_duration(inline.elapsed)} "
                f"for it; as a background task it had its answer after "
                f"{format_duration(background.elapsed)}"
                + (f", {ratio:.0f} times sooner." if ratio >= 2 else ".")
            )
        parts = [table, Text(""), Text(line, style="bold")]
        if inline.status is not None and inline.status >= 500 and (background.status or 0) < 500:
            failed = inline.failed[0].name if inline.failed else "a task"
            parts.append(
                Text(
                    f"Inline, {failed} failing fails the request: the client gets a {inline.status}. "
                    f"As a background task it still got its {background.status}, and the failure went "
                    "to the log.",
                    style="bold red",
                )
            )
    return Group(*parts)
