"""The mkdocs hook that measures the examples: its figures follow what the code does."""

from __future__ import annotations

import importlib.util
import re
import sys
import time
from html import unescape
from types import ModuleType
from typing import Any

import pytest
from mkdocs.exceptions import PluginError

from docs_src.catalogue import Example, Probe
from ravyn import BackgroundTasks, Ravyn, Request, post
from tests.docs.conftest import DOCS


def load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_timelines_hook", DOCS / "hooks" / "timelines.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


hook = load_hook()


def send_report(to: str, seconds: float) -> None:
    time.sleep(seconds)


async def read_later(request: Request) -> None:
    await request.json()


def app_with_a_task_of(seconds: float) -> Ravyn:
    @post("/reports")
    def make_report(to: str, tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(send_report, to, seconds)
        return {"to": to}

    return Ravyn(routes=[make_report])


def figure_of(app: Ravyn, example: Example) -> str:
    timeline = hook.record_request(app, example, example.json)
    assert hook.check(example, timeline) == []
    return str(hook.render_figure(hook.Measurement(example, timeline, example.json, [])))


def task_duration(figure: str) -> float:
    """The duration the figure prints for the task, in seconds."""
    text = unescape(re.sub(r"<[^>]+>", "", figure))
    match = re.search(r"task send_report ends, after ([\d.]+) (ms|s)", text)
    assert match, text
    value = float(match.group(1))
    return value / 1000 if match.group(2) == "ms" else value


EXAMPLE = Example(
    module="reports",
    title="A report sent after the response",
    method="POST",
    path="/reports",
    json={"to": "ada@example.com"},
    status=201,
    body={"to": "ada@example.com"},
    tasks=("send_report",),
)


def test_the_figure_changes_when_the_task_takes_longer() -> None:
    short = task_duration(figure_of(app_with_a_task_of(0.02), EXAMPLE))
    long = task_duration(figure_of(app_with_a_task_of(0.2), EXAMPLE))
    assert 0.02 <= short < 0.2 <= long


def test_the_figure_lists_the_response_before_the_task() -> None:
    text = unescape(re.sub(r"<[^>]+>", "", figure_of(app_with_a_task_of(0.01), EXAMPLE)))
    assert text.index("the client has its answer") < text.index("task send_report starts")


def test_an_example_that_differs_from_its_catalogue_entry_is_reported() -> None:
    wrong = Example(**{**EXAMPLE.__dict__, "status": 200, "tasks": ("something_else",)})
    timeline = hook.record_request(app_with_a_task_of(0.0), wrong, wrong.json)
    problems = hook.check(wrong, timeline)
    assert problems == [
        "status 201, expected 200",
        "tasks started ['send_report'], expected ['something_else']",
    ]


def test_a_body_read_after_the_response_is_gone_as_under_a_server() -> None:
    @post("/feedback")
    def feedback(request: Request, tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(read_later, request)
        return {"status": "thanks"}

    example = Example(
        module="feedback",
        title="",
        method="POST",
        path="/feedback",
        json={"stars": 5},
        status=201,
        tasks=("read_later",),
        failing=("read_later",),
    )
    timeline = hook.record_request(Ravyn(routes=[feedback]), example, example.json)
    assert hook.check(example, timeline) == []
    assert "ClientDisconnect" in timeline.first("task_failed").detail["error"]


def test_the_webhook_receiver_takes_the_urls_and_records_what_it_got() -> None:
    import httpx

    body: dict[str, Any] = {"sku": "KB-42", "webhook_url": "http://127.0.0.1:9000/hooks/orders"}
    urls = hook.local_urls(body)
    assert urls == ["http://127.0.0.1:9000/hooks/orders"]
    with hook.Receiver(urls) as receiver:
        sent = receiver.rewrite(body)
        assert sent["sku"] == "KB-42"
        response = httpx.post(sent["webhook_url"], json={"event": "order.created"})
    assert response.status_code == 200
    assert receiver.received == [hook.Received("POST", "/hooks/orders", '{"event":"order.created"}')]


@pytest.mark.parametrize(
    ("line", "name", "options"),
    [
        ("<!-- timeline: quick_start -->", "quick_start", ""),
        ("    <!-- timeline: registration_flow full no-try -->", "registration_flow", " full no-try"),
    ],
)
def test_the_marker(line: str, name: str, options: str) -> None:
    match = hook.MARKER.search(line)
    assert match is not None
    assert (match.group("name"), match.group("options")) == (name, options)


def test_an_unknown_option_stops_the_build() -> None:
    class Page:
        class file:
            src_uri = "guide/example.md"

    with pytest.raises(PluginError, match="unknown timeline option"):
        hook.on_page_markdown("<!-- timeline: quick_start fancy -->\n", Page(), None, None)


def app_with_a_job(job: Any) -> Ravyn:
    @post("/reports")
    def make_report(to: str, tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(job, to, 0.6)
        return {"to": to}

    return Ravyn(routes=[make_report])


def add_up(prices: list[float]) -> float:
    total = sum(prices)
    print(f"computed {total}")
    return total


async def blocking_report(to: str, seconds: float) -> None:
    time.sleep(seconds)  # never awaits: the event loop is held


def waited(job: Any) -> float:
    """How long a second client waited for its answer while `job` ran (the hook's measure)."""
    app = app_with_a_job(job)
    probe_it = Probe("GET", "/openapi.json", after=0.1)
    example = Example(**{**EXAMPLE.__dict__, "tasks": (job.__name__,), "probe": probe_it})
    timeline, probe = hook.record_request_and_probe(app, example, example.json)
    assert hook.check(example, timeline) == [] and probe.status == 200
    figure = unescape(
        re.sub(r"<[^>]+>", "", hook.render_figure(hook.Measurement(example, timeline, None, [], probe)))
    )
    assert f"it waited {hook.fmt_time(probe.waited)}" in figure
    assert "another client sends GET /openapi.json" in figure
    return float(probe.waited)


def test_the_second_client_waits_while_a_job_blocks_the_event_loop() -> None:
    assert waited(blocking_report) >= 0.3  # most of the job's 0.6 s


def test_the_second_client_is_answered_at_once_while_a_sync_job_runs_on_a_thread() -> None:
    assert waited(send_report) < 0.3


def test_a_lost_value_is_checked_against_the_body_and_the_log() -> None:
    @post("/total")
    def wrong(prices: list[float], tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(add_up, prices)
        return {"status": "calculating"}

    @post("/total")
    def right(prices: list[float], tasks: BackgroundTasks) -> dict[str, float]:
        tasks.add_task(add_up, prices)
        return {"total": sum(prices)}

    example = Example(
        module="total",
        title="",
        method="POST",
        path="/total",
        json={"prices": [40.0, 2.5]},
        status=201,
        tasks=("add_up",),
        lost_value="42.5",
    )
    timeline = hook.record_request(Ravyn(routes=[wrong]), example, example.json)
    assert hook.check(example, timeline) == []
    text = unescape(re.sub(r"<[^>]+>", "", hook.harm(hook.Measurement(example, timeline, None, []))))
    assert "has no 42.5 in it" in text
    timeline = hook.record_request(Ravyn(routes=[right]), example, example.json)
    assert hook.check(example, timeline) == [
        "the response has 42.5, which the figure says the client never gets"
    ]
