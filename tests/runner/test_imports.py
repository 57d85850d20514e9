"""The `ravyn` package has no import cycle, and the runner package's layout holds.

The import graph is read from the source with `ast`: every `import` and
`from ... import` of a `ravyn` module, at module level or inside a function,
is an edge; imports under `if TYPE_CHECKING:` are not (they never run).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import ravyn
import ravyn.runner

PACKAGE = Path(ravyn.__file__).resolve().parent
ROOT = PACKAGE.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, name: str | None) -> str | None:
    """The `ravyn` module an import names: `from a.b import c` is `a.b.c` when c is a module."""
    if name is not None and f"{module}.{name}" in MODULES:
        return f"{module}.{name}"
    return module if module in MODULES else None


def _imports(module: str) -> set[str]:
    tree = ast.parse(MODULES[module].read_text())
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name, None)
                if target:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                target = _resolve(node.module, alias.name)
                if target:
                    found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(module)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph`, as the modules along it, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := walk(target)):
                return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := walk(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_of_ravyn_is_part_of_an_import_cycle() -> None:
    graph = {module: _imports(module) for module in MODULES}
    assert graph["ravyn.background"] and graph["ravyn.runner.core"]  # the graph was read
    assert _cycle(graph) is None


def test_the_runner_does_not_import_the_task_classes() -> None:
    # background imports the runner (to run a task): never the other way round
    runner_modules = [module for module in MODULES if module.startswith("ravyn.runner")]
    assert not [module for module in runner_modules if "ravyn.background" in _imports(module)]


def test_no_module_looks_a_ravyn_module_up_by_name_at_run_time() -> None:
    # importlib.import_module("ravyn....") or sys.modules.get("ravyn....") hide an edge from the graph
    hidden = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                continue
            if isinstance(node, ast.Call) and "import_module" in ast.unparse(node.func):
                hidden.append(module)
            if isinstance(node, ast.Attribute) and ast.unparse(node) == "sys.modules":
                hidden.append(module)
    assert hidden == []


@pytest.mark.parametrize("first", ["ravyn.background", "ravyn.runner", "ravyn.runner.core", "ravyn.threads"])
def test_a_module_imported_first_in_a_fresh_interpreter_loads(first: str) -> None:
    # whichever module comes first, the others it needs load after it
    done = subprocess.run(
        [sys.executable, "-c", f"import {first}, ravyn; print(ravyn.BackgroundTask.__name__)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert (done.returncode, done.stdout.strip()) == (0, "BackgroundTask"), done.stderr


def test_every_runner_module_stays_small() -> None:
    sizes = {
        module: len(path.read_text().splitlines())
        for module, path in MODULES.items()
        if module.startswith("ravyn.runner")
    }
    assert {module: size for module, size in sizes.items() if size > 450} == {}


def test_the_runner_package_exports_its_public_names() -> None:
    for name in ravyn.runner.__all__:
        assert getattr(ravyn.runner, name) is not None
    assert {"TaskRunner", "TaskEvent", "TaskStats", "observe_tasks", "current_runner"} <= set(
        ravyn.runner.__all__
    )
