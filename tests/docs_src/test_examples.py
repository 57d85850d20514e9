"""Every example in docs_src/background_tasks, sent the request its docs show.

Each case checks what the docs claim: the status and body, and that the client
had the whole response before any task started or left a side effect; then
that each task ran once, in order, and each side effect happened once, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from docs_src.catalogue import EXAMPLES, Example
from ravyn.testing import Timeline, record
from tests.docs_src.examples import example_modules, example_params, framework_failure_logs, task_effects

pytestmark = pytest.mark.anyio


def test_every_example_module_has_a_catalogue_entry_and_back() -> None:
    modules = example_modules()
    assert sorted(set(modules) - set(EXAMPLES)) == [], "example modules without a catalogue entry"
    assert sorted(set(EXAMPLES) - set(modules)) == [], "catalogue entries without a module"


def request_json(example: Example, request: pytest.FixtureRequest) -> Any:
    """The catalogue's JSON body, with a webhook URL pointed at a real test receiver."""
    if not isinstance(example.json, dict) or "webhook_url" not in example.json:
        return example.json
    receiver = request.getfixturevalue("webhook_receiver")
    return {**example.json, "webhook_url": f"{receiver.url}/hooks/orders"}


def check_response(example: Example, timeline: Timeline) -> None:
    assert timeline.status == example.status, timeline.render()
    if example.body is not None:
        assert timeline.json() == example.body
    if example.body_includes is not None:
        assert timeline.json().items() >= example.body_includes.items()


def check_order(example: Example, timeline: Timeline) -> None:
    """The response is complete before the first task starts and before any side effect."""
    first_effects = timeline.all("task_started") + task_effects(timeline, example)
    if first_effects:
        assert timeline.response_complete < min(first_effects), timeline.render()


def check_tasks(example: Example, timeline: Timeline) -> None:
    """Each task started once, in order, and ended once: finished, or failed if it fails on purpose."""
    assert timeline.task_names("task_started") == list(example.tasks), timeline.render()
    assert timeline.task_names("task_failed") == list(example.failing), timeline.render()
    ended = sorted(timeline.all("task_finished") + timeline.all("task_failed"))
    assert [event.name for event in ended] == list(example.tasks), timeline.render()
    for name in example.failing:
        assert len(framework_failure_logs(timeline, name)) == 1, timeline.render()


def check_effects(example: Example, timeline: Timeline) -> None:
    """Each side effect happened exactly once, in the catalogue's order, after the response."""
    texts = [str(event.detail.get("text", event.name)) for event in task_effects(timeline, example)]
    assert texts == list(example.effects), timeline.render()


@pytest.mark.parametrize("name", example_params())
async def test_example_answers_before_its_tasks(
    name: str, load_example: Callable[[str], ModuleType], request: pytest.FixtureRequest
) -> None:
    example = EXAMPLES.get(name)
    if example is None:
        pytest.fail(f"docs_src/background_tasks/{name}.py has no entry in docs_src/catalogue.py")
    app = load_example(name).app

    timeline = await record(app, example.method, example.path, json=request_json(example, request))

    check_response(example, timeline)
    check_order(example, timeline)
    check_tasks(example, timeline)
    if example.queue is None:  # queued work runs on a worker, after this timeline: see test_celery.py
        check_effects(example, timeline)
