"""A mkdocs hook that ranks the guide above the API reference in the site's search.

The reference pages hold an entry per attribute, titled with its name
(`retry_delay`, `task_drain_timeout`): a search for "retry" or "shutdown"
matched those titles first, and a learner met a signature before the section
that explains it. Each page gets a search boost from where it sits (`BOOSTS`:
the first prefix of its source path that matches), set in its metadata as a
`search: boost:` front matter would, so the reference's own files stay as
they are. A page's own front matter wins.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

BOOSTS: tuple[tuple[str, float], ...] = (
    ("reference/", 0.01),
    ("guide/", 5.0),
    ("how-it-works.md", 5.0),
    ("testing.md", 3.0),
    ("index.md", 2.0),
    ("", 1.0),
)
"""Source path prefix -> search boost; the first match applies.

An attribute's name in a reference title counts a thousand times a word of
text, and a query's last word is matched as a prefix ("retry" finds
`retry_delay`, not "retries"): the reference needs a far lower boost than the
guide for a guide section to come first.
"""


def boost_for(src_uri: str) -> float:
    """The boost of the page whose source is `src_uri` (`guide/pitfalls.md`)."""
    return next(boost for prefix, boost in BOOSTS if src_uri.startswith(prefix))


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Give the page its boost, unless its front matter says otherwise."""
    search: dict[str, Any] = dict(page.meta.get("search") or {})
    search.setdefault("boost", boost_for(page.file.src_uri))
    page.meta["search"] = search
    return markdown
