"""`llms.txt` and `llms-full.txt`, written at build by docs/hooks/llms_txt.py, in the session's site."""

from __future__ import annotations

import re
from pathlib import Path

from tests.docs.conftest import EXAMPLES

LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def exists(site: Path, target: str) -> bool:
    """Whether an absolute site path (`/guide/quick-start/#anchor`) names a file of the built site."""
    path = target.split("#")[0].lstrip("/")
    return (site / path).is_file() or (site / path / "index.html").is_file()


def test_llms_txt_lists_every_page_with_a_working_absolute_link(site: Path) -> None:
    text = (site / "llms.txt").read_text("utf-8")
    assert text.startswith("# Ravyn background tasks\n\n> Background tasks in Ravyn")
    links = [match.group("target") for match in LINK.finditer(text) if match.group("target").startswith("/")]
    folders = {path.parent.relative_to(site).as_posix() for path in site.rglob("index.html")}
    pages = {"/" if folder == "." else f"/{folder}/" for folder in folders}
    assert set(links) - {"/llms-full.txt"} == pages
    assert all(exists(site, link) for link in links), [link for link in links if not exists(site, link)]
    assert "- [Quick start](/guide/quick-start/): Take a registration endpoint." in text


def test_llms_full_txt_holds_the_pages_with_their_examples_and_absolute_links(site: Path) -> None:
    text = (site / "llms-full.txt").read_text("utf-8")
    assert "<!-- page: /guide/quick-start/ -->" in text
    # the examples written out, not the include lines; no placeholders of the other hooks
    assert (EXAMPLES / "quick_start.py").read_text("utf-8").strip() in text
    assert "--8<--" not in text
    assert re.search(r"RAVYN[A-Z]+\d+X", text) is None
    internal = [m.group("target") for m in LINK.finditer(text) if not re.match(r"[a-z]+:", m.group("target"))]
    assert len(internal) > 30
    assert all(target.startswith("/") for target in internal), [t for t in internal if not t.startswith("/")]
    broken = [target for target in internal if not exists(site, target)]
    assert broken == []
