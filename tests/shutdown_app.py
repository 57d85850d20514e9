"""An app for the shutdown tests: its export task runs EXPORT_SECONDS and leaves files behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ravyn import BackgroundTasks, Ravyn, post

OUT = Path(os.environ.get("EXPORT_DIR", "."))


def export_orders(batch: str) -> None:
    (OUT / f"{batch}.started").touch()
    time.sleep(float(os.environ.get("EXPORT_SECONDS", "3")))
    (OUT / f"{batch}.done").touch()


@post("/exports")
def start_export(batch: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(export_orders, batch)
    return {"batch": batch, "status": "exporting"}


app = Ravyn(routes=[start_export], task_drain_timeout=float(os.environ.get("DRAIN_SECONDS", "30")))
