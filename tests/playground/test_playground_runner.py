"""The playground's Python side, run here under CPython: every runnable example, and edits that fail.

In the browser the same module runs in Pyodide (test_playground_browser.py);
here it is quick to check that it drives each example as the build does and
draws it with the build hook's own code.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio.to_thread
import pytest

import ravyn.threads
from docs_src.catalogue import EXAMPLES, HELPERS
from tests.docs.conftest import ROOT
from tests.playground.conftest import PLAYGROUND, SHIPPED, load

pytestmark = pytest.mark.anyio

SOURCES = ROOT / "docs_src" / "background_tasks"


@pytest.fixture
def runner(tmp_path: Path) -> ModuleType:
    module = load(PLAYGROUND / "ravyn_playground.py", "ravyn_playground_under_test")
    module.prepare(str(tmp_path), str(ROOT / "docs" / "hooks" / "timelines.py"))
    return module


def runnable() -> list[str]:
    hook = load(ROOT / "docs" / "hooks" / "playground.py", "playground_hook_for_params")
    return [
        name
        for name, example in EXAMPLES.items()
        if name not in HELPERS and hook.not_runnable(example, ROOT, SHIPPED) is None
    ]


async def run(runner: ModuleType, name: str, source: str | None = None) -> dict[str, Any]:
    example = EXAMPLES[name]
    text = source if source is not None else (SOURCES / f"{name}.py").read_text("utf-8")
    temp_dirs = ",".join(v for v in example.notes.get("env", {}) if v.endswith("_DIR"))
    body = None if example.json is None else json.dumps(example.json)
    result: dict[str, Any] = json.loads(
        await runner.run(name, text, example.method, example.path, body, temp_dirs)
    )
    return result


def kinds(result: dict[str, Any], kind: str) -> list[str]:
    return [name for event_kind, name, _ in result["events"] if event_kind == kind]


def test_the_webhook_celery_and_durable_examples_are_the_ones_left_out() -> None:
    left_out = sorted(set(EXAMPLES) - HELPERS - set(runnable()))
    assert "webhook_notification" in left_out
    assert "pitfall_long_job_celery" in left_out
    assert "durable_tasks" in left_out  # its journal needs a file, a thread and a second start
    assert all(
        EXAMPLES[name].queue or {"receiver", "not_in_browser"} & set(EXAMPLES[name].notes)
        for name in left_out
    ), left_out


@pytest.mark.parametrize(
    "name",
    [name for name in runnable()],
)
async def test_each_runnable_example_answers_as_its_catalogue_says(runner: ModuleType, name: str) -> None:
    example = EXAMPLES[name]
    result = await run(runner, name)
    assert result["ok"], result["error"]
    assert result["status"] == example.status
    assert kinds(result, "task_started") == list(example.tasks)
    assert kinds(result, "task_failed") == list(example.failing)
    order = [kind for kind, _, _ in result["events"]]
    if example.tasks:
        assert order.index("response_complete") < order.index("task_started")
    assert f'data-example="{name}"' in result["html"]
    assert "What your browser just ran" in result["html"]
    assert "Measured when this page was built" not in result["html"]


def raising_in_task(source: str, task: str) -> tuple[str, int]:
    """`source` with `raise RuntimeError(...)` as the first statement of function `task`; its line."""
    function = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == task
    )
    first = function.body[0]
    lines = source.splitlines(keepends=True)
    lines.insert(first.lineno - 1, " " * first.col_offset + 'raise RuntimeError("the mail server is down")\n')
    return "".join(lines), first.lineno


async def test_an_edited_task_that_raises_is_drawn_failing_with_its_line(runner: ModuleType) -> None:
    source, line = raising_in_task((SOURCES / "quick_start.py").read_text("utf-8"), "send_welcome_email")
    result = await run(runner, "quick_start", source)
    assert result["ok"] and result["status"] == 201
    assert kinds(result, "task_failed") == ["send_welcome_email"]
    assert "RuntimeError: the mail server is down" in result["html"]
    assert f'data-line="{line}"' in result["html"]  # the logged traceback points at the raise
    assert f'File "docs_src/background_tasks/quick_start.py", line {line}' in result["html"].replace(
        "&quot;", '"'
    )


async def test_a_syntax_error_names_its_line(runner: ModuleType) -> None:
    source = (SOURCES / "quick_start.py").read_text("utf-8") + "\ndef broken(:\n    pass\n"
    result = await run(runner, "quick_start", source)
    assert not result["ok"]
    assert result["error"]["type"] == "SyntaxError"
    assert result["error"]["line"] == source.count("\n") - 1
    assert "Error while importing the example on line" in result["html"]


async def test_an_exception_in_the_handler_shows_the_500_and_the_line(runner: ModuleType) -> None:
    original = (SOURCES / "quick_start.py").read_text("utf-8")
    source = original.replace("account_id = next(account_ids)", "account_id = 1 // 0")
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "1 // 0" in text)
    result = await run(runner, "quick_start", source)
    assert result["status"] == 500
    assert result["error"] == {
        "type": "ZeroDivisionError",
        "message": "integer division or modulo by zero",
        "line": line,
        "traceback": result["error"]["traceback"],
    }
    assert re.search(r"The app raised while answering on line \d+", result["html"])


async def test_a_module_without_app_says_so(runner: ModuleType) -> None:
    source = (SOURCES / "quick_start.py").read_text("utf-8").replace("app = Ravyn()", "application = Ravyn()")
    source = source.replace("app.add_route", "application.add_route")
    result = await run(runner, "quick_start", source)
    assert not result["ok"]
    assert result["error"]["type"] == "AttributeError"
    assert "app" in result["error"]["message"]


async def test_without_threads_sync_callables_run_inline_and_the_output_says_so(
    runner: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anyio.to_thread, "run_sync", anyio.to_thread.run_sync)  # restored after
    monkeypatch.setattr(ravyn.threads, "THREADS_AVAILABLE", False)
    runner.prepare(str(runner._state["root"]), str(ROOT / "docs" / "hooks" / "timelines.py"))
    for _ in range(2):  # said on every run, not only on the process's first
        result = await run(runner, "quick_start")
        assert result["ok"] and result["inline"]
        assert "ravyn.threads" in kinds(result, "log")
        assert "ran <strong>inline</strong>" in result["html"]
    order = [kind for kind, _, _ in result["events"]]
    assert order.index("response_complete") < order.index("task_started")


async def test_the_examples_module_entry_is_left_as_it_was(runner: ModuleType) -> None:
    import sys

    before = sys.modules.get("docs_src.background_tasks.quick_start")
    await run(runner, "quick_start", "raise SystemExit('no')\n")
    assert sys.modules.get("docs_src.background_tasks.quick_start") is before
