"""The site also builds with Zensical, which reads `mkdocs.yml` as it is.

Zensical (0.0.x, the series Lilya's own docs use) builds every page strictly:
the Markdown, the examples included from `docs_src/`, the API reference from
mkdocstrings, the theme with its instant navigation, our CSS and script. What
it does not run are mkdocs hooks (`hooks:` in mkdocs.yml): its build has no
measured timeline figures, no "Try it" blocks, no Run panels and no llms.txt.
Those are made by docs/hooks/*.py, which only mkdocs runs.

Zensical needs its config file at the project's root and its site folder inside
the project, so the test writes a copy of mkdocs.yml there with `site_dir`
pointing into `test-artifacts/` (ignored by git), and removes it after.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.docs.conftest import ROOT
from tests.docs.test_docs_browser import unavailable

CONFIG = ROOT / ".zensical-test.yml"
SITE = ROOT / "test-artifacts" / "zensical-site"


def test_the_site_builds_with_zensical(site: Path) -> None:
    zensical = shutil.which("zensical", path=str(Path(sys.executable).parent))
    if zensical is None:
        unavailable("Zensical is not installed (pip install -e '.[docs]')")
    shutil.rmtree(SITE, ignore_errors=True)
    text = (ROOT / "mkdocs.yml").read_text("utf-8")
    CONFIG.write_text(
        re.sub(r"^site_url:.*$", r"\g<0>\nsite_dir: test-artifacts/zensical-site", text, flags=re.M)
    )
    try:
        done = subprocess.run(
            [zensical, "build", "--strict", "--config-file", str(CONFIG)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        CONFIG.unlink()
    output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    assert done.returncode == 0, output
    assert "No issues found" in output

    # every page mkdocs builds, Zensical builds too
    ours = {path.relative_to(site) for path in site.rglob("index.html") if "playground" not in path.parts}
    theirs = {path.relative_to(SITE) for path in SITE.rglob("index.html")}
    assert ours <= theirs, sorted(ours - theirs)
    quick_start = (SITE / "guide/quick-start/index.html").read_text("utf-8")
    assert "send_welcome_email" in quick_start and "add_task" in quick_start  # the example, included
    assert "css/site.css" in quick_start and "js/site.js" in quick_start
    assert 'class="doc doc-object' in (SITE / "reference/background/index.html").read_text("utf-8")
