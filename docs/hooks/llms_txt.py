"""A mkdocs hook that writes `llms.txt` and `llms-full.txt` at the site root, for readers asking an assistant.

`llms.txt` (the format of llmstxt.org) names the site, says what it is, and lists
every page of the navigation under its section, with a link and the page's first
sentence. `llms-full.txt` is every page's Markdown in navigation order, with the
examples included from `docs_src/` written out in full, each link made absolute
to the site's own paths (`/guide/quick-start/`), and the build-time figures left
out (they are drawn HTML; their "try it" commands stay).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import urlsplit

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page

SNIPPET_LINE = re.compile(r'^(?P<indent>[ \t]*)--8<--[ \t]*"(?P<path>[^"]+)"[ \t]*$', re.M)
PLACEHOLDER_LINE = re.compile(r"^[ \t]*RAVYN[A-Z]+\d+X[ \t]*\n?", re.M)
"""What the other hooks leave in the Markdown for their HTML (figures, Run panels)."""
LINK = re.compile(r"(?P<open>\]\()(?P<target>[^)\s]+)(?P<close>[)\s])")

_markdown: dict[str, str] = {}
_sections: list[tuple[str, list[Page]]] = []


def on_nav(nav: Navigation, config: MkDocsConfig, files: Files) -> Navigation:
    """Remember the navigation: its top-level sections and their pages, in order."""
    _sections.clear()
    loose: list[Page] = []
    for item in nav.items:
        if isinstance(item, Section):
            _sections.append((item.title, [page for page in walk(item) if isinstance(page, Page)]))
        elif isinstance(item, Page):
            loose.append(item)
    if loose:
        _sections.insert(0, ("Pages", loose))
    return nav


def walk(section: Section) -> list[object]:
    found: list[object] = []
    for child in section.children:
        found.extend(walk(child) if isinstance(child, Section) else [child])
    return found


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Keep the page's Markdown as a reader without the site needs it; the page itself is unchanged."""
    root = Path(config.config_file_path).resolve().parent
    text = SNIPPET_LINE.sub(lambda match: include(root, match), markdown)
    text = PLACEHOLDER_LINE.sub("", text)
    _markdown[page.file.src_uri] = LINK.sub(lambda match: absolute(match, page, config, files), text)
    return markdown


def include(root: Path, match: re.Match[str]) -> str:
    source = (root / match.group("path")).read_text("utf-8").rstrip("\n")
    indent = match.group("indent")
    return "\n".join(indent + line if line else line for line in source.splitlines())


def site_path(config: MkDocsConfig) -> str:
    """The site's root path: "/" here, "/docs/" for a site served from a folder."""
    return urlsplit(config.site_url or "/").path.rstrip("/") + "/"


def absolute(match: re.Match[str], page: Page, config: MkDocsConfig, files: Files) -> str:
    """A link of the page's Markdown, made absolute to the site's paths (other sites' links are left)."""
    target = match.group("target")
    if re.match(r"^[a-z][a-z0-9+.-]*:|^/", target):  # https:, mailto:, or already absolute
        return match.group(0)
    path, _, anchor = target.partition("#")
    if not path:
        url = page.url
    else:
        src = posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri), path))
        linked = files.get_file_from_path(src)
        if linked is None:
            return match.group(0)
        url = linked.url
    resolved = site_path(config) + url + (f"#{anchor}" if anchor else "")
    return f"{match.group('open')}{resolved}{match.group('close')}"


def first_sentence(markdown: str) -> str:
    """The first sentence of the page's first paragraph, for the index."""
    for block in re.split(r"\n\s*\n", markdown):
        block = block.strip()
        if block and not block.startswith(("#", "```", "!!!", "???", "<", "|", "-", "*", ":::", ">")):
            text = " ".join(block.split())
            sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
            return sentence if len(sentence) <= 200 else sentence[:199].rsplit(" ", 1)[0] + "…"
    return ""


def on_post_build(config: MkDocsConfig) -> None:
    """Write both files into the built site."""
    site = Path(config.site_dir)
    base = site_path(config)
    index = [f"# {config.site_name}", ""]
    if config.site_description:
        index += [f"> {' '.join(config.site_description.split())}", ""]
    index += [f"The whole site as one Markdown file: [{base}llms-full.txt]({base}llms-full.txt)", ""]
    full = [f"# {config.site_name}", ""]
    for title, pages in _sections:
        index += [f"## {title}", ""]
        for page in pages:
            markdown = _markdown.get(page.file.src_uri, "")
            summary = first_sentence(markdown)
            index.append(f"- [{page.title}]({base}{page.url})" + (f": {summary}" if summary else ""))
            full += [f"<!-- page: {base}{page.url} -->", "", markdown.strip(), ""]
        index.append("")
    (site / "llms.txt").write_text("\n".join(index), encoding="utf-8")
    (site / "llms-full.txt").write_text("\n".join(full), encoding="utf-8")
