"""Rules read from the learner's code, where behaviour cannot show them.

A stand-in such as `time.sleep(0.5)` ("the image library, which you cannot
change") takes the same half second as `await asyncio.sleep(0.5)`, so only
the code can tell which one is there. These helpers read the file's syntax
tree; the checks turn what they find into findings.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ravyn_tutorial.exercises.base import Finding, Lab

__all__ = [
    "Handler",
    "dotted",
    "except_handlers",
    "function",
    "keeps_stand_in",
    "mistakes",
    "side_channels",
    "sleeps_async",
]

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def dotted(node: ast.expr) -> str:
    """`time.sleep` for the expression `time.sleep`, `""` for anything not a name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr}" if head else f"?.{node.attr}"
    return ""


def function(tree: ast.Module, name: str) -> FunctionNode | None:
    """The module-level function `name`, if the file defines one."""
    found = [n for n in tree.body if isinstance(n, FunctionNode) and n.name == name]
    return found[-1] if found else None


def _imported_as(tree: ast.Module, module: str, name: str) -> set[str]:
    """The spellings under which `module.name` can be called in this file."""
    names = {f"{module}.{name}"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == module:
            names |= {alias.asname or alias.name for alias in node.names if alias.name == name}
        elif isinstance(node, ast.Import):
            names |= {
                f"{alias.asname}.{name}" for alias in node.names if alias.name == module and alias.asname
            }
    return names


def _number(node: ast.expr) -> float | None:
    return (
        float(node.value) if isinstance(node, ast.Constant) and isinstance(node.value, int | float) else None
    )


def keeps_stand_in(tree: ast.Module, func: str, seconds: float) -> bool:
    """Whether `func` still calls `time.sleep(seconds)`, directly or handed
    to a thread helper (`to_thread(time.sleep, seconds)`), which is the same
    blocking call moved off the event loop."""
    node = function(tree, func)
    if node is None:
        return False
    spellings = _imported_as(tree, "time", "sleep")
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        if dotted(call.func) in spellings and call.args and _number(call.args[0]) == seconds:
            return True
        arguments = list(call.args)
        for position, argument in enumerate(arguments[:-1]):
            if dotted(argument) in spellings and _number(arguments[position + 1]) == seconds:
                return True
    return False


def sleeps_async(tree: ast.Module, func: str) -> bool:
    """Whether `func` awaits `asyncio.sleep` or `anyio.sleep`."""
    node = function(tree, func)
    if node is None:
        return False
    spellings = _imported_as(tree, "asyncio", "sleep") | _imported_as(tree, "anyio", "sleep")
    return any(
        isinstance(n, ast.Await) and isinstance(n.value, ast.Call) and dotted(n.value.func) in spellings
        for n in ast.walk(node)
    )


SIDE_CHANNELS = {
    "create_task": "asyncio.create_task",
    "ensure_future": "asyncio.ensure_future",
    "Thread": "threading.Thread",
    "run_in_executor": "loop.run_in_executor",
    "submit": "an executor's submit",
    "start_soon": "a task group's start_soon",
}


def side_channels(tree: ast.Module) -> list[tuple[int, str]]:
    """`(line, what)` for each call that starts work outside Ravyn's runner
    and leaves it running: an awaited call (`await loop.run_in_executor(...)`
    inside a task) is waited for, so it is not one."""
    awaited = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Await)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and id(node) not in awaited:
            last = dotted(node.func).rsplit(".", 1)[-1]
            if last in SIDE_CHANNELS:
                found.append((node.lineno, SIDE_CHANNELS[last]))
    return sorted(found)


def _calls_too_early(tree: ast.Module) -> list[tuple[int, str, str]]:
    """`(line, how, function)` for `add_task(f(x))` and `BackgroundTask(f(x))`."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Call):
            continue
        how = dotted(node.func).rsplit(".", 1)[-1]
        inner = dotted(node.args[0].func)
        if how in ("add_task", "BackgroundTask") and inner and inner not in ("functools.partial", "partial"):
            found.append((node.lineno, how, inner))
    return found


@dataclass(frozen=True)
class Handler:
    """An `except` clause in a function, and what its body does."""

    line: int
    catches: str
    does: str
    """`nothing` (pass or ...), `print`, `log` (a logger call), `raise`, or `other`."""


LOGGING_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}


def except_handlers(tree: ast.Module, func: str) -> list[Handler]:
    """The `except` clauses of `func`, with what each does with the error."""
    node = function(tree, func)
    if node is None:
        return []
    handlers = []
    for handler in (n for n in ast.walk(node) if isinstance(n, ast.ExceptHandler)):
        catches = ast.unparse(handler.type) if handler.type is not None else "everything"
        calls = [dotted(n.func) for n in ast.walk(handler) if isinstance(n, ast.Call)]
        if any(isinstance(n, ast.Raise) for n in ast.walk(handler)):
            does = "raise"
        elif any(call.rsplit(".", 1)[-1] in LOGGING_METHODS and "." in call for call in calls):
            does = "log"
        elif "print" in calls:
            does = "print"
        elif all(
            isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
            for s in handler.body
        ):
            does = "nothing"
        else:
            does = "other"
        handlers.append(Handler(handler.lineno, catches, does))
    return handlers


def mistakes(lab: Lab) -> list[Finding]:
    """Findings for the mistakes any exercise can make, read from the code."""
    findings = []
    for line, how, inner in _calls_too_early(lab.tree):
        findings.append(
            Finding(
                False,
                f"Line {line}: `{how}({inner}(...))` calls {inner} right away, in the handler, and hands "
                f"{how} what it returned (None), which Ravyn then fails to run. Hand over the function "
                f"and its arguments separately: `{how}({inner}, ...)`.",
            )
        )
    for line, what in side_channels(lab.tree):
        findings.append(
            Finding(
                False,
                f"Line {line}: {what} starts work on the side, outside Ravyn: nothing waits for it, "
                "logs its failure or lets it finish at shutdown, and the check does not count it as a "
                "background task. Hand the work to Ravyn with BackgroundTasks or BackgroundTask instead.",
            )
        )
    return findings
