"""The in-page playground's Python side: run one example of the guide and draw what it did.

`playground-worker.js` loads this module into Pyodide, next to a copy of the docs
build's hook `docs/hooks/timelines.py`; the tests import it under CPython. For one
run it:

1. writes the (possibly edited) source as `docs_src/background_tasks/<module>.py`,
   so that its logger and the figure carry the same names as on the built page;
2. executes it afresh as that module (whatever `docs_src` is on `sys.path`) and takes its `app`;
3. sends it the catalogue's request through `ravyn.testing.record`, as the build
   hook does (printing and logging kept out of the console);
4. draws the timeline with the hook's own `render_figure`, so the figure looks like
   the build-time one, retitled as a run in the browser.

Errors in the source (a syntax error, an exception at import, an exception the app
lets escape) come back as text naming the error and the line of the example; a
failing task is drawn in the figure, with its traceback below it.

Where there are no threads (`sys.platform == "emscripten"`), `ravyn.threads` runs
sync handlers and tasks inline and logs a warning saying so; the result carries
that warning, and `prepare()` makes Lilya's and anyio's own thread offloading
(`anyio.to_thread.run_sync`) run inline through `ravyn.threads` as well.
"""

from __future__ import annotations

import contextlib
import functools
import html
import importlib
import importlib.util
import io
import json
import logging
import os
import re
import sys
import tempfile
import traceback
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

PACKAGE = "docs_src.background_tasks"
MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_state: dict[str, Any] = {}


# --------------------------------------------------------------------------- setting up


def prepare(root: str, timelines_path: str) -> None:
    """Make `root` the folder the examples are written to, and load the build hook's drawing code.

    `timelines_path` is a copy of `docs/hooks/timelines.py`. In a browser, where
    mkdocs is not installed, the few mkdocs names it imports are stubbed.
    """
    base = Path(root)
    (base / PACKAGE.replace(".", "/")).mkdir(parents=True, exist_ok=True)
    _stub_mkdocs()
    spec = importlib.util.spec_from_file_location("ravyn_playground_timelines", timelines_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the timeline drawing code from {timelines_path}")
    timelines = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = timelines  # its dataclasses look their module up there
    spec.loader.exec_module(timelines)
    _state.update(root=base, timelines=timelines)
    _run_thread_offloading_inline()


def _stub_mkdocs() -> None:
    """Stand-ins for the mkdocs names `timelines.py` imports, where mkdocs is not installed."""
    if importlib.util.find_spec("mkdocs") is not None:
        return

    class PluginError(Exception):
        pass

    names = {
        "mkdocs": {},
        "mkdocs.config": {},
        "mkdocs.config.defaults": {"MkDocsConfig": object},
        "mkdocs.exceptions": {"PluginError": PluginError},
        "mkdocs.structure": {},
        "mkdocs.structure.files": {"Files": object},
        "mkdocs.structure.pages": {"Page": object},
    }
    for name, attributes in names.items():
        module = types.ModuleType(name)
        module.__dict__.update(attributes)
        sys.modules.setdefault(name, module)


def _run_thread_offloading_inline() -> None:
    """Where threads cannot start, route `anyio.to_thread.run_sync` through `ravyn.threads.run_sync`.

    Lilya (for its own sync callables) calls `anyio.to_thread.run_sync`, whose
    worker thread cannot start in Pyodide. `ravyn.threads.run_sync` runs the call
    inline there, with its warning.
    """
    import anyio.to_thread

    import ravyn.threads

    if ravyn.threads.THREADS_AVAILABLE or getattr(anyio.to_thread.run_sync, "_ravyn_inline", False):
        return

    async def run_sync(func: Callable[..., Any], *args: Any, **options: Any) -> Any:
        return await ravyn.threads.run_sync(functools.partial(func, *args))

    run_sync._ravyn_inline = True  # type: ignore[attr-defined]
    anyio.to_thread.run_sync = run_sync


# --------------------------------------------------------------------------- running


async def run(
    module: str,
    source: str,
    method: str,
    path: str,
    body: str | None = None,
    temp_dirs: str = "",
) -> str:
    """Run `source` as example `module`, send it `method path` with JSON `body`; a JSON result.

    The result has `ok` (False when the example could not be run at all), `html`
    (the figure, or the error), `status`, `inline` (sync callables ran inline),
    `events` (`[kind, name, milliseconds]`, for tests) and `error` (`type`,
    `message`, `line`, `traceback`) when something went wrong.
    """
    if "root" not in _state:
        raise RuntimeError("call prepare() first")
    if not MODULE_NAME.fullmatch(module):
        raise ValueError(f"not a module name: {module!r}")
    sent = json.loads(body) if body else None
    with _temporary_dirs([name for name in temp_dirs.split(",") if name]):
        return json.dumps(await _run(module, source, method, path, sent))


async def _run(module: str, source: str, method: str, path: str, sent: Any) -> dict[str, Any]:
    root: Path = _state["root"]
    import ravyn.threads

    filename = root / PACKAGE.replace(".", "/") / f"{module}.py"
    filename.write_text(source, "utf-8")
    qualified = f"{PACKAGE}.{module}"
    # the "ran inline" warning is logged once per process: once per run here, so each figure says so
    ravyn.threads._warned_inline = False

    with _module_entry(qualified):
        try:
            app = _load(qualified, filename).app
        except BaseException as exc:  # a syntax error, or anything the module raises when imported
            return _failure(exc, filename, root, "importing the example")
        return await _record(app, module, qualified, filename, method, path, sent)


async def _record(
    app: Any, module: str, qualified: str, filename: Path, method: str, path: str, sent: Any
) -> dict[str, Any]:
    root: Path = _state["root"]
    timelines = _state["timelines"]

    from ravyn.testing import record

    escaped: list[BaseException] = []

    async def catching(scope: Any, receive: Any, send: Any) -> None:
        try:
            await app(scope, receive, send)
        except BaseException as exc:
            escaped.append(exc)
            raise

    options: dict[str, Any] = {"raise_app_exceptions": False}
    if sent is not None:
        options["json"] = sent
    with _quiet_console() as tracebacks:
        try:
            timeline = await record(catching, method, path, **options)
        except BaseException as exc:  # the app's startup or shutdown failed, say
            return _failure(exc, filename, root, "sending the request")

    example = types.SimpleNamespace(module=module, method=method, path=path, json=sent, import_path=qualified)
    measurement = timelines.Measurement(example, timeline, sent, [])
    try:
        figure = retitle(timelines.render_figure(measurement))
    except Exception as exc:  # e.g. no response at all to draw
        figure = f'<p class="rp-note">The timeline could not be drawn: {html.escape(repr(exc))}</p>'
    inline = any(event.kind == "log" and event.name == "ravyn.threads" for event in timeline.events)
    parts = [figure]
    if inline:
        parts.insert(0, INLINE_NOTE)
    error = None
    if escaped:
        error = explain(escaped[0], filename, root)
        parts.append(error_html(error, "The app raised while answering"))
    for name, exc in tracebacks:
        logged = explain(exc, filename, root)
        where = f", line {logged['line']} of the example" if logged["line"] else ""
        parts.append(
            f'<div class="rp-traceback" data-line="{logged["line"] or ""}"><p class="rp-error-title">'
            f"The traceback <code>{html.escape(name)}</code> logged"
            f" ({html.escape(logged['type'])}{where}):</p>"
            f"<pre>{html.escape(logged['traceback'])}</pre></div>"
        )
    t0 = timelines.origin(timeline)
    return {
        "ok": True,
        "html": "".join(parts),
        "status": timeline.status,
        "inline": inline,
        "events": [[e.kind, e.name, round((e.at - t0) * 1000, 3)] for e in timeline.events],
        "error": error,
    }


INLINE_NOTE = (
    '<p class="rp-note rp-inline">No threads in a browser: the sync handler and sync tasks ran '
    "<strong>inline</strong>, on the event loop (<code>ravyn.threads</code> logs a warning saying so, "
    "in the list below). The order is the same as under a server: the response is complete before a "
    "task starts. Under uvicorn they run on worker threads instead.</p>"
)


def retitle(figure: str) -> str:
    """The build-time figure, said to have been run here, in this browser."""
    figure = figure.replace('class="rt-timeline"', 'class="rt-timeline rp-timeline"', 1)
    figure = figure.replace(
        '<p class="rt-title">What you will see</p>',
        '<p class="rt-title">What your browser just ran</p>',
        1,
    )
    return re.sub(
        r"<figcaption>Measured when this page was built: ",
        f"<figcaption>Run just now in this browser, on Python {sys.version.split()[0]}"
        f" ({html.escape(sys.platform)}): ",
        figure,
        count=1,
    )


def _load(qualified: str, filename: Path) -> types.ModuleType:
    """Execute `filename` as module `qualified`, whatever `docs_src` is on `sys.path` (if any)."""
    spec = importlib.util.spec_from_file_location(qualified, filename)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {filename}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module  # as an import would: dataclasses and pickling look it up there
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _module_entry(qualified: str) -> Iterator[None]:
    """Leave `sys.modules[qualified]` as it was once the run is over."""
    saved = sys.modules.get(qualified)
    try:
        yield
    finally:
        if saved is None:
            sys.modules.pop(qualified, None)
        else:
            sys.modules[qualified] = saved


@contextlib.contextmanager
def _quiet_console() -> Iterator[list[tuple[str, BaseException]]]:
    """Keep the example's printing and the app's console logging out of the console, as the
    build does; collect the exceptions of log records that carry one (a failed task's)."""
    tracebacks: list[tuple[str, BaseException]] = []

    class Tracebacks(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info and record.exc_info[1] is not None:
                tracebacks.append((record.name, record.exc_info[1]))

    root = logging.getLogger()
    handlers = root.handlers[:]
    console = io.StringIO()
    try:
        root.handlers = [Tracebacks(logging.DEBUG)]
        with contextlib.redirect_stdout(console), contextlib.redirect_stderr(console):
            yield tracebacks
    finally:
        root.handlers = handlers


@contextlib.contextmanager
def _temporary_dirs(variables: list[str]) -> Iterator[None]:
    """Point each environment variable at a fresh folder for the run (`UPLOAD_DIR`, ...)."""
    saved = {name: os.environ.get(name) for name in variables}
    with contextlib.ExitStack() as stack:
        for name in variables:
            os.environ[name] = stack.enter_context(tempfile.TemporaryDirectory(prefix="playground-"))
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


# --------------------------------------------------------------------------- errors


def explain(exc: BaseException, filename: Path, root: Path) -> dict[str, Any]:
    """The error's type, message, the example's line it points at, and a short traceback."""
    line: int | None = None
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename) == filename:
        line = exc.lineno
        text = "".join(traceback.format_exception_only(type(exc), exc))
    else:
        frames = [
            frame
            for frame in traceback.extract_tb(exc.__traceback__)
            if not frame.filename.startswith("<frozen") and frame.filename != __file__
        ]
        mine = [index for index, frame in enumerate(frames) if Path(frame.filename) == filename]
        if mine:
            line = frames[mine[-1]].lineno
            frames = frames[mine[0] :]  # from the example's first frame: the framework's are noise
        text = "Traceback (most recent call last):\n" if frames else ""
        text += "".join(traceback.format_list(frames))
        text += "".join(traceback.format_exception_only(type(exc), exc))
    message = str(exc.msg if isinstance(exc, SyntaxError) else exc)
    return {
        "type": type(exc).__name__,
        "message": message,
        "line": line,
        "traceback": _short_paths(text, root),
    }


def _failure(exc: BaseException, filename: Path, root: Path, doing: str) -> dict[str, Any]:
    error = explain(exc, filename, root)
    return {
        "ok": False,
        "html": error_html(error, f"Error while {doing}"),
        "status": None,
        "inline": False,
        "events": [],
        "error": error,
    }


def error_html(error: dict[str, Any], heading: str) -> str:
    """An error as the output panel shows it: what, where, and the traceback."""
    where = f" on line {error['line']}" if error["line"] else ""
    return (
        f'<div class="rp-error" data-line="{error["line"] or ""}">'
        f'<p class="rp-error-title">{html.escape(heading)}{where}: '
        f"<code>{html.escape(error['type'])}: {html.escape(error['message'])}</code></p>"
        f"<pre>{html.escape(error['traceback'])}</pre></div>"
    )


def _short_paths(text: str, root: Path) -> str:
    """Paths of the example shown as in the repository (`docs_src/...`), site-packages shortened."""
    text = text.replace(str(root) + os.sep, "")
    return re.sub(r'File "[^"]*?/site-packages/', 'File "', text)
