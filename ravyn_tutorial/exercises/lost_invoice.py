"""lost_invoice: a task that must survive a crash becomes durable, on the app's task journal."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import anyio

from ravyn_tutorial.exercises import rules, samples
from ravyn_tutorial.exercises.base import Exercise, Finding, Lab
from ravyn_tutorial.exercises.restart import Crash, crash_and_restart
from ravyn_tutorial.exercises.verdicts import shown

SEND_SECONDS = 1
"""How long send_invoice takes, in the template: long enough for the kill to land during it."""
FIX = "tasks.add_task(send_invoice, order_id, email, durable=True)"
JOURNAL = 'Ravyn(routes=[place_order], task_journal="invoices.sqlite3")'


def _done(order: dict[str, Any]) -> str:
    return f"invoice for order {order['order_id']} sent to {order['email']}"


def _asks_durable(tree: ast.Module) -> bool:
    """Whether the code passes `durable=True` anywhere (to add_task, configure or BackgroundTask)."""
    return any(
        isinstance(node, ast.keyword)
        and node.arg == "durable"
        and isinstance(node.value, ast.Constant)
        and node.value.value is True
        for node in ast.walk(tree)
    )


def _fixed_key(tree: ast.Module) -> str | None:
    """The key given as a plain string (`key="invoice"`), the same for every order, if there is one."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.keyword)
            and node.arg == "key"
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    return None


def _refusal(lines: list[str]) -> str:
    """The last line of the error Ravyn logged when it refused the durable task, if any."""
    for line in reversed(lines):
        if "TypeError: durable task" in line:
            return line.strip()[line.strip().index("TypeError") :]
    return ""


def _line_in(lines: list[str], path: Path) -> str:
    """`, at line N of your file` for the last traceback frame in the learner's file, else `""`."""
    found = ""
    for line in lines:
        match = re.match(r'\s*File "(.+)", line (\d+)', line)
        if match and Path(match[1]).name == path.name:
            found = f", at line {match[2]} of your file"
    return found


def _refused(crash: Crash, order: dict[str, Any], path: Path) -> Finding:
    assert crash.first is not None
    said = _refusal(crash.before_kill)
    where = _line_in(crash.before_kill, path)
    text = (
        f"For POST /orders {shown(order)} the server answered {crash.first.status} with "
        f"{shown(crash.first.body)}, not 201 with the order."
    )
    if "lambda" in said or "inside another" in said:
        return Finding(
            False,
            f"{text} Ravyn refused the durable task when it was made{where} ({said}). A durable task is "
            "written to the journal as the function's module path (`module:function`) and its "
            "arguments, so that a new process can import the function and call it again after a crash; "
            "a lambda, or a function defined inside the handler, has no such path, so Ravyn says so at "
            "once instead of losing the task at the restart. Hand it the function itself, and its "
            "arguments: `add_task(send_invoice, order_id, email, durable=True)`.",
        )
    if said:
        return Finding(
            False,
            f"{text} Ravyn refused the durable task when it was made{where} ({said}): a durable task's "
            "function must be importable by its module path, and its arguments must come back the same "
            "from JSON.",
        )
    return Finding(False, text)


def _lost(lab: Lab, order: dict[str, Any]) -> Finding:
    lost = (
        f"The server was killed right after its 201 for order {order['order_id']}, and the invoice was "
        "never sent, not even after the restart"
    )
    journal = getattr(lab.module.app, "task_journal", None)
    durable = _asks_durable(lab.tree)
    if durable and journal is None:
        return Finding(
            False,
            f"{lost}. The task asks for durable=True, but the app has no task journal: Ravyn then runs "
            "it as a plain task, in memory (it logs a warning saying so), and it died with the process. "
            'Give the app a journal: `Ravyn(..., task_journal="invoices.sqlite3")`.',
        )
    if journal is not None and not durable:
        return Finding(
            False,
            f"{lost}. The app has a task journal, but the invoice task is not durable: only tasks made "
            "with durable=True are written to it: `add_task(send_invoice, ..., durable=True)`.",
        )
    return Finding(
        False,
        f"{lost}: the task lived only in the memory of the process that died. Make it durable, so that "
        "Ravyn writes it to a journal before the 201 and runs it again at the next start: the task asks "
        "for that with durable=True, and the app needs a task_journal.",
    )


def _twice(order: dict[str, Any], before: int, after: int) -> Finding:
    text = (
        f"The invoice for order {order['order_id']} was sent {before + after} times: {before} by the "
        f"server before it was killed, {after} after the restart. Sent twice is as wrong as never sent."
    )
    if before:
        text += (
            " The killed server sent it before it died, in the second it had: does the handler still call "
            "send_invoice itself? The durable task does that work: remove the direct call."
        )
    else:
        text += " The restarted app ran it more than once: hand Ravyn one durable task per order."
    return Finding(False, text)


def _verdict(lab: Lab, crash: Crash, first: dict[str, Any], second: dict[str, Any]) -> list[Finding]:
    if crash.failure:
        return [Finding(False, f"The check ran your file under uvicorn, and {crash.failure}")]
    if crash.first is None or crash.first.status != 201 or not isinstance(crash.first.body, dict):
        return [_refused(crash, first, lab.path)]
    findings = []
    before = sum(_done(first) in line for line in crash.before_kill)
    after = sum(_done(first) in line for line in crash.after_restart)
    if before + after > 1:
        findings.append(_twice(first, before, after))
    elif before == 1:
        findings.append(
            Finding(
                False,
                f"The invoice for order {first['order_id']} was sent by the server before it was killed, "
                "so the crash tested nothing: the handler calls send_invoice itself, or send_invoice no "
                "longer takes its time. Keep send_invoice as it is and let a durable task send it.",
            )
        )
    elif after == 0:
        findings.append(_lost(lab, first))
    else:
        findings.append(
            Finding(
                True,
                f"Killed with SIGKILL right after its 201 for order {first['order_id']}, the server lost "
                "nothing: the restarted app sent that invoice, once.",
            )
        )
    sent = sum(_done(second) in line for line in crash.after_restart)
    if crash.second is None or crash.second.status != 201:
        status = None if crash.second is None else crash.second.status
        findings.append(Finding(False, f"After the restart, POST /orders answered {status}, not 201."))
    elif sent != 1:
        text = (
            f"After the restart, the invoice for order {second['order_id']} was sent {sent} times; "
            "a server that is not killed must send it once."
        )
        key = _fixed_key(lab.tree)
        if sent == 0 and key is not None:
            text += (
                f" Every order's durable task has the key {key!r}: Ravyn keeps at most one unfinished "
                f"durable task per key, so order {second['order_id']}'s was dropped while order "
                f"{first['order_id']}'s was still unfinished. A key names one piece of work: "
                'make it name the order, key=f"invoice-{order_id}".'
            )
        findings.append(Finding(False, text))
    else:
        findings.append(
            Finding(True, f"Without a crash, the invoice for order {second['order_id']} was sent once too.")
        )
    return findings


async def check(lab: Lab) -> list[Finding]:
    findings = rules.mistakes(lab)
    if not rules.keeps_stand_in(lab.tree, "send_invoice", SEND_SECONDS):
        findings.append(
            Finding(
                False,
                f"send_invoice must keep its `time.sleep({SEND_SECONDS})`: it stands for the slow mail "
                "server, and the check kills the server during that second.",
            )
        )
        return findings
    first, second = (
        {"order_id": lab.random.randrange(1000, 100000), "email": samples.email(lab.random)} for _ in range(2)
    )
    crash = await anyio.to_thread.run_sync(crash_and_restart, lab.path, "/orders", first, second, _done)
    findings.extend(_verdict(lab, crash, first, second))
    return findings


EXERCISE = Exercise(
    name="lost_invoice",
    title="An invoice that survives a crash: a durable task",
    goal=(
        "POST /orders sends the order's invoice in the background, and a server killed during that "
        "second loses it. Make the invoice survive a SIGKILL after the 201: sent when the app starts "
        "again, exactly once."
    ),
    template="lost_invoice.py",
    needs=("send_invoice",),
    check=check,
    covers="durable_tasks",
    served=True,
    rules=("send_invoice stays as it is: it stands for the mail server.",),
    hints=(
        "A background task lives in the memory of the process that runs it: when the process dies, the "
        "task dies with it, and nothing remembers it. What would have to be written down, and when, for "
        "a new process to finish it?",
        "Ravyn can write a task to a task journal (a SQLite file) before the response is sent, and run "
        "the unfinished ones again when the app starts: the task asks for it with durable=True, and the "
        "app needs a journal, `Ravyn(..., task_journal=...)`.",
        f"`{FIX}` in the handler, and `{JOURNAL}`. Keep send_invoice at the top of the file: the "
        "journal finds it again by its module path.",
    ),
)
