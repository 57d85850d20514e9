"""An app for the real-server tests: its tasks sleep one second, then leave a mark in a file
(after a success, or, for `/refunds`, after the 500 of a failed request)."""

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


@post("/refunds")
def refund(order: int, tasks: BackgroundTasks) -> None:
    tasks.add_task(write_receipt, order, when="error")  # a clean-up after the failure below
    raise RuntimeError(f"refund of order {order} failed")


app = Ravyn(routes=[create_order, refund])
