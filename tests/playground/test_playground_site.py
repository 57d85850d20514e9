"""What the build puts in the site for the playground: panels, notes, Pyodide and the wheels."""

from __future__ import annotations

import json
import platform
import re
import sys
import zipfile
from html import unescape
from pathlib import Path
from types import ModuleType

import pytest

from docs_src.catalogue import EXAMPLES, HELPERS
from tests.docs.conftest import ROOT
from tests.playground.conftest import SHIPPED


@pytest.fixture(scope="module")
def built(site: Path, pyodide_installed: Path) -> Path:
    return site


def panels(site: Path) -> dict[str, dict[str, str]]:
    """module -> the data attributes of its Run panel, over every page."""
    found = {}
    for page in site.rglob("*.html"):
        for tag in re.findall(r'<div class="rp-playground"[^>]*>', page.read_text("utf-8")):
            attributes = {key: unescape(value) for key, value in re.findall(r'data-([a-z-]+)="([^"]*)"', tag)}
            found[attributes["module"]] = attributes
    return found


def test_every_runnable_example_has_a_panel_with_its_catalogue_request(built: Path, hook: ModuleType) -> None:
    found = panels(built)
    runnable = {
        name
        for name, example in EXAMPLES.items()
        if name not in HELPERS and not hook.not_runnable(example, ROOT, SHIPPED)
    }
    assert set(found) == runnable
    for name, attributes in found.items():
        example = EXAMPLES[name]
        assert attributes["method"] == example.method
        assert attributes["path"] == example.path
        sent = json.loads(attributes["json"]) if attributes["json"] else None  # "" for no body
        assert sent == example.json


def test_the_webhook_and_celery_examples_say_why_they_cannot_run(built: Path) -> None:
    practical = (built / "guide/practical-examples/index.html").read_text("utf-8")
    pitfalls = (built / "guide/pitfalls/index.html").read_text("utf-8")
    assert "Not runnable in the browser: its task sends a webhook" in practical
    assert "Not runnable in the browser: it hands its job to a Celery worker" in pitfalls


def test_the_durable_example_says_plainly_it_cannot_run_in_a_browser(built: Path) -> None:
    durable = (built / "guide/durable-tasks/index.html").read_text("utf-8")
    assert "Not runnable in the browser: durable tasks need a task journal" in durable
    assert 'data-module="durable_tasks"' not in durable


def test_every_page_loads_the_playground_for_instant_navigation(built: Path) -> None:
    """A reader may land on a page without a panel and follow a link to one: the
    theme then swaps the content without running the new page's scripts."""
    pages = list(built.rglob("*/index.html"))
    assert len(pages) > 20
    for page in pages:
        assert "playground/playground.js?v=" in page.read_text("utf-8"), page


def test_the_site_holds_pyodide_and_every_wheel_the_manifest_lists(built: Path) -> None:
    playground = built / "playground"
    manifest = json.loads((playground / "manifest.json").read_text("utf-8"))
    for name in ("pyodide.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"):
        assert (playground / "pyodide" / name).is_file(), name
    names = {wheel["name"] for wheel in manifest["wheels"]}
    assert {"ravyn-background-guide", "lilya", "anyio", "monkay", "multidict"} <= names
    assert {"pydantic", "pydantic-core", "annotated-types", "typing-inspection", "typing-extensions"} <= names
    assert "uvicorn" not in names  # the server stays out: the page sends the request itself
    lock = json.loads((playground / "pyodide" / "pyodide-lock.json").read_text("utf-8"))["info"]
    compiled = f"-pyemscripten_{lock['abi_version']}_{lock['arch']}.whl"
    for url in [manifest["micropip"], *(wheel["url"] for wheel in manifest["wheels"])]:
        wheel = playground / url
        # pure Python, or (pydantic-core) built for this Pyodide's WebAssembly platform
        assert wheel.name.endswith("-none-any.whl") or wheel.name.startswith("pydantic_core-"), url
        if wheel.name.startswith("pydantic_core-"):
            assert wheel.name.endswith(compiled), url
        assert zipfile.ZipFile(wheel).testzip() is None


def test_our_wheel_is_built_from_the_checkout(built: Path) -> None:
    manifest = json.loads((built / "playground/manifest.json").read_text("utf-8"))
    [ours] = [w["url"] for w in manifest["wheels"] if w["name"] == "ravyn-background-guide"]
    with zipfile.ZipFile(built / "playground" / ours) as wheel:
        assert wheel.read("ravyn/threads.py") == (ROOT / "ravyn/threads.py").read_bytes()


def test_the_build_figures_and_the_browser_name_their_python(built: Path) -> None:
    """The build's figures ran on this Python, the playground's on Pyodide's: each says which."""
    quick_start = (built / "guide/quick-start/index.html").read_text("utf-8")
    here = f"Python {platform.python_version()} ({sys.platform})"
    assert f"<figcaption>Measured when this page was built, on {here}: " in quick_start
    assert "<figcaption>Measured when this page was built: " not in quick_start
    manifest = json.loads((built / "playground/manifest.json").read_text("utf-8"))
    python = ".".join(manifest["pyodide"]["python"].split(".")[:2])
    assert f"with Python {python} on Pyodide" in quick_start  # beside each Run button
