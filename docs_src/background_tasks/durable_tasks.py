"""An order's invoice is a durable task: in the task journal before the 201, run again after a crash.

The journal is a SQLite file in `TASK_JOURNAL_DIR` (default: a `ravyn-durable-tasks`
folder in the system's temporary folder); `INVOICE_SECONDS` sets how long sending
an invoice takes (kill the server during it, start it again: the invoice is sent).
"""

import logging
import os
import tempfile
import time
from pathlib import Path

from ravyn import BackgroundTasks, Ravyn, post

logger = logging.getLogger(__name__)

JOURNAL_DIR = Path(os.environ.get("TASK_JOURNAL_DIR") or Path(tempfile.gettempdir()) / "ravyn-durable-tasks")
JOURNAL_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
SEND_SECONDS = float(os.environ.get("INVOICE_SECONDS", "0.1"))


def send_invoice(order_id: int, email: str) -> None:
    """Render and send the invoice; a module-level function, so the journal can find it again."""
    time.sleep(SEND_SECONDS)  # stands in for rendering a PDF and a slow mail server
    logger.info("Invoice for order %s sent to %s", order_id, email)


@post("/orders")
def place_order(order_id: int, email: str, tasks: BackgroundTasks) -> dict[str, object]:
    # committed to the journal before the 201 is sent; one unfinished invoice per order
    tasks.add_task(send_invoice, order_id, email, durable=True, key=f"invoice-{order_id}")
    return {"order_id": order_id, "status": "placed"}


app = Ravyn(routes=[place_order], task_journal=JOURNAL_DIR / "tasks.sqlite3")
