"""An app for the shutdown tests: tasks that take their time, ignore cancellation
or never return, and a handler still busy when the signal comes. Each task
leaves a file behind in EXPORT_DIR when it starts, so the test knows."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio

from ravyn import BackgroundTasks, Depends, Ravyn, post

OUT = Path(os.environ.get("EXPORT_DIR", "."))
_never = threading.Event()


def export_orders(batch: str) -> None:
    (OUT / f"{batch}.started").write_text(str(os.getpid()))
    time.sleep(float(os.environ.get("EXPORT_SECONDS", "3")))
    (OUT / f"{batch}.done").touch()
    # one line per run, so a test can count that each export ran once, and where
    print(f"export {batch} done in process {os.getpid()}", flush=True)


async def stubborn_sync_of_crm(contact: str) -> None:
    """Swallows every cancellation it gets (a bug seen in real code): the drain must still end."""
    (OUT / "stubborn.started").touch()
    while True:
        try:
            await anyio.sleep(0.2)
        except asyncio.CancelledError:
            print("stubborn_sync_of_crm: ignoring a cancellation", flush=True)


def wait_for_a_reply_that_never_comes(ticket: str) -> None:
    """A sync task that never returns: its thread cannot be killed."""
    (OUT / "stuck.started").touch()
    _never.wait()


def send_receipt(order: str) -> None:
    (OUT / f"receipt-{order}").touch()


def _note(name: str) -> None:
    with (OUT / name).open("a") as file:
        file.write("closed\n")


def database_session() -> Iterator[str]:
    """A sync `yield` dependency; its clean-up in `finally`, to run whatever ends the request."""
    try:
        yield "session"
    finally:
        _note("session.closed")


async def audit_trail() -> AsyncIterator[str]:
    """An async `yield` dependency, its clean-up in `finally` too."""
    try:
        yield "audit"
    finally:
        _note("audit.closed")


@post("/exports")
def start_export(batch: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(export_orders, batch)
    return {"batch": batch, "status": "exporting"}


@post("/misbehaving")
def start_misbehaving(tasks: BackgroundTasks) -> dict[str, str]:
    # as a group, so that the second starts while the first never ends
    group = BackgroundTasks(as_group=True)
    group.add_task(stubborn_sync_of_crm, "ada")
    group.add_task(wait_for_a_reply_that_never_comes, "t-1")
    tasks.tasks.append(group)
    return {"status": "started"}


@post("/slow-checkout")
def slow_checkout(order: str, tasks: BackgroundTasks) -> dict[str, str]:
    """Still in its handler when the signal arrives."""
    (OUT / "handler.started").touch()
    time.sleep(float(os.environ.get("HANDLER_SECONDS", "1")))
    tasks.add_task(send_receipt, order)
    return {"order": order}


@post("/slow-report")
async def slow_report(
    report: str,
    tasks: BackgroundTasks,
    session: str = Depends(database_session),
    audit: str = Depends(audit_trail),
) -> dict[str, str]:
    """Still in its handler, with two `yield` dependencies open, when the signals come."""
    (OUT / f"{report}.handler").touch()
    await anyio.sleep(float(os.environ.get("HANDLER_SECONDS", "1")))
    tasks.add_task(export_orders, report)
    return {"report": report}


@post("/stubborn-report")
async def stubborn_report(report: str, audit: str = Depends(audit_trail)) -> dict[str, str]:
    """A handler that swallows its cancellation and carries on (a bug seen in real code)."""
    (OUT / f"{report}.handler").touch()
    while True:
        try:
            await anyio.sleep(0.2)
        except asyncio.CancelledError:
            print("stubborn_report: ignoring a cancellation", flush=True)


app = Ravyn(
    routes=[start_export, start_misbehaving, slow_checkout, slow_report, stubborn_report],
    task_drain_timeout=float(os.environ.get("DRAIN_SECONDS", "30")),
)
