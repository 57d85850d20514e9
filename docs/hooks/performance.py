"""A mkdocs hook that draws the Performance page's results from their data when the site is built.

`python -m bench` writes `docs/assets/performance.json` and a generated block
of `docs/performance.md`, between `<!-- bench:results:start -->` and
`<!-- bench:results:end -->`. This hook renders that block again, at every
build, from the JSON, with the bench's own renderer (`bench.report.markdown`):
a scenario added to the results shows up in the tables without an edit of the
page. Two things in it are computed here rather than taken from the bench:

* the sentence about what changed since the measurement: the bench wrote it
  when it ran, which says nothing about the code this site is built from. The
  hook asks git, at build time, how many commits changed `ravyn/` since the
  measured commit, and whether the working tree has uncommitted changes there;
  without the history to compare (a shallow clone, no git), it says so;
* links into pages whose sections have moved since the bench's wording was
  written (`MOVED`).

A scenario that the "What runs" list does not describe gets a line there with
its title from the results, so a reader never meets a table without a word on it.

The same mechanism draws the durability-tiers page's block (between
`<!-- durability:results:start -->` and `<!-- durability:results:end -->`)
from `docs/assets/durability.json`, written by `python -m bench.durability`,
with that harness's renderer (`bench.durability_report.markdown`).
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.performance")

PAGE = "performance.md"
RESULTS = "assets/performance.json"
START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"
CHART = "![Requests per second by scenario and contender](assets/performance.svg)"
WHAT_RUNS = "## What runs"
DURABILITY_PAGE = "guide/durability-tiers.md"
DURABILITY_RESULTS = "assets/durability.json"
DURABILITY_START = "<!-- durability:results:start -->"
DURABILITY_END = "<!-- durability:results:end -->"

MOVED = {
    "[how it works](how-it-works.md#the-short-way-to-a-handler)": "[internals](internals.md#dispatch)",
}
"""An old link of the bench's wording -> the link to where that section lives now."""


@dataclass(frozen=True)
class Changes:
    """How the framework's code (`ravyn/`) differs from the commit the results measured."""

    built_from: str
    """The short commit this site is built from."""
    commits: int
    """Commits since the measured one that touched `ravyn/`."""
    uncommitted: bool
    """The working tree has changes to `ravyn/` that no commit holds."""


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Make `bench` importable, wherever mkdocs runs from."""
    root = project_root(config)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return config


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Render the Performance page's results block from the JSON, with build-time provenance
    (and the durability-tiers page's block from its own JSON)."""
    if page.file.src_uri == DURABILITY_PAGE:
        return render_durability(markdown, read_results(Path(config.docs_dir) / DURABILITY_RESULTS))
    if page.file.src_uri != PAGE:
        return markdown
    root = project_root(config)
    path = Path(config.docs_dir) / RESULTS
    try:
        results = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise PluginError(f"performance: cannot read {path}: {exc}") from exc
    return render_page(markdown, results, changes_since(results, root))


def read_results(path: Path) -> dict[str, Any]:
    """A results file's JSON, or a build error naming it."""
    try:
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise PluginError(f"performance: cannot read {path}: {exc}") from exc
    return data


def render_durability(markdown: str, results: dict[str, Any]) -> str:
    """The durability-tiers page with its block drawn from the harness's results."""
    if DURABILITY_START not in markdown or DURABILITY_END not in markdown:
        raise PluginError(f"performance: {DURABILITY_PAGE} lost its {DURABILITY_START} ... block")
    from bench import durability_report

    try:
        body = durability_report.markdown(results)
    except (KeyError, TypeError, IndexError) as exc:  # a field the harness's renderer needs is missing
        raise PluginError(
            f"performance: bench/durability_report.py cannot render {DURABILITY_RESULTS}: {exc!r} "
            "(run python -m bench.durability again)"
        ) from exc
    block = (
        f"{DURABILITY_START}\n<!-- drawn from {DURABILITY_RESULTS} when the site is built -->\n\n"
        f"{body}\n{DURABILITY_END}"
    )
    pattern = re.compile(re.escape(DURABILITY_START) + ".*?" + re.escape(DURABILITY_END), re.S)
    return pattern.sub(lambda _: block, markdown)


def project_root(config: MkDocsConfig) -> Path:
    """The folder that holds mkdocs.yml, `bench/` and `ravyn/`."""
    return Path(config.config_file_path).resolve().parent


def render_page(markdown: str, results: dict[str, Any], changes: Changes | None) -> str:
    """The page with its generated block drawn from `results`, and every scenario described."""
    if START not in markdown or END not in markdown:
        raise PluginError(f"performance: {PAGE} lost its {START} ... {END} block")
    from bench import report

    untitled = [s for s in results["settings"]["scenarios"] if s not in report.SCENARIO_TITLES]
    if untitled:
        raise PluginError(
            f"performance: bench/report.py cannot render {RESULTS}: no {untitled[0]!r} (a new scenario "
            "needs its title in bench.report.SCENARIO_TITLES)"
        )
    try:
        body = report.markdown(results)
    except KeyError as exc:  # a scenario or field the bench's renderer does not know
        raise PluginError(
            f"performance: bench/report.py cannot render {RESULTS}: no {exc} (a new scenario needs "
            "its title in bench.report.SCENARIO_TITLES)"
        ) from exc
    body = replace_provenance(body, report.provenance(results), provenance(results, changes))
    for old, new in MOVED.items():
        body = body.replace(old, new)
    block = f"{START}\n<!-- drawn from {RESULTS} when the site is built -->\n\n{body}\n{CHART}\n\n{END}"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    markdown = pattern.sub(lambda _: block, markdown)
    return describe_new_scenarios(markdown, results)


def replace_provenance(body: str, written: str, computed: str) -> str:
    """Swap the bench's run-time provenance paragraph for the build-time one."""
    if not body.startswith(written):
        raise PluginError("performance: the bench's results block no longer starts with its provenance")
    return computed + body[len(written) :]


def provenance(results: dict[str, Any], changes: Changes | None) -> str:
    """Which commit was measured, and what changed in `ravyn/` between it and this build."""
    date = results["machine"]["date"]
    commit = results.get("commit") or {}
    if not commit.get("sha"):
        return f"Measured on {date}. These results do not record which commit they measured.\n"
    dirty = " with uncommitted changes to `ravyn/`" if commit.get("dirty") else ""
    text = f"Measured on {date}, on commit `{commit['short']}` of this repository{dirty}."
    if changes is None:
        return text + (
            " This build could not compare it with the code it was built from (no git history"
            " holds that commit here), so the figures may describe an older `ravyn/`.\n"
        )
    since = f" This site was built from commit `{changes.built_from}`"
    if changes.commits == 0 and not changes.uncommitted:
        return text + since + ": the framework's code (`ravyn/`) has not changed since the measurement.\n"
    what = []
    if changes.commits:
        what.append(f"{changes.commits} commit{'s' if changes.commits != 1 else ''}")
    if changes.uncommitted:
        what.append("uncommitted edits")
    return text + (
        f"{since}, and the framework's code (`ravyn/`) has changed since the measurement "
        f"({' and '.join(what)}): the figures for this Ravyn describe it as it was then. "
        "`python -m bench` measures it as it is now.\n"
    )


def changes_since(results: dict[str, Any], root: Path) -> Changes | None:
    """Ask git how `ravyn/` differs from the measured commit; None if git cannot tell."""
    sha = (results.get("commit") or {}).get("sha")
    if not sha:
        return None
    head = git(root, "rev-parse", "--short", "HEAD")
    count = git(root, "rev-list", "--count", f"{sha}..HEAD", "--", "ravyn")
    status = git(root, "status", "--porcelain", "--", "ravyn")
    if head is None or count is None or status is None:
        return None
    return Changes(built_from=head, commits=int(count), uncommitted=bool(status))


def git(root: Path, *args: str) -> str | None:
    """A git command's output in `root`, or None if git is absent or fails (an unknown commit)."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def describe_new_scenarios(markdown: str, results: dict[str, Any]) -> str:
    """Add a line to "What runs" for each measured scenario it does not describe yet."""
    from bench import report

    if WHAT_RUNS not in markdown:
        return markdown
    head, _, tail = markdown.partition(WHAT_RUNS)
    section, heading, rest = tail.partition("\n## ")
    missing = [
        scenario
        for scenario in results["settings"]["scenarios"]
        if f"- **{scenario}**:" not in section and any(row["scenario"] == scenario for row in results["load"])
    ]
    if not missing:
        return markdown
    lines = []
    for scenario in missing:
        title = report.SCENARIO_TITLES[scenario].split(":", 1)[-1].strip()
        lines.append(f"- **{scenario}**: {title}.")
    first = section.index("\n- **")  # the list of scenarios: the first list of the section
    end = section.find("\n\n", first)
    end = len(section) if end == -1 else end
    section = section[:end] + "\n" + "\n".join(lines) + section[end:]
    return head + WHAT_RUNS + section + heading + rest
