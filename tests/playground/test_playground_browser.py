"""The playground in a real browser: Debian's Chromium, headless, the site on 127.0.0.1, nothing else.

The quick start's Run button starts Pyodide from the site, runs the example and
draws the response before the task; an edit that raises in the task shows the
logged failure; a syntax error shows its line and leaves the page usable; Stop
ends a handler that never returns. Then the time to the first result is
measured again on a warm cache, in a fresh page of the same browser profile.
Screenshots go to `test-artifacts/`. Every other host name resolves nowhere, and
the test checks that no request left 127.0.0.1.
"""

from __future__ import annotations

import ast
import functools
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from docs_src.catalogue import EXAMPLES
from tests.docs.conftest import ROOT
from tests.docs.test_docs_browser import ARTIFACTS, CHROMIUM_ARGS, chromium_path, unavailable

COLD_TIMEOUT_MS = 120_000
"""The first run downloads and starts Python: generous, on a loaded machine."""

QUICK_START = (ROOT / "docs_src/background_tasks/quick_start.py").read_text("utf-8")


class SiteHandler(SimpleHTTPRequestHandler):
    """Serves the site, with the types a module script and WebAssembly need, and notes each path."""

    extensions_map = {
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
        ".whl": "application/zip",
        ".zip": "application/zip",
        ".py": "text/plain; charset=utf-8",
    }
    served: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        self.served.append(self.path)


@pytest.fixture(scope="module")
def server(site: Path, pyodide_installed: Path) -> Iterator[tuple[str, list[str]]]:
    served: list[str] = []
    handler = type("Handler", (SiteHandler,), {"served": served})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, name="playground-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def context(server: tuple[str, list[str]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A browser profile of its own, on disk as a reader's is, so that "warm" has its real cache."""
    executable = chromium_path()
    if executable is None:
        unavailable("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install playwright)")
    # every host but 127.0.0.1 resolves nowhere: a CDN request would fail, and be seen below
    offline = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            args=[*CHROMIUM_ARGS, offline],
            viewport={"width": 1280, "height": 900},
            color_scheme="light",
        )
        context.elsewhere = []
        context.errors = []
        base = server[0]
        context.on("request", lambda r: None if r.url.startswith(base) else context.elsewhere.append(r.url))
        try:
            yield context
        finally:
            context.close()


def open_quick_start(context: Any, base: str) -> tuple[Any, Any]:
    page = context.new_page()
    page.on("console", lambda m: context.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: context.errors.append(str(error)))
    page.goto(base + "guide/quick-start/")
    panel = page.locator('.rp-playground[data-module="quick_start"]')
    panel.locator(".rp-run").wait_for()  # visible once playground.js has set the panel up
    return page, panel


def run_and_wait(panel: Any, timeout: float = COLD_TIMEOUT_MS) -> float:
    """Press Run; the seconds until the output shows a figure or an error."""
    before = panel.locator(".rp-output").get_attribute("data-elapsed")
    started = time.perf_counter()
    panel.locator(".rp-run").click()
    panel.page.wait_for_function(
        "([panel, before]) => { const out = panel.querySelector('.rp-output');"
        " return !out.hidden && out.dataset.elapsed !== undefined && out.dataset.elapsed !== before; }",
        arg=[panel.element_handle(), before],
        timeout=timeout,
    )
    return time.perf_counter() - started


def events(panel: Any) -> list[str]:
    return [text.replace("\n", " ") for text in panel.locator(".rp-output .rt-events li").all_inner_texts()]


def index_of(items: list[str], text: str) -> int:
    return next(i for i, item in enumerate(items) if text in item)


def shoot(page: Any, panel: Any, name: str, *, with_code: bool) -> None:
    """The panel (and the example's code above it) as the reader sees it."""
    ARTIFACTS.mkdir(exist_ok=True)
    top = panel.evaluate("e => (e.previousElementSibling || e).getBoundingClientRect().top + scrollY")
    if not with_code:
        top = panel.evaluate("e => e.getBoundingClientRect().top + scrollY") - 12
    bottom = panel.evaluate("e => e.getBoundingClientRect().bottom + scrollY") + 12
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": min(max(int(bottom - top) + 80, 400), height)})
    # from the top down, so the theme shows no "Back to top" button (it does when scrolling up)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(150)
    page.evaluate(f"window.scrollTo(0, {max(top - 70, 0)})")  # 70: below the sticky header
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / name))
    page.set_viewport_size({"width": 1280, "height": 900})


def raising_in_task(source: str, task: str) -> tuple[str, int]:
    function = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == task
    )
    first = function.body[0]
    lines = source.splitlines(keepends=True)
    lines.insert(first.lineno - 1, " " * first.col_offset + 'raise RuntimeError("the mail server is down")\n')
    return "".join(lines), first.lineno


def test_the_quick_start_runs_in_the_browser(context: Any, server: tuple[str, list[str]]) -> None:
    base, served = server
    example = EXAMPLES["quick_start"]
    task = example.tasks[0]
    page, panel = open_quick_start(context, base)
    assert panel.locator(".rp-output").is_hidden()
    assert not any("/playground/pyodide/" in path for path in served), "Pyodide loaded before any Run"
    shoot(page, panel, "playground-before-run.png", with_code=True)

    # the first run: Pyodide from the site, the wheels with micropip, then the example
    cold = run_and_wait(panel)
    items = events(panel)
    response = index_of(items, "the client has its answer")
    assert response < index_of(items, f"task {task} starts"), items
    assert f"{example.status} " in panel.locator(".rp-output .rt-exchange").nth(1).inner_text()
    assert "ran inline" in panel.locator(".rp-output .rp-inline").inner_text()  # no threads in a browser
    assert "Welcome email sent to ada@example.com" in panel.locator(".rp-output").inner_text()
    shoot(page, panel, "playground-after-run.png", with_code=False)

    # an edit that raises inside the task: the response still comes first, then the logged failure
    source, line = raising_in_task(QUICK_START, task)
    panel.locator(".rp-edit").click()
    panel.locator("textarea.rp-code").fill(source)
    run_and_wait(panel, timeout=30_000)
    items = events(panel)
    failed = index_of(items, f"task {task} fails")
    assert index_of(items, "the client has its answer") < failed
    assert "RuntimeError: the mail server is down" in items[failed]
    logged = index_of(items, "log ravyn.background ERROR")
    assert "(with traceback)" in items[logged]
    traceback = panel.locator(".rp-output .rp-traceback").inner_text()
    assert f'File "docs_src/background_tasks/quick_start.py", line {line}, in {task}' in traceback
    shoot(page, panel, "playground-edited-failing-task.png", with_code=False)

    # a syntax error: named with its line; Reset and Run again, and the page works as before
    panel.locator("textarea.rp-code").fill(QUICK_START + "\ndef broken(:\n")
    run_and_wait(panel, timeout=30_000)
    error = panel.locator(".rp-output .rp-error").inner_text()
    assert "SyntaxError" in error
    assert f"on line {QUICK_START.count(chr(10)) + 2}" in error
    shoot(page, panel, "playground-syntax-error.png", with_code=False)
    panel.locator(".rp-reset").click()
    hot = run_and_wait(panel, timeout=30_000)
    assert "the client has its answer" in " ".join(events(panel))

    # a handler that never returns: Stop ends it, and the page is left as it was
    panel.locator("textarea.rp-code").fill(QUICK_START.replace("account_id = next(", "while True: pass  # ("))
    panel.locator(".rp-run").click()
    panel.locator(".rp-stop").click()
    panel.locator(".rp-output", has_text="Stopped").wait_for(timeout=10_000)
    assert panel.locator(".rp-run").is_enabled() and panel.locator(".rp-stop").is_hidden()
    page.close()

    # warm cache: a fresh page, the files already in the browser's cache
    page, panel = open_quick_start(context, base)
    warm = run_and_wait(panel)
    items = events(panel)
    assert index_of(items, "the client has its answer") < index_of(items, f"task {task} starts")
    page.close()

    report = (
        f"playground, quick start: first result {cold:.1f}s cold, {warm:.1f}s on a warm cache "
        f"(a fresh page), {hot:.2f}s for a run once Python is up"
    )
    print(report)
    (ARTIFACTS / "playground-timings.txt").write_text(report + "\n")

    assert context.elsewhere == [], "requests left 127.0.0.1"
    assert any(path.startswith("/playground/pyodide/pyodide.asm.wasm") for path in served)
    assert any("/playground/wheels/" in path and "lilya-" in path for path in served)
    assert context.errors == []
