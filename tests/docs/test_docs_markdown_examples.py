"""The Python blocks written in docs/*.md: linted with ruff, and run when complete.

A block that is a fragment (it uses names defined by its neighbours) says so in
its fence, the way pytest-examples reads it: ```` ```{.python test="skip"} ````.
Such a block is still linted, without the undefined-name check. A block titled
`test_*.py` is a test module: its `test_*` functions are called after it runs.
Blocks that only include a file from `docs_src/` (`--8<--`) are left to the
examples' own tests.
"""

from __future__ import annotations

import inspect
import subprocess
import traceback
from typing import Any

import anyio
import pytest
from pytest_examples import CodeExample, EvalExample, find_examples
from ruff.__main__ import find_ruff_bin

from tests.docs.conftest import DOCS, ROOT

RUFF_SELECT = ["E", "F", "W", "I", "B", "UP", "SIM", "RUF"]


def is_include(example: CodeExample) -> bool:
    return example.source.lstrip().startswith("--8<--")


EXAMPLES = [example for example in find_examples(DOCS) if not is_include(example)]


def example_id(example: CodeExample) -> str:
    return f"{example.path.relative_to(ROOT)}:{example.start_line}"


def test_the_docs_have_inline_python_blocks() -> None:
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
def test_inline_python_block(example: CodeExample, eval_example: EvalExample) -> None:
    settings = example.prefix_settings()
    fragment = settings.get("test") == "skip"
    eval_example.set_config(
        ruff_line_length=88,
        target_version="py311",
        ruff_select=RUFF_SELECT,
        ruff_ignore=["F821", "F841"] if fragment else None,
    )
    if settings.get("lint") != "skip":
        eval_example.lint_ruff(example)
        check_format(example)
    if fragment:
        return
    error = None
    try:
        module = eval_example.run(example)
        if settings.get("title", "").startswith("test_"):
            run_tests(module)
    except Exception as exc:
        error = describe_failure(example, exc)
    if error:  # raised outside the except block: see describe_failure
        pytest.fail(error, pytrace=False)


def describe_failure(example: CodeExample, exc: Exception) -> str:
    """The error and where it happened, down to the line of the Markdown file.

    pytest-examples gives the exception a traceback pointing into the Markdown
    file, which pytest cannot render (an INTERNALERROR that would end the whole
    session), so the failure is reported as text.
    """
    where = [f"  {frame.f_code.co_filename}:{line}" for frame, line in traceback.walk_tb(exc.__traceback__)]
    error = "".join(traceback.format_exception_only(exc)).strip()
    return f"{example_id(example)} failed: {error}\n" + "\n".join(where[-4:])


def check_format(example: CodeExample) -> None:
    """The block is laid out as `ruff format` would (88 columns, for the page's width)."""
    done = subprocess.run(
        [find_ruff_bin(), "format", "--diff", "--line-length", "88", "-"],
        input=example.source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{example_id(example)} is not formatted like `ruff format`:\n{done.stdout}"


def run_tests(module: dict[str, Any]) -> None:
    tests = [value for name, value in module.items() if name.startswith("test_") and callable(value)]
    assert tests, "a test_*.py block without a test function"
    for test in tests:
        if inspect.iscoroutinefunction(test):
            anyio.run(test)
        else:
            test()
