"""The site's search puts the guide first and stays accessible while it is open.

The hook `docs/hooks/search_boost.py` gives each page a boost by where it sits;
the built index carries it. In Chromium, "retry" and "shutdown" (words a
learner types, which also name reference attributes) answer with a guide page
first, and axe-core finds no serious violation with the results open, in the
light and dark schemes, at desktop and phone widths.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from tests.docs import test_docs_browser
from tests.docs.conftest import DOCS
from tests.docs.test_docs_accessibility import AXE, DESKTOP, PHONE, RUN_AXE

# the browser test's fixtures: the site served on a free port, Debian's Chromium
base_url = test_docs_browser.base_url
browser = test_docs_browser.browser


def load_hook() -> ModuleType:
    path = DOCS / "hooks" / "search_boost.py"
    spec = importlib.util.spec_from_file_location("docs_search_boost_hook", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


hook = load_hook()


def test_the_guide_is_boosted_and_the_reference_lowered() -> None:
    guide, home = hook.boost_for("guide/pitfalls.md"), hook.boost_for("index.md")
    assert guide > home > hook.boost_for("reference/runner.md")
    assert hook.boost_for("how-it-works.md") == hook.boost_for("guide/quick-start.md")
    assert hook.boost_for("performance.md") == 1.0


def test_a_pages_own_front_matter_wins_over_the_hook() -> None:
    page = SimpleNamespace(
        meta={"search": {"boost": 9, "exclude": False}}, file=SimpleNamespace(src_uri="guide/x.md")
    )
    plain = SimpleNamespace(meta={}, file=SimpleNamespace(src_uri="reference/x.md"))

    hook.on_page_markdown("", page, None, None)
    hook.on_page_markdown("", plain, None, None)

    assert page.meta["search"] == {"boost": 9, "exclude": False}
    assert plain.meta["search"] == {"boost": hook.boost_for("reference/x.md")}


def test_the_built_index_carries_each_pages_boost(site: Path) -> None:
    index = json.loads((site / "search" / "search_index.json").read_text("utf-8"))
    boosts = {entry["location"].split("#")[0]: entry.get("boost") for entry in index["docs"]}

    assert boosts["guide/pitfalls/"] == hook.boost_for("guide/pitfalls.md")
    assert boosts["reference/background/"] == hook.boost_for("reference/background.md")


@pytest.fixture
def search(browser: Any, base_url: str) -> Iterator[Any]:
    """A function that opens the home page in a fresh context and types a query in the search box."""
    contexts: list[Any] = []

    def make(query: str, viewport: dict[str, int] = DESKTOP, scheme: str = "light") -> Any:
        context = browser.new_context(viewport=viewport, color_scheme=scheme)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(base_url)
        page.wait_for_load_state("networkidle")  # the index is loaded
        if viewport["width"] < 1220:
            page.locator('label[for="__search"]').first.click()  # the phone's search button
        page.locator(".md-search__input").click()
        page.keyboard.type(query)
        page.locator(".md-search-result__item").first.wait_for()
        # the results fade in (the theme's opacity transition); axe measures
        # contrast through that opacity, so wait until nothing is moving
        page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize("query", ["retry", "shutdown"])
def test_a_learners_word_finds_the_guide_before_the_reference(search: Any, base_url: str, query: str) -> None:
    page = search(query)
    first = page.locator(".md-search-result__item a.md-search-result__link").first.get_attribute("href")

    assert first is not None and first.startswith(base_url)
    assert not first.removeprefix(base_url).startswith("reference/"), first


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_open_search_results_have_no_serious_accessibility_violation(
    search: Any, viewport: dict[str, int], scheme: str
) -> None:
    if not AXE.is_file():
        test_docs_browser.unavailable("axe-core is not installed: run `npm ci` in playground/")
    found = {}
    for query in ("retry", "shutdown", "task_stats"):
        page = search(query, viewport, scheme)
        page.add_script_tag(content=AXE.read_text("utf-8"))
        found[query] = page.evaluate(RUN_AXE)
    assert found == {"retry": [], "shutdown": [], "task_stats": []}


def test_a_search_highlight_on_the_page_has_no_serious_accessibility_violation(
    browser: Any, base_url: str
) -> None:
    if not AXE.is_file():
        test_docs_browser.unavailable("axe-core is not installed: run `npm ci` in playground/")
    found = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport=DESKTOP, color_scheme=scheme)
        try:
            page = context.new_page()
            page.goto(base_url + "how-it-works/?h=retry")
            page.wait_for_load_state("networkidle")
            assert page.locator("mark").count() > 0  # the theme highlighted the search's words
            page.add_script_tag(content=AXE.read_text("utf-8"))
            found[scheme] = page.evaluate(RUN_AXE)
        finally:
            context.close()
    assert found == {"light": [], "dark": []}
