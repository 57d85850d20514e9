"""The site builds strictly, without a warning, and every page has what it promises."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from docs_src.catalogue import EXAMPLES
from tests.docs.conftest import Build

PAGES = [
    "index.html",
    "guide/index.html",
    "guide/quick-start/index.html",
    "guide/when-to-use/index.html",
    "guide/decorator/index.html",
    "guide/response/index.html",
    "guide/add-task/index.html",
    "guide/sync-and-async/index.html",
    "guide/practical-examples/index.html",
    "guide/pitfalls/index.html",
    "guide/task-queues/index.html",
    "guide/lilya/index.html",
    "how-it-works/index.html",
    "testing/index.html",
    "reference/index.html",
    "reference/ravyn/index.html",
    "reference/background/index.html",
    "reference/responses/index.html",
    "reference/testing/index.html",
]


def test_the_strict_build_passes_without_warnings(built_site: Build) -> None:
    assert built_site.returncode == 0, built_site.output
    warnings = [line for line in built_site.output.splitlines() if re.search(r"\bWARNING\b|\bERROR\b", line)]
    assert warnings == [], "\n".join(warnings)
    print(f"mkdocs build --strict took {built_site.seconds:.1f}s")


def test_every_page_of_the_outline_is_built(site: Path) -> None:
    missing = [page for page in PAGES if not (site / page).is_file()]
    assert missing == []


def test_the_hooks_folder_is_not_published(site: Path) -> None:
    assert not (site / "hooks").exists()


def test_no_timeline_marker_or_placeholder_is_left(site: Path) -> None:
    for page in site.rglob("*.html"):
        text = page.read_text("utf-8")
        assert "RAVYNTIMELINEFIGURE" not in text, page
        assert "<!-- timeline:" not in text, page


def test_the_quick_start_shows_its_measured_timeline(site: Path) -> None:
    html = (site / "guide/quick-start/index.html").read_text("utf-8")
    assert 'data-example="quick_start"' in html
    figure = html[html.index('data-example="quick_start"') :]
    response = figure.index("the client has its answer")
    task = figure.index("task <code>send_welcome_email</code> starts")
    assert response < task
    text = unescape(re.sub(r"<[^>]+>", "", html))
    assert "uvicorn docs_src.background_tasks.quick_start:app --reload" in text
    assert EXAMPLES["quick_start"].curl() in text


def test_the_api_reference_documents_the_public_names(site: Path) -> None:
    background = (site / "reference/background/index.html").read_text("utf-8")
    for name in ("BackgroundTask", "BackgroundTasks", "TaskRunner", "observe_tasks"):
        assert f'id="ravyn.background.{name}"' in background, name
    testing = (site / "reference/testing/index.html").read_text("utf-8")
    for name in ("record", "Recorder", "Timeline", "TimelineEvent", "mark"):
        assert f'id="ravyn.testing.{name}"' in testing, name
