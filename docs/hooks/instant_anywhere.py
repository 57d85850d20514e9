"""A mkdocs hook that loads `js/instant-anywhere.js` first thing in every page's `<head>`.

The theme's instant navigation, which keeps the playground's Python alive from
page to page, only takes over links listed in `sitemap.xml`, whose addresses
start with `site_url`. The script moves those addresses to wherever the site is
actually served (another port, a sub-folder) as the theme reads them; it must
run before the theme's own script asks for the sitemap, hence `<head>`.
"""

from __future__ import annotations

import html

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

SCRIPT = "js/instant-anywhere.js"


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Put the script, with the `site_url` it corrects, at the start of `<head>`."""
    site_url = config.site_url or ""
    if not site_url or "<head>" not in output:
        return output
    src = get_relative_url(SCRIPT, page.url)
    tag = f'<script src="{html.escape(src)}" data-site-url="{html.escape(site_url)}"></script>'
    return output.replace("<head>", f"<head>\n{tag}", 1)
