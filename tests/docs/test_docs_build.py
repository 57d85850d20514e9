"""The site builds strictly, without a warning, and every page has what it promises."""

from __future__ import annotations

import importlib
import re
from html import unescape
from pathlib import Path

import pytest

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
    "guide/parameters/index.html",
    "guide/sync-and-async/index.html",
    "guide/practical-examples/index.html",
    "guide/pitfalls/index.html",
    "guide/task-queues/index.html",
    "guide/lilya/index.html",
    "how-it-works/index.html",
    "testing/index.html",
    "try-it-in-your-terminal/index.html",
    "performance/index.html",
    "this-ravyn/index.html",
    "reference/index.html",
    "reference/ravyn/index.html",
    "reference/background/index.html",
    "reference/runner/index.html",
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


@pytest.mark.parametrize(
    "module",
    ["background", "runner", "responses", "testing", "routing", "applications", "params", "dependencies"],
)
def test_the_api_reference_documents_every_public_name(site: Path, module: str) -> None:
    """Every name in the module's `__all__` has its own entry on the module's page."""
    names = importlib.import_module(f"ravyn.{module}").__all__
    html = (site / f"reference/{module}/index.html").read_text("utf-8")
    missing = [name for name in names if f'id="ravyn.{module}.{name}"' not in html]
    assert missing == []


def test_the_ravyn_page_links_every_top_level_name(site: Path) -> None:
    import ravyn

    html = (site / "reference/ravyn/index.html").read_text("utf-8")
    missing = [name for name in ravyn.__all__ if f"<code>{name}</code>" not in html]
    assert missing == []


def figure_text(html: str, example: str) -> str:
    start = html.index(f'data-example="{example}"')
    return unescape(re.sub(r"<[^>]+>", "", html[start : html.index("</figure>", start)]))


def seconds(text: str) -> float:
    value, unit = text.split()
    return float(value) / 1000 if unit == "ms" else float(value)


def test_the_wrong_pitfalls_show_their_harm_in_their_figures(site: Path) -> None:
    html = (site / "guide/pitfalls/index.html").read_text("utf-8")
    waits = {}
    for example in ("pitfall_long_job_wrong", "pitfall_long_job_celery"):
        match = re.search(r"it waited ([\d.]+ m?s)", figure_text(html, example))
        assert match, example
        waits[example] = seconds(match.group(1))
    assert waits["pitfall_long_job_wrong"] >= 0.5 > waits["pitfall_long_job_celery"]
    assert "has no 42.5 in it" in figure_text(html, "pitfall_return_value_wrong")


def test_the_task_queue_page_draws_web_process_broker_and_workers(site: Path) -> None:
    html = (site / "guide/task-queues/index.html").read_text("utf-8")
    for name in ("task-queue.svg", "task-queue-narrow.svg"):  # drawn for a desktop and for a phone
        [tag] = [tag for tag in re.findall(r"<img [^>]+>", html) if f'src="../../assets/{name}"' in tag]
        alt = re.search(r'alt="([^"]+)"', tag)
        assert alt and "broker" in alt.group(1) and "worker" in alt.group(1)
        svg = (site / "assets" / name).read_text("utf-8")
        assert "<title" in svg and "<desc" in svg
        assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # nothing loaded from elsewhere


def test_the_build_prints_no_celery_worker_lines(built_site: Build) -> None:
    # the queue examples start an embedded Celery worker, whose own log would fill the build's output
    worker_lines = [line for line in built_site.output.splitlines() if re.search(r"MainProcess|celery", line)]
    assert worker_lines == []
    assert built_site.returncode == 0  # and the queue examples were still measured


def test_building_this_site_documents_both_builders(site: Path) -> None:
    html = (site / "building-this-site" / "index.html").read_text("utf-8")
    page = unescape(re.sub(r"<[^>]+>", "", html))  # the code blocks' text, without their highlighting
    for command in ("bash scripts/docs", "mkdocs build --strict", "zensical build --strict"):
        assert command in page, command
