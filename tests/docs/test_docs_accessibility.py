"""Every page of the built site, checked with axe-core in Chromium: light and dark, desktop and phone.

axe-core comes from npm, installed with the playground's packages
(`playground/package.json`, `npm ci`); it is injected into each page and run
there. A serious or critical violation fails the test, with the rule, the page
and the elements. At phone width (390 px) no page may scroll sideways. The
screenshots the pages are looked at with go to `test-artifacts/`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docs import test_docs_browser
from tests.docs.conftest import ROOT
from tests.docs.test_docs_browser import ARTIFACTS, screenshot, unavailable

# the browser test's fixtures: the site served on a free port, Debian's Chromium
base_url = test_docs_browser.base_url
browser = test_docs_browser.browser

AXE = ROOT / "playground" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = {
    "home": "",
    "quick-start": "guide/quick-start/",
    "pitfalls": "guide/pitfalls/",
    "task-queues": "guide/task-queues/",
    "practical-examples": "guide/practical-examples/",
}

RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      rule: v.id,
      impact: v.impact,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(" ")}: ${n.failureSummary.split("\\n")[1]}`),
    }));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        unavailable("axe-core is not installed: run `npm ci` in playground/ (scripts/test does)")
    return AXE.read_text("utf-8")


def page_urls(site: Path, base_url: str) -> list[str]:
    pages = sorted(path.parent.relative_to(site).as_posix() for path in site.rglob("index.html"))
    assert len(pages) > 20
    return [base_url + ("" if path == "." else path + "/") for path in pages]


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    """A page of a fresh context with the viewport and colour scheme asked for."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int], scheme: str) -> Any:
        context = browser.new_context(viewport=viewport, color_scheme=scheme)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_page_has_a_serious_accessibility_violation(
    open_page: Any, base_url: str, site: Path, axe_source: str, viewport: dict[str, int], scheme: str
) -> None:
    page = open_page(viewport, scheme)
    expected = "slate" if scheme == "dark" else "default"
    found: dict[str, list[str]] = {}
    for url in page_urls(site, base_url):
        page.goto(url, wait_until="load")
        assert page.locator("body").get_attribute("data-md-color-scheme") == expected, url
        page.add_script_tag(content=axe_source)
        for violation in page.evaluate(RUN_AXE):
            key = f"{violation['rule']} ({violation['impact']})"
            found.setdefault(key, []).append(f"{url.removeprefix(base_url) or '/'}: {violation['nodes']}")
    assert found == {}, "\n".join(f"{rule}:\n  " + "\n  ".join(where) for rule, where in found.items())


def test_no_page_scrolls_sideways_on_a_phone(open_page: Any, base_url: str, site: Path) -> None:
    page = open_page(PHONE, "light")
    wide = []
    for url in page_urls(site, base_url):
        page.goto(url, wait_until="load")
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if scroll > client:
            wide.append(f"{url.removeprefix(base_url) or '/'}: {scroll} px wide in {client} px")
    assert wide == []


def test_timeline_task_names_are_whole_on_a_phone(open_page: Any, base_url: str) -> None:
    page = open_page(PHONE, "light")
    page.goto(base_url + "guide/practical-examples/")
    labels = page.locator("figure.rt-timeline .rt-label")
    assert labels.count() > 3
    cut = labels.evaluate_all("els => els.filter(e => e.scrollWidth > e.clientWidth).map(e => e.textContent)")
    assert cut == []


def test_the_comparison_table_stacks_into_labelled_cards_on_a_phone(open_page: Any, base_url: str) -> None:
    page = open_page(PHONE, "light")
    page.goto(base_url + "guide/task-queues/")
    table = page.locator(".md-typeset table").first
    table.wait_for()
    page.wait_for_function("document.querySelector('.md-typeset table').classList.contains('rp-stack')")
    assert page.locator(".md-typeset table.rp-stack thead").first.is_hidden()
    cells = table.locator("td").evaluate_all(
        "els => els.map(e => [e.getBoundingClientRect().width, e.dataset.label,"
        " getComputedStyle(e, '::before').content])"
    )
    headings = table.locator("thead th").all_inner_texts()
    assert min(width for width, _, _ in cells) > 300  # a card as wide as the screen, not a squeezed column
    assert [label for _, label, _ in cells[: len(headings)]] == [text.strip() for text in headings]
    assert all(before.strip('"') == label for _, label, before in cells)  # each cell shows its heading
    assert table.get_attribute("role") == "table"  # display: block keeps its semantics


def test_a_table_of_figures_keeps_its_columns_on_a_phone(open_page: Any, base_url: str) -> None:
    page = open_page(PHONE, "light")
    page.goto(base_url + "performance/")
    page.locator(".md-typeset table").first.wait_for()
    page.wait_for_timeout(300)  # site.js has looked at every table
    stacked = page.locator(".md-typeset table.rp-stack").count()
    numbers = page.locator(".md-typeset table:not(.rp-stack)").count()
    assert numbers > 3 and stacked == 0, (numbers, stacked)


def test_tables_of_figures_on_a_phone_are_as_narrow_as_their_numbers_allow(
    open_page: Any, base_url: str
) -> None:
    # at the sentence tables' 11rem a column, 8 columns of counts were 1,672 px:
    # one number per screen, four screens of sideways scrolling
    page = open_page(PHONE, "light")
    too_wide = {}
    for path in ("performance/", "guide/durability-tiers/", "internals/"):
        page.goto(base_url + path)
        page.locator(".md-typeset table").first.wait_for()
        page.wait_for_selector(".md-typeset table[data-rp-checked]", state="attached")  # site.js has run
        widths = page.locator(".md-typeset table[data-rp-figures]").evaluate_all(
            "els => els.map(t => [t.querySelectorAll('thead th').length, t.getBoundingClientRect().width])"
        )
        assert widths, f"{path}: no table of figures found"
        # a table that fits the screen is fine however few its columns
        wide = [(columns, round(width)) for columns, width in widths if width > max(100 * columns, 360)]
        if wide:
            too_wide[path] = wide
    assert too_wide == {}


def test_the_comparison_table_is_a_plain_table_on_a_desktop(open_page: Any, base_url: str) -> None:
    page = open_page(DESKTOP, "light")
    page.goto(base_url + "guide/task-queues/")
    page.wait_for_function("document.querySelector('.md-typeset table').classList.contains('rp-stack')")
    assert page.locator(".md-typeset table thead").first.is_visible()


def test_the_task_queue_diagram_is_drawn_for_the_screen_it_is_on(open_page: Any, base_url: str) -> None:
    shown = {}
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = open_page(viewport, "light")
        page.goto(base_url + "guide/task-queues/")
        wide, narrow = page.locator("img.rp-diagram-wide"), page.locator("img.rp-diagram-narrow")
        visible = wide if wide.is_visible() else narrow
        assert wide.is_visible() != narrow.is_visible()
        shown[name] = (visible.get_attribute("src"), visible.evaluate("e => e.getBoundingClientRect().width"))
    src, width = shown["phone"]
    assert src.endswith("task-queue-narrow.svg") and width > 330  # 360 px drawn, about its own size
    assert shown["desktop"][0].endswith("task-queue.svg")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_screenshots_of_the_main_pages(open_page: Any, base_url: str, viewport: dict[str, int]) -> None:
    page = open_page(viewport, "light")
    for name, path in SCREENSHOTS.items():
        page.goto(base_url + path, wait_until="load")
        screenshot(page, f"{name}-{viewport['width']}.png")
    assert all((ARTIFACTS / f"{name}-{viewport['width']}.png").is_file() for name in SCREENSHOTS)
