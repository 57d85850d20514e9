"""The learner's pages hold what a learner needs, from the built site.

"How it works" tells a request's story; how Ravyn gets there underneath
(dispatch, thread pacing, the garbage collector) lives on the Internals page,
which it links to. Its section on what can be known about a task afterwards
names the four sources, each as the code spells it: the task log's name, the
counters of `task_stats()`, the listener's method and event kinds, and a
queue's job id, with the way to the page that follows a queued job.
"""

from __future__ import annotations

import re
import typing
from dataclasses import fields
from html import unescape
from pathlib import Path

from ravyn.runner import TaskEvent, TaskStats
from ravyn.runner.logs import logger as task_logger

AFTERWARDS = "what-you-can-know-about-a-task-afterwards"
INTERNALS_ONLY = ("gc.freeze", "freeze_heap_at_startup", "direct_dispatch", "GIL", "route table")
"""Words of the Internals page that a learner's page leaves to it."""


def article(site: Path, page: str) -> str:
    """The HTML of a built page's content, without the navigation and the table of contents."""
    html = (site / page / "index.html").read_text("utf-8")
    match = re.search(r"<article\b.*?</article>", html, re.S)
    assert match, page
    return match.group(0)


def text(html: str) -> str:
    """What a reader reads of some HTML: its words, one space between them."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def section(html: str, anchor: str) -> str:
    """The HTML of the `<h2 id=anchor>` section, up to the next `<h2`."""
    start = html.index(f'<h2 id="{anchor}"')
    end = html.find("<h2", start + 1)
    return html[start : end if end != -1 else len(html)]


def test_how_it_works_leaves_dispatch_threads_and_the_garbage_collector_to_internals(site: Path) -> None:
    learner = article(site, "how-it-works")
    internals = article(site, "internals")

    assert [word for word in INTERNALS_ONLY if word in text(learner).lower()] == []
    assert [word for word in INTERNALS_ONLY if word not in text(internals)] == []
    assert re.search(r'href="\.\./internals/"', learner), "How it works must say where the internals went"
    for anchor in ("dispatch", "thread-pacing", "gc-freeze"):
        assert f'<h2 id="{anchor}"' in internals, anchor


def test_what_you_can_know_about_a_task_afterwards_names_its_four_sources_as_the_code_does(
    site: Path,
) -> None:
    afterwards = section(article(site, "how-it-works"), AFTERWARDS)
    words = text(afterwards)

    assert task_logger.name in words  # the logger a reader filters on
    assert "app.task_stats()" in words
    assert "add_listener" in words
    assert "job id" in words
    stats = {field.name for field in fields(TaskStats)}
    listed = re.search(r"counters: (?P<names>[a-z_, ]+)", words)
    assert listed, words
    names = {name.strip() for name in listed.group("names").split(",") if name.strip()}
    assert names and names <= stats, names - stats  # every counter named is one task_stats() returns
    kinds = set(typing.get_args(typing.get_type_hints(TaskEvent)["kind"]))
    assert {kind for kind in kinds if f"`{kind}`" in re.sub(r"</?code>", "`", afterwards)} == kinds
    assert 'href="../guide/task-queues/#following-a-queued-job"' in afterwards
    queue = article(site, "guide/task-queues")
    followed = text(section(queue, "following-a-queued-job"))
    assert "job's id" in followed and "GET /jobs/{job_id}" in followed, followed[:600]
