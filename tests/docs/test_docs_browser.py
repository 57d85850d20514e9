"""The built site in a real browser: Debian's Chromium, headless, driven by Playwright.

The site is built once (`built_site`), served by a static HTTP server on a free
port of 127.0.0.1 for the module, and stopped after. Screenshots go to
`test-artifacts/`. Chromium is never downloaded: without `/usr/bin/chromium`
(or Playwright) the tests skip locally with the reason, and fail under CI=true.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.docs.conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Debian's Chromium, where the setup step installs it."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def unavailable(reason: str) -> None:
    """Skip locally; under CI a missing browser is a failure, never a skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and the browser test cannot run: {reason}")
    pytest.skip(reason)


class SiteHandler(SimpleHTTPRequestHandler):
    """Serves the built site as a static host would, on whatever port it was given.

    The sitemap still names `site_url` (127.0.0.1:8000): the site's own script
    (`js/instant-anywhere.js`) makes the theme's instant navigation work here
    anyway, as it must wherever the site is deployed. It also gives the types a
    module script and WebAssembly need.
    """

    extensions_map = {
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
        ".whl": "application/zip",
        ".zip": "application/zip",
        ".py": "text/plain; charset=utf-8",
        ".txt": "text/plain; charset=utf-8",
    }

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(
    site: Path, handler: type[SiteHandler] = SiteHandler
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve `site` on a free loopback port, in a thread; stop it with `stop`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, name="docs-site", daemon=True)
    thread.start()
    return server, thread


def stop(server: ThreadingHTTPServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    """Serve the built site on a free loopback port while this module's tests run."""
    server, thread = serve(site)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        stop(server, thread)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        unavailable("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()


def screenshot(page: Any, name: str) -> None:
    """Save the whole page to test-artifacts/.

    The viewport is stretched to the page's height instead of using Playwright's
    `full_page`, which leaves the header's tabs half faded in the picture.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    viewport = page.viewport_size
    page.evaluate("window.scrollTo(0, 0)")
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": viewport["width"], "height": height})
    page.wait_for_timeout(400)  # the header's tabs fade back in
    page.screenshot(path=str(ARTIFACTS / name))
    page.set_viewport_size(viewport)


def test_the_home_page_loads_without_console_errors(page: Any, base_url: str) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
    response = page.goto(base_url)
    assert response is not None and response.ok
    page.wait_for_load_state("networkidle")
    assert "Ravyn background tasks" in page.title()
    assert page.locator("h1").first.inner_text().startswith("Ravyn background tasks")
    tabs = page.locator(".md-tabs__link").all_inner_texts()
    assert [tab.strip() for tab in tabs] == [
        "Home",
        "Guide",
        "How it works",
        "Testing",
        "Try it in your terminal",
        "Performance",
        "API reference",
    ]
    assert errors == []
    screenshot(page, "home.png")


def test_search_finds_add_task(page: Any, base_url: str) -> None:
    page.goto(base_url)
    page.locator("label.md-search__icon, .md-search__input").first.click()
    # typed key by key, as a reader would: the search listens to keyboard events
    page.locator("input.md-search__input").press_sequentially("add_task", delay=20)
    results = page.locator(".md-search-result__item")
    results.first.wait_for()
    assert results.count() > 0
    assert "add_task" in page.locator(".md-search-result").inner_text()


def test_the_quick_start_shows_its_code_and_measured_timeline(page: Any, base_url: str) -> None:
    page.goto(base_url + "guide/quick-start/")
    code = page.locator(".highlight code").first.inner_text()
    assert "def send_welcome_email" in code
    assert "tasks.add_task(send_welcome_email, email)" in code

    figure = page.locator('figure.rt-timeline[data-example="quick_start"]')
    figure.scroll_into_view_if_needed()
    assert figure.is_visible()
    events = figure.locator(".rt-events li").all_inner_texts()
    response = next(i for i, text in enumerate(events) if "the client has its answer" in text)
    task = next(i for i, text in enumerate(events) if "send_welcome_email starts" in text)
    assert response < task, events

    # drawn too: the response's bar ends where the task's begins, or before
    response_bar = figure.locator(".rt-row.rt-response .rt-bar").bounding_box()
    task_bar = figure.locator(".rt-row.rt-task .rt-bar").first.bounding_box()
    assert response_bar is not None and task_bar is not None
    assert response_bar["x"] <= task_bar["x"]
    assert task_bar["width"] > response_bar["width"]
    ARTIFACTS.mkdir(exist_ok=True)
    figure.screenshot(path=str(ARTIFACTS / "quick-start-timeline.png"))
    screenshot(page, "quick-start.png")


def test_the_dark_mode_toggle_works(page: Any, base_url: str) -> None:
    page.goto(base_url + "guide/pitfalls/")
    body = page.locator("body")
    assert body.get_attribute("data-md-color-scheme") == "default"
    page.locator('label[title="Switch to dark mode"]').click()
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(part) for part in re.findall(r"\d+", background)[:3])
    assert red + green + blue < 200, background  # a dark background, not only an attribute
    screenshot(page, "pitfalls-dark.png")
    page.locator('label[title="Switch to light mode"]').click()
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'default'")


def test_every_page_loads_without_console_errors(page: Any, base_url: str, site: Path) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: failed(request, errors))
    pages = sorted(path.parent.relative_to(site).as_posix() for path in site.rglob("index.html"))
    assert len(pages) > 20
    for path in pages:
        url = base_url + ("" if path == "." else path + "/")
        response = page.goto(url, wait_until="load")
        assert response is not None and response.ok, url
    assert errors == []


def failed(request: Any, errors: list[str]) -> None:
    """A failed request is an error, unless leaving the page aborted it (the search index, say)."""
    if request.failure != "net::ERR_ABORTED":
        errors.append(f"request failed: {request.url} ({request.failure})")
