"""Fix: commit, then respond, then run. The handler commits before it returns, so the task finds the order.

The same session dependency, without the commit after `yield`: the handler
commits its own work before returning. If the commit fails, the client gets an
error instead of a 201, and no task is run for an order that does not exist.
The dependency's clean-up only closes the session (rolling back anything left
uncommitted), after the task.
"""

import contextlib
import logging
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ravyn import BackgroundTasks, Depends, Ravyn, post

logger = logging.getLogger(__name__)

DATABASE = Path(tempfile.mkdtemp(prefix="ravyn-shop-")) / "shop.db"  # stands in for your database


def connect() -> sqlite3.Connection:
    # the dependency and the task each run on a worker thread, not necessarily the same one
    return sqlite3.connect(DATABASE, check_same_thread=False)


with contextlib.closing(connect()) as setup, setup:
    setup.execute("PRAGMA journal_mode=WAL")  # readers see the last commit, as in PostgreSQL
    setup.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL)")


def database_session() -> Iterator[sqlite3.Connection]:
    session = connect()
    try:
        yield session
    finally:
        session.close()  # what was not committed is rolled back
        logger.info("Session closed")


def send_confirmation(order_id: int) -> None:
    with contextlib.closing(connect()) as db:  # the task's own connection
        row = db.execute("SELECT item FROM orders WHERE id = ?", (order_id,)).fetchone()
    if row is None:
        logger.warning("Order %d not found: no confirmation sent", order_id)
    else:
        logger.info("Confirmation sent for order %d (%s)", order_id, row[0])


@post("/orders")
def place_order(
    item: str, tasks: BackgroundTasks, session: sqlite3.Connection = Depends(database_session)
) -> dict[str, object]:
    cursor = session.execute("INSERT INTO orders (item) VALUES (?)", (item,))
    session.commit()  # before the response: a failed commit is the client's error, not a lost order
    tasks.add_task(send_confirmation, cursor.lastrowid)
    return {"order_id": cursor.lastrowid, "status": "placed"}


app = Ravyn(routes=[place_order])
