"""The playground in a real browser: Debian's Chromium, headless, the site on 127.0.0.1, nothing else.

The quick start's Run button starts Pyodide from the site, runs the example and
draws the response before the task; pydantic imports and validates; an edit that
raises in the task shows the logged failure; a syntax error shows its line and
leaves the page usable; Stop ends a handler that never returns; the editor's Tab
indents and Esc then Tab leaves it. Following a link to another page keeps
Python running (the theme's instant navigation). Then the time to the first
result is measured again on a warm cache, in a fresh page of the same browser
profile. The three times go to `test-artifacts/playground-timings.txt`, the
screenshots beside them. Every other host name resolves nowhere, and the test
checks that no request left 127.0.0.1.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docs_src.catalogue import EXAMPLES
from tests.docs.conftest import ROOT
from tests.docs.test_docs_browser import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    SiteHandler,
    chromium_path,
    serve,
    stop,
    unavailable,
)

COLD_TIMEOUT_MS = 120_000
"""The first run downloads and starts Python: generous, on a loaded machine."""

QUICK_START = (ROOT / "docs_src/background_tasks/quick_start.py").read_text("utf-8")


class NotingHandler(SiteHandler):
    """The site, served as tests/docs serves it, noting each path asked for."""

    served: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        self.served.append(self.path)


@pytest.fixture(scope="module")
def server(site: Path, pyodide_installed: Path) -> Iterator[tuple[str, list[str]]]:
    served: list[str] = []
    handler = type("Handler", (NotingHandler,), {"served": served})
    httpd, thread = serve(site, handler)
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", served
    finally:
        stop(httpd, thread)


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


def open_page(context: Any, url: str) -> Any:
    page = context.new_page()
    page.on("console", lambda m: context.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: context.errors.append(str(error)))
    page.goto(url)
    return page


def open_quick_start(context: Any, base: str) -> tuple[Any, Any]:
    page = open_page(context, base + "guide/quick-start/")
    panel = page.locator('.rp-playground[data-module="quick_start"]')
    panel.locator(".rp-run").wait_for()  # visible once playground.js has set the panel up
    return page, panel


def run_and_wait(panel: Any, timeout: float = COLD_TIMEOUT_MS) -> float:
    """Press Run; the seconds until the output shows a figure or an error."""
    # the output's time is cleared first: two quick runs may well take the same number of ms
    panel.evaluate("p => { delete p.querySelector('.rp-output').dataset.elapsed; }")
    started = time.perf_counter()
    panel.locator(".rp-run").click()
    panel.page.wait_for_function(
        "panel => { const out = panel.querySelector('.rp-output');"
        " return !out.hidden && out.dataset.elapsed !== undefined; }",
        arg=panel.element_handle(),
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


def python_state(page: Any) -> str | None:
    """What playground.js says of the page's Python: starting, ready, stopped (or None: not started)."""
    state: str | None = page.evaluate("document.documentElement.dataset.rpPython || null")
    return state


def test_the_quick_start_runs_in_the_browser(context: Any, server: tuple[str, list[str]]) -> None:
    base, served = server
    example = EXAMPLES["quick_start"]
    task = example.tasks[0]

    # a page without a Run panel starts no Python
    home = open_page(context, base)
    home.wait_for_load_state("networkidle")
    assert python_state(home) is None
    assert not any("/playground/pyodide/" in path for path in served), (
        "Pyodide loaded on a page without a panel"
    )
    home.close()

    # the first run, pressed as soon as the page shows: Pyodide from the site, the wheels, then the example
    page, panel = open_quick_start(context, base)
    assert panel.locator(".rp-output").is_hidden()
    page.wait_for_load_state("networkidle")
    assert python_state(page) is None  # the panel is in view, and still no Python before Run
    assert not any("/playground/pyodide/" in path for path in served), "Pyodide loaded before Run"
    cold = run_and_wait(panel)
    items = events(panel)
    response = index_of(items, "the client has its answer")
    assert response < index_of(items, f"task {task} starts"), items
    assert f"{example.status} " in panel.locator(".rp-output .rt-exchange").nth(1).inner_text()
    assert "ran inline" in panel.locator(".rp-output .rp-inline").inner_text()  # no threads in a browser
    assert "Welcome email sent to ada@example.com" in panel.locator(".rp-output").inner_text()
    shoot(page, panel, "playground-after-run.png", with_code=False)

    # pydantic is there, offline: ravyn's parameters may be validated with it
    panel.locator(".rp-edit").click()
    with_pydantic = "import pydantic\n" + QUICK_START.replace(
        "account_id = next(account_ids)", 'account_id = pydantic.TypeAdapter(int).validate_python("5")'
    )
    panel.locator("textarea.rp-code").fill(with_pydantic)
    run_and_wait(panel, timeout=30_000)
    assert '201 {"account_id": 5,' in panel.locator(".rp-output .rt-exchange").nth(1).inner_text()

    # the keyboard: Tab indents; Esc then Tab leaves the editor, as the hint under it says
    editor = panel.locator("textarea.rp-code")
    assert "press Esc and then Tab" in panel.locator(".rp-keys").inner_text()
    assert editor.get_attribute("aria-describedby") == panel.locator(".rp-keys").get_attribute("id")
    editor.fill("x = 1")
    editor.press("End")
    editor.press("Tab")
    assert editor.input_value() == "x = 1    "
    assert editor.evaluate("e => document.activeElement === e")
    editor.press("Escape")
    editor.press("Tab")
    assert editor.input_value() == "x = 1    "
    assert not editor.evaluate("e => document.activeElement === e"), "Esc then Tab did not leave the editor"

    # an edit that raises inside the task: the response still comes first, then the logged failure
    source, line = raising_in_task(QUICK_START, task)
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

    # following a link keeps the page's Python (instant navigation): the next page's first run is quick
    panel.locator(".rp-reset").click()
    run_and_wait(panel, timeout=COLD_TIMEOUT_MS)  # Stop ended Python: this run starts it again
    page.evaluate("window.rpSamePage = true")
    before = panel.element_handle()
    page.locator('a[href$="decorator/"]:visible').first.click()
    page.wait_for_url("**/guide/decorator/")
    # the address changes before the theme swaps the content in: wait for the old panel to go,
    # or a busy machine runs the old page's panel and then waits on the new one's output
    page.wait_for_function("panel => !panel.isConnected", arg=before)
    assert page.evaluate("window.rpSamePage === true"), "the link reloaded the page: Python started again"
    assert python_state(page) == "ready"
    other = page.locator(".rp-playground").first
    navigated = run_and_wait(other, timeout=30_000)
    took = other.locator(".rp-took").inner_text()
    assert took.startswith("Ran the example"), took  # not "Python started and ran"
    page.close()

    # warm cache: a fresh page, the files already in the browser's cache
    page, panel = open_quick_start(context, base)
    warm = run_and_wait(panel)
    items = events(panel)
    assert index_of(items, "the client has its answer") < index_of(items, f"task {task} starts")
    page.close()

    report = (
        f"playground: first result {cold:.1f}s cold (quick start, empty cache), {warm:.1f}s on a warm cache "
        f"(a fresh page), {navigated:.2f}s after following a link to another page, "
        f"{hot:.2f}s for a run once Python is up (Run pressed as soon as each page showed)"
    )
    print(report)
    (ARTIFACTS / "playground-timings.txt").write_text(report + "\n")

    assert context.elsewhere == [], "requests left 127.0.0.1"
    assert any(path.startswith("/playground/pyodide/pyodide.asm.wasm") for path in served)
    assert any("/playground/wheels/" in path and "lilya-" in path for path in served)
    assert context.errors == []
