"""An app for the real-server test: its task sleeps one second, then leaves a mark in a file."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ravyn import BackgroundTasks, Ravyn, post


def write_receipt(order: int) -> None:
    time.sleep(1.0)
    with Path(os.environ["RECEIPTS_FILE"]).open("a") as receipts:
        receipts.write(f"{order} {time.time()}\n")


@post("/orders")
def create_order(order: int, tasks: BackgroundTasks) -> dict[str, int]:
    tasks.add_task(write_receipt, order)
    return {"order": order}


app = Ravyn(routes=[create_order])
