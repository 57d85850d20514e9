"""A mkdocs hook that runs the examples while the site is built and draws what they did.

A page asks for a figure with one line of its own:

    <!-- timeline: quick_start -->

The hook replaces that line with "Try it" (the `uvicorn` command and the `curl`
of the example's catalogue entry) and "What you will see": the example's app,
imported from `docs_src/background_tasks/`, is sent the catalogue's request
through `ravyn.testing.record`, and the recorded events (response, tasks,
printed lines, log records) are drawn as a small timeline in HTML, with their
measured times. Options after the name:

* `full`: list every event the recorder saw, the ASGI plumbing included;
* `no-try`: leave out the "Try it" block (the figure alone).

An example whose catalogue entry has a `probe` is sent a second request by
another client (a thread, outside the event loop) while its work runs, and the
figure shows how long that client waited. One with a `lost_value` must log that
value after the response, never send it; the figure says so, measured.

Every example runs at most once per build. If one cannot be imported, fails to
answer, or answers differently from its catalogue entry (status, body, the
order of its tasks, which tasks fail, a lost value that was not lost), the
build stops with the recorded timeline in the error.
"""

from __future__ import annotations

import contextlib
import functools
import html
import http.server
import importlib
import io
import json
import logging
import os
import posixpath
import re
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

MARKER = re.compile(
    r"^(?P<indent>[ \t]*)<!--\s*timeline:\s*(?P<name>[a-z0-9_]+)(?P<options>(?:\s+[a-z-]+)*)\s*-->[ \t]*$",
    re.M,
)
"""`<!-- timeline: NAME [full] [no-try] -->`, alone on its line (indented inside a tab, say)."""

PLACEHOLDER = "RAVYNTIMELINEFIGURE{}X"
"""Stands in the Markdown for a figure, whose HTML is put in place once the page is converted."""

OPTIONS = frozenset({"full", "no-try"})

EXAMPLES_PACKAGE = "docs_src"

# What the figure lists by default; `full` adds the rest.
SHOWN_KINDS = frozenset(
    {
        "request",
        "response_started",
        "response_complete",
        "task_started",
        "task_finished",
        "task_failed",
        "task_retrying",
        "task_lost",
        "output",
        "log",
        "mark",
    }
)

log = logging.getLogger("mkdocs.hooks.timelines")

_measured: dict[str, Measurement] = {}
_figures: dict[str, list[str]] = {}


@dataclass(frozen=True)
class Measurement:
    """One example, the request it was sent, and what the recorder saw."""

    example: Any  # docs_src.catalogue.Example
    timeline: Any  # ravyn.testing.Timeline
    sent: Any  # the JSON body sent: the catalogue's, local URLs pointed at the receiver
    received: list[Received]  # what a local webhook receiver was sent, if the example needed one
    probe: ProbeResult | None = None  # the second request, for an example that sends one


@dataclass(frozen=True)
class ProbeResult:
    """A second request sent by another client while the first one's work ran.

    Times are on the first request's clock, like the timeline's events.
    """

    method: str
    path: str
    sent: float
    answered: float
    status: int | None

    @property
    def waited(self) -> float:
        """How long the second client waited for its answer."""
        return self.answered - self.sent


# --------------------------------------------------------------------------- mkdocs events


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Make the project importable and snippet paths independent of the working directory."""
    root = project_root(config)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    snippets = config.mdx_configs.setdefault("pymdownx.snippets", {})
    snippets["base_path"] = [str(root)]
    return config


def on_pre_build(config: MkDocsConfig) -> None:
    """Forget the last build's measurements and modules, so edited examples are measured anew."""
    quiet_celery_worker()
    _measured.clear()
    for name in list(sys.modules):
        if name == EXAMPLES_PACKAGE or name.startswith(EXAMPLES_PACKAGE + "."):
            del sys.modules[name]
    importlib.invalidate_caches()


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace every timeline marker of the page with "Try it" and a figure's placeholder."""
    figures: list[str] = []

    def replace(match: re.Match[str]) -> str:
        indent, name = match.group("indent"), match.group("name")
        options = set(match.group("options").split())
        unknown = options - OPTIONS
        if unknown:
            raise PluginError(
                f"{page.file.src_uri}: unknown timeline option(s) {sorted(unknown)} for {name!r}; "
                f"known: {sorted(OPTIONS)}"
            )
        measurement = measure(name)
        setup = posixpath.relpath(SETUP_PAGE, posixpath.dirname(page.file.src_uri) or ".")
        parts = [] if "no-try" in options else [try_it(measurement.example, setup)]
        parts.append(PLACEHOLDER.format(len(figures)))
        figures.append(render_figure(measurement, full="full" in options))
        return textwrap.indent("\n\n".join(parts), indent)

    markdown = MARKER.sub(replace, markdown)
    _figures[page.file.src_uri] = figures
    return markdown


def on_page_content(html_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Put each figure's HTML where its placeholder paragraph ended up."""
    for number, figure in enumerate(_figures.pop(page.file.src_uri, [])):
        placeholder = f"<p>{PLACEHOLDER.format(number)}</p>"
        if placeholder not in html_text:
            raise PluginError(f"{page.file.src_uri}: timeline figure {number} lost its place in the page")
        html_text = html_text.replace(placeholder, figure)
    return html_text


# --------------------------------------------------------------------------- measuring


def leave_logging_alone(**_: Any) -> None:
    """A `celery.signals.setup_logging` receiver that configures nothing."""


def quiet_celery_worker() -> None:
    """Keep the queue examples' embedded Celery worker from printing its log to the build's output.

    The worker configures logging when it starts (a handler printing every job
    it receives and finishes) unless a receiver of Celery's `setup_logging`
    signal is connected. The figures do not need those lines: the recorder
    takes the examples' own log records itself.
    """
    try:
        from celery import signals
    except ImportError:  # no Celery: no queue example runs either
        return
    signals.setup_logging.connect(leave_logging_alone, weak=False, dispatch_uid="ravyn-docs-build")


def project_root(config: MkDocsConfig) -> Path:
    """The folder that holds mkdocs.yml, `docs_src/` and `ravyn/`."""
    return Path(config.config_file_path).resolve().parent


def catalogue() -> dict[str, Any]:
    """The examples' catalogue, `docs_src.catalogue.EXAMPLES`, freshly imported."""
    module = importlib.import_module(f"{EXAMPLES_PACKAGE}.catalogue")
    examples: dict[str, Any] = module.EXAMPLES
    return examples


def measure(name: str) -> Measurement:
    """Run example `name` once per build and check it against its catalogue entry."""
    if name in _measured:
        return _measured[name]
    examples = catalogue()
    if name not in examples:
        raise PluginError(
            f"timeline: no example {name!r} in docs_src/catalogue.py (known: {sorted(examples)})"
        )
    example = examples[name]
    with contextlib.ExitStack() as stack:
        for variable, value in getattr(example, "run_env", {}).items():  # as "Try it" starts it
            stack.enter_context(patched_env(variable, value))
        for variable in example.notes.get("env", {}):
            if variable.endswith("_DIR"):  # keep what the example writes out of the user's folders
                folder = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"docs-{name}-"))
                stack.enter_context(patched_env(variable, folder))
        return measure_example(example)


@contextlib.contextmanager
def patched_env(variable: str, value: str) -> Iterator[None]:
    """Set an environment variable for the duration of the block."""
    previous = os.environ.get(variable)
    os.environ[variable] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[variable]
        else:
            os.environ[variable] = previous


def measure_example(example: Any) -> Measurement:
    """Import `example`'s app, send it its request, check what it did."""
    probe: ProbeResult | None = None
    try:
        module = importlib.import_module(example.import_path)
        app = module.app
    except Exception as exc:
        raise PluginError(f"timeline: cannot import the app of {example.import_path}: {exc!r}") from exc
    if "receiver" in example.notes:
        # the example refuses loopback URLs unless told the receiver is ours
        with (
            patched_env("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1:*"),
            Receiver(local_urls(example.json)) as receiver,
        ):
            sent = receiver.rewrite(example.json)
            timeline = record_request(app, example, sent)
        received = receiver.received
    elif getattr(example, "probe", None) is not None:
        sent, received = example.json, []
        timeline, probe = record_request_and_probe(app, example, sent)
    else:
        sent, received = example.json, []
        timeline = record_request(app, example, sent)
    problems = check(example, timeline)
    if probe is not None and probe.status != 200:
        problems.append(f"the second request, {probe.method} {probe.path}, answered {probe.status}")
    if problems:
        raise PluginError(
            f"timeline: {example.import_path} does not do what docs_src/catalogue.py says:\n  "
            + "\n  ".join(problems)
            + f"\nrecorded:\n{timeline.render()}"
        )
    _measured[example.module] = Measurement(example, timeline, sent, received, probe)
    return _measured[example.module]


def record_request(app: Any, example: Any, body: Any) -> Any:
    """Send the catalogue's request (with JSON `body`) to `app` through `ravyn.testing.record`.

    The example's own printing and logging are recorded in the timeline and kept
    out of the build's console.
    """
    try:
        from ravyn.testing import record
    except Exception as exc:
        raise PluginError(f"timeline: cannot import ravyn.testing to measure the examples: {exc}") from exc

    options: dict[str, Any] = {}
    if body is not None:
        options["json"] = body
    call = functools.partial(record, app, example.method, example.path, **options)
    root = logging.getLogger()
    handlers = root.handlers[:]  # e.g. the console handler Lilya's app sets up
    console = io.StringIO()
    started = time.perf_counter()
    try:
        root.handlers = []
        with contextlib.redirect_stdout(console), contextlib.redirect_stderr(console):
            return anyio.run(call)
    except Exception as exc:
        raise PluginError(
            f"timeline: {example.method} {example.path} on {example.import_path} raised {exc!r}\n"
            f"its console output:\n{console.getvalue()[-3000:]}"
        ) from exc
    finally:
        root.handlers = handlers
        log.debug("timeline: recorded %s in %.2fs", example.module, time.perf_counter() - started)


def record_request_and_probe(app: Any, example: Any, body: Any) -> tuple[Any, ProbeResult]:
    """Send the catalogue's request, and its `probe` from another client while its work runs.

    The second client is a thread, outside the event loop, as a real client is
    outside the server: its clock keeps running while the loop is busy, so the
    time it waits for its answer is the time a real client would wait.
    """
    from ravyn.testing import Recorder

    probe = example.probe
    options: dict[str, Any] = {} if body is None else {"json": body}
    first: dict[str, Any] = {}

    def second_client(recorder: Any) -> tuple[float, float, Any]:
        time.sleep(probe.after)
        sent = time.perf_counter()
        answer = anyio.from_thread.run(functools.partial(recorder.request, probe.method, probe.path))
        return sent, answer.started + answer.response_complete.at, answer

    async def drive() -> tuple[float, float, Any]:
        async with Recorder(app) as recorder, anyio.create_task_group() as group:

            async def send_first() -> None:
                first["timeline"] = await recorder.request(example.method, example.path, **options)

            group.start_soon(send_first)
            return await anyio.to_thread.run_sync(second_client, recorder)

    root = logging.getLogger()
    handlers = root.handlers[:]
    console = io.StringIO()
    try:
        root.handlers = []
        with contextlib.redirect_stdout(console), contextlib.redirect_stderr(console):
            sent, answered, answer = anyio.run(drive)
    except Exception as exc:
        raise PluginError(
            f"timeline: {example.import_path} with a second request raised {exc!r}\n"
            f"its console output:\n{console.getvalue()[-3000:]}"
        ) from exc
    finally:
        root.handlers = handlers
    timeline = first["timeline"]
    start = timeline.started
    return timeline, ProbeResult(probe.method, probe.path, sent - start, answered - start, answer.status)


def check(example: Any, timeline: Any) -> list[str]:
    """What differs between a recorded timeline and the example's catalogue entry."""
    problems = []
    if timeline.status != example.status:
        problems.append(f"status {timeline.status}, expected {example.status}")
    try:
        body = timeline.json()
    except ValueError:
        body = timeline.body
    if example.body is not None and body != example.body:
        problems.append(f"body {body!r}, expected {example.body!r}")
    includes = getattr(example, "body_includes", None)
    if includes and not (isinstance(body, dict) and all(body.get(k) == v for k, v in includes.items())):
        problems.append(f"body {body!r}, expected it to include {includes!r}")
    started = timeline.task_names("task_started")
    if tuple(started) != tuple(example.tasks):
        problems.append(f"tasks started {started}, expected {list(example.tasks)}")
    failed = timeline.task_names("task_failed")
    if tuple(failed) != tuple(getattr(example, "failing", ())):
        problems.append(f"tasks failed {failed}, expected {list(getattr(example, 'failing', ()))}")
    lost = getattr(example, "lost_value", None)
    if lost is not None:
        late = [
            e for e in timeline.events if e.kind in ("log", "output") and lost in str(e.detail.get("text"))
        ]
        if lost in body_text(timeline):
            problems.append(f"the response has {lost}, which the figure says the client never gets")
        elif not late or not timeline.all("response_complete") or late[0] < timeline.response_complete:
            problems.append(f"no line with {lost} after the response was complete")
    if started and not timeline.all("response_complete"):
        problems.append("the response never completed")
    elif started and not timeline.response_complete < timeline.first("task_started"):
        problems.append("a task started before the response was complete")
    return problems


@dataclass(frozen=True)
class Received:
    """One request a local receiver was sent."""

    method: str
    path: str
    body: str


class Receiver:
    """A local HTTP server on 127.0.0.1 that answers 200 to anything, for webhook examples.

    It takes the port of the example's URL (`http://127.0.0.1:9000/...`) when
    that port is free, and a free port otherwise; `rewrite()` then points the
    example's URLs at it. It runs only while the example is recorded.
    """

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.received: list[Received] = []
        self.base = ""

    def __enter__(self) -> Receiver:
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                received.append(Received(self.command, self.path, body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            do_PUT = do_PATCH = do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        wanted = urlsplit(self.urls[0]).port if self.urls else None
        try:
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", wanted or 0), Handler)
        except OSError:  # the example's port is taken: any free one will do
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def rewrite(self, value: Any) -> Any:
        """`value` with every local URL pointed at this receiver."""
        if isinstance(value, dict):
            return {key: self.rewrite(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.rewrite(item) for item in value]
        if isinstance(value, str) and value in self.urls:
            return urlunsplit(urlsplit(value)._replace(netloc=self.base))
        return value


def local_urls(value: Any) -> list[str]:
    """The http URLs to 127.0.0.1 or localhost found in a JSON value."""
    if isinstance(value, dict):
        return [url for item in value.values() for url in local_urls(item)]
    if isinstance(value, list):
        return [url for item in value for url in local_urls(item)]
    if isinstance(value, str) and urlsplit(value).hostname in ("127.0.0.1", "localhost"):
        return [value]
    return []


# --------------------------------------------------------------------------- rendering


SETUP_PAGE = "index.md"
SETUP_ANCHOR = "set-up"
"""Where the site's one set-up box is: every "Try it" links to it."""


def try_it(example: Any, setup: str = SETUP_PAGE) -> str:
    """Markdown: how to start the example and the request to send it.

    `setup` is the home page's path relative to the page being built: the box
    links to the set-up every command in it relies on (the activated `.venv`).
    """
    return "\n".join(
        [
            '!!! example "Try it"',
            "",
            f"    In a terminal at the repository's root, with the virtual environment active"
            f" ([set up once]({setup}#{SETUP_ANCHOR})), start the app:",
            "",
            "    ```bash",
            f"    {example.command()}",
            "    ```",
            "",
            "    and, in a second terminal, send it the request drawn below:",
            "",
            "    ```bash",
            f"    {example.curl()}",
            "    ```",
            *receiver_hint(example),
        ]
    )


def receiver_hint(example: Any) -> list[str]:
    """For an example whose task calls a URL of the request: what happens when nothing listens there."""
    urls = local_urls(example.json)
    if "receiver" not in example.notes or not urls:
        return []
    return [
        "",
        f"    The task then sends its request to `{urls[0]}`. With nothing listening there, the",
        "    answer is the same and the server logs that the delivery failed; the figure below",
        "    had a receiver that answers 200.",
    ]


def fmt_time(seconds: float) -> str:
    """A time since the request, short and readable: `0.4 ms`, `12 ms`, `1.003 s`."""
    ms = seconds * 1000
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{seconds:.3f} s"


def describe(event: Any) -> tuple[str, str]:
    """A CSS class and an HTML description of one event."""
    esc = html.escape
    detail = event.detail
    kind = event.kind
    if kind == "request":
        return "request", f"the request arrives: <code>{esc(detail['method'])} {esc(detail['path'])}</code>"
    if kind == "response_started":
        return "response", f"the response starts: status <strong>{detail['status']}</strong>"
    if kind == "response_complete":
        return (
            "response",
            f"the response is complete ({detail.get('bytes', 0)} bytes): "
            "<strong>the client has its answer</strong>",
        )
    if kind == "task_started":
        return "task", f"task <code>{esc(event.name)}</code> starts"
    if kind == "task_finished":
        return "task", f"task <code>{esc(event.name)}</code> ends, after {fmt_time(detail['duration'])}"
    if kind == "task_failed":
        return (
            "failed",
            f"task <code>{esc(event.name)}</code> fails after {fmt_time(detail['duration'])}: "
            f"<code>{esc(str(detail['error']))}</code>",
        )
    if kind == "task_retrying":
        return (
            "failed",
            f"attempt {detail.get('attempt', '?')} of task <code>{esc(event.name)}</code> fails after "
            f"{fmt_time(detail.get('duration') or 0)}: <code>{esc(str(detail.get('error', '')))}</code>; "
            "it will be tried again",
        )
    if kind == "task_lost":
        return "failed", f"task <code>{esc(event.name)}</code> is lost: cancelled at shutdown"
    if kind == "output":
        return "output", f"printed: <samp>{esc(str(detail.get('text', '')))}</samp>"
    if kind == "log":
        level = esc(str(detail.get("level", "")))
        traceback = " (with traceback)" if detail.get("exc_info") else ""
        return (
            "log",
            f"log <code>{esc(event.name)}</code> {level}: <samp>{esc(str(detail.get('text', '')))}</samp>"
            f"{traceback}",
        )
    if kind == "mark":
        return "output", f"mark <code>{esc(event.name)}</code>"
    if kind == "call_complete":
        return "request", "the ASGI call returns: the server is done with this request"
    return "request", esc(f"{kind} {event.name} {detail}")


@dataclass
class Bar:
    label: str
    start: float
    end: float
    css: str
    note: str


def origin(timeline: Any) -> float:
    """The time the request was handed to the app: zero on the figure's clock.

    The recorder's own clock starts a little earlier, while it sets up its taps.
    """
    requests = timeline.all("request")
    return float(requests[0].at) if requests else 0.0


def bars(timeline: Any) -> list[Bar]:
    """One bar for the response, then one per task, in the order they started."""
    events = timeline.events
    complete = timeline.all("response_complete")
    t0 = origin(timeline)
    end = (complete[0].at if complete else events[-1].at) - t0
    result = [Bar("response", 0.0, end, "response", f"{timeline.status} sent at {fmt_time(end)}")]
    open_tasks: dict[str, list[Bar]] = {}
    for event in events:
        if event.kind == "task_started":
            bar = Bar(event.name, event.at - t0, event.at - t0, "task", "running")
            open_tasks.setdefault(event.name, []).append(bar)
            result.append(bar)
        elif event.kind in ("task_finished", "task_failed", "task_lost") and open_tasks.get(event.name):
            bar = open_tasks[event.name].pop(0)
            bar.end = event.at - t0
            if event.kind == "task_failed":
                bar.css = "failed"
                bar.note = f"failed after {fmt_time(event.detail['duration'])}"
            elif event.kind == "task_lost":
                bar.css = "failed"
                bar.note = "lost at shutdown"
            else:
                bar.note = fmt_time(bar.end - bar.start)
    return result


def render_figure(measurement: Measurement, *, full: bool = False) -> str:
    """Raw HTML (one block, no blank lines) drawing one measured timeline."""
    example, timeline, probe = measurement.example, measurement.timeline, measurement.probe
    esc = html.escape
    t0 = origin(timeline)
    last = max([event.at for event in timeline.events] + ([probe.answered] if probe else []))
    total = last - t0 or 1e-9

    def pct(seconds: float) -> float:
        return round(100 * seconds / total, 3)

    rows = []
    for bar in bars(timeline) + probe_bars(probe, t0):
        left = pct(bar.start)
        width = max(pct(bar.end) - left, 0.4)
        left = min(left, 100 - width)
        note_class, note_style = note_position(left, width)
        rows.append(
            f'<div class="rt-row rt-{bar.css}">'
            f'<span class="rt-label">{esc(bar.label)}</span>'
            f'<span class="rt-track"><span class="rt-bar" style="left:{left}%;width:{width}%"></span>'
            f'<span class="{note_class}" style="{note_style}">{esc(bar.note)}</span></span>'
            "</div>"
        )
    axis = (
        '<div class="rt-row rt-axis"><span class="rt-label"></span><span class="rt-track">'
        f'<span class="rt-tick" style="left:0%">0</span>'
        f'<span class="rt-tick rt-tick-mid" style="left:50%">{fmt_time(total / 2)}</span>'
        f'<span class="rt-tick rt-tick-end" style="left:100%">{fmt_time(total)}</span>'
        "</span></div>"
    )
    entries = [
        (event.at - t0, *describe(event)) for event in timeline.events if full or event.kind in SHOWN_KINDS
    ]
    entries += probe_entries(probe, t0)
    entries.sort(key=lambda entry: entry[0])  # stable: events keep their recorded order
    items = [
        f'<li class="rt-ev rt-{css}"><span class="rt-at">{fmt_time(at)}</span>'
        f'<span class="rt-what">{text}</span></li>'
        for at, css, text in entries
    ]
    body = body_text(timeline)
    request = f"{example.method} {example.path}"
    if measurement.sent is not None:
        request += " " + json.dumps(measurement.sent)
    receiver_note = (
        " For the webhook, the build ran a local receiver that answers 200, at the URL sent."
        if measurement.received
        else ""
    )
    queue = getattr(example, "queue", None)
    queue_note = (
        f" The job itself went to the {esc(queue.capitalize())} queue: a worker runs it outside this request."
        if queue
        else ""
    )
    receipts = "".join(
        '<p class="rt-exchange"><span>receiver got</span>'
        f"<code>{esc(f'{r.method} {r.path} {r.body}')}</code></p>"
        for r in measurement.received
    )
    return (
        f'<figure class="rt-timeline" data-example="{esc(example.module)}" data-search-exclude>'
        '<p class="rt-title">What you will see</p>'
        f'<p class="rt-exchange"><span>request</span><code>{esc(request)}</code></p>'
        f'<p class="rt-exchange"><span>response</span><code>{timeline.status} {esc(body)}</code></p>'
        f"{receipts}"
        f'<div class="rt-chart" role="img" aria-label="{esc(aria_label(timeline, probe))}">'
        f"{''.join(rows)}{axis}</div>"
        f'<ol class="rt-events">{"".join(items)}</ol>'
        f"{harm(measurement)}"
        "<figcaption>Measured when this page was built: <code>ravyn.testing.record</code> sent the "
        f"request above to <code>{esc(example.import_path)}:app</code>. Times are since the request "
        f"arrived.{receiver_note}{queue_note}</figcaption>"
        "</figure>"
    )


SECOND_CLIENT = "another client"
"""The label of the second request's bar: short, so it fits the label column on a phone."""


def probe_bars(probe: ProbeResult | None, t0: float) -> list[Bar]:
    """The second request's bar, from when it was sent to when it was answered."""
    if probe is None:
        return []
    note = f"{probe.status} after {fmt_time(probe.waited)}"
    return [Bar(SECOND_CLIENT, probe.sent - t0, probe.answered - t0, "response", note)]


def probe_entries(probe: ProbeResult | None, t0: float) -> list[tuple[float, str, str]]:
    """The second request's two lines of the event list: sent, and answered."""
    if probe is None:
        return []
    request = f"<code>{html.escape(f'{probe.method} {probe.path}')}</code>"
    return [
        (probe.sent - t0, "request", f"{SECOND_CLIENT} sends {request}"),
        (
            probe.answered - t0,
            "response",
            f"{SECOND_CLIENT} has its answer ({probe.status}), <strong>after waiting "
            f"{fmt_time(probe.waited)}</strong>",
        ),
    ]


def harm(measurement: Measurement) -> str:
    """A sentence under the event list stating the measured cost, for an example that shows one."""
    example, timeline, probe = measurement.example, measurement.timeline, measurement.probe
    t0 = origin(timeline)
    sentences = []
    if probe is not None:
        sentences.append(
            f"{SECOND_CLIENT.capitalize()}'s <code>{html.escape(f'{probe.method} {probe.path}')}</code>, "
            f"sent at {fmt_time(probe.sent - t0)}, was answered at {fmt_time(probe.answered - t0)}: "
            f"<em>it waited {fmt_time(probe.waited)}</em>."
        )
    lost = getattr(example, "lost_value", None)
    if lost is not None:
        complete = timeline.response_complete.at - t0
        computed = next(
            e.at - t0
            for e in timeline.events
            if e.kind in ("log", "output") and lost in str(e.detail.get("text"))
        )
        sentences.append(
            f"The client's answer, complete at {fmt_time(complete)}, has no <code>{html.escape(lost)}</code> "
            f"in it. The task computed <code>{html.escape(lost)}</code> at {fmt_time(computed)}, "
            "<em>when the client had already gone</em>."
        )
    if not sentences:
        return ""
    return f'<p class="rt-harm"><strong>Measured:</strong> {" ".join(sentences)}</p>'


def note_position(left: float, width: float) -> tuple[str, str]:
    """Where a bar's note goes: inside a wide bar, after a short one, before one at the right edge."""
    if width >= 30:
        return "rt-note rt-note-in", f"left:{round(left + 0.6, 3)}%"
    if left + width > 70:
        return "rt-note", f"right:{round(100 - left + 0.8, 3)}%"
    return "rt-note", f"left:{round(left + width + 0.8, 3)}%"


def body_text(timeline: Any) -> str:
    """The response body as compact text (JSON re-encoded when it is JSON)."""
    if not timeline.body:
        return "(no body)"
    try:
        return json.dumps(timeline.json(), separators=(", ", ": "))
    except ValueError:
        return timeline.body.decode("utf-8", "replace")


def aria_label(timeline: Any, probe: ProbeResult | None = None) -> str:
    """The chart in one sentence, for screen readers."""
    t0 = origin(timeline)
    complete = timeline.response_complete.at - t0
    parts = [f"Response {timeline.status} complete at {fmt_time(complete)}"]
    for bar in bars(timeline)[1:] + probe_bars(probe, t0):
        parts.append(f"task {bar.label} from {fmt_time(bar.start)} to {fmt_time(bar.end)}")
    return "; ".join(parts) + "."
