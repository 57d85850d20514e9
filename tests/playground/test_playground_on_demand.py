"""The playground costs nothing until Run, and its Python survives page changes wherever the site is served.

Every page with Run buttons, opened with the browser's cache off at a phone's
width and at a desktop's, scrolled past every panel and left alone until the
network is idle, downloads less than 1 MB and no part of Pyodide. The theme's instant navigation, which
keeps the playground's Python from page to page, works with the site served
under a sub-folder on a port that is not `site_url`'s.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.docs.test_docs_browser import CHROMIUM_ARGS, SiteHandler, chromium_path, stop, unavailable

PAGE_BUDGET = 1_000_000
"""Bytes a page with Run buttons may download before any click."""


class CountingHandler(SiteHandler):
    """The site as a static host serves it, noting the path of each file sent."""

    served: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        self.served.append(self.path)


@pytest.fixture(scope="module")
def under_a_folder(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """The site at http://127.0.0.1:<free port>/docs/: neither site_url's port nor its path."""
    root = tmp_path_factory.mktemp("host")
    os.symlink(site, root / "docs")
    served: list[str] = []
    handler = type("Handler", (CountingHandler,), {"served": served})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, name="docs-under-a-folder", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/docs/", served
    finally:
        stop(server, thread)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless: skipped locally without it, failed under CI."""
    executable = chromium_path()
    if executable is None:
        unavailable("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def bytes_served(root: Path, paths: list[str]) -> int:
    """What those requests sent: the size of each file, once per request."""
    total = 0
    for path in paths:
        local = unquote(urlsplit(path).path).removeprefix("/docs/")
        file = root / local
        if file.is_dir():
            file = file / "index.html"
        total += file.stat().st_size if file.is_file() else 0
    return total


def pages_with_run_buttons(site: Path) -> list[str]:
    """The built pages that hold at least one Run panel, as paths under the site's root."""
    return sorted(
        page.parent.relative_to(site).as_posix() + "/"
        for page in site.rglob("index.html")
        if 'class="rp-playground"' in page.read_text("utf-8")
    )


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 900)], ids=["phone", "desktop"])
def test_pages_with_run_buttons_download_under_1_mb_and_no_python_before_a_click(
    browser: Any, under_a_folder: tuple[str, list[str]], site: Path, width: int, height: int
) -> None:
    base, served = under_a_folder
    pages = pages_with_run_buttons(site)
    assert "guide/quick-start/" in pages and len(pages) > 5
    weights, python = {}, {}
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=width < 500)
    try:
        for path in pages:
            page = context.new_page()
            served.clear()
            # routing turns the browser's cache off: each page pays for its files in full
            page.route("**/*", lambda route: route.continue_())
            page.goto(base + path)
            page.locator(".rp-playground .rp-run").first.wait_for()
            page.mouse.wheel(0, 30_000)  # scroll past every panel: seeing one loads nothing either
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(500)
            sent = list(served)
            weights[path] = bytes_served(site, sent)
            python[path] = [url for url in sent if re.search(r"/playground/(pyodide|wheels)/", url)]
            hint = page.locator(".rp-playground .rp-hint").first.inner_text()
            assert "MB to download once" in hint  # the reader is told the price of Run before paying it
            page.close()
    finally:
        context.close()

    assert {path: urls for path, urls in python.items() if urls} == {}
    assert {path: size for path, size in weights.items() if size >= PAGE_BUDGET} == {}
    assert min(weights.values()) > 100_000  # the count saw the pages' own files


def test_instant_navigation_keeps_the_page_under_a_folder_on_another_port(
    browser: Any, under_a_folder: tuple[str, list[str]]
) -> None:
    base, _ = under_a_folder
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(base + "guide/quick-start/")
        page.wait_for_load_state("networkidle")  # the theme has read its sitemap
        page.evaluate("window.samePage = true")
        page.locator('a[href$="decorator/"]:visible').first.click()
        page.wait_for_url("**/docs/guide/decorator/")
        page.locator("h1", has_text="decorator").first.wait_for()
        kept = page.evaluate("window.samePage === true")
    finally:
        context.close()

    assert kept, "following a link reloaded the page: a running Python would have been lost"
