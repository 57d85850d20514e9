"""Pitfall: the session commits after `yield`, so the task runs before the commit and finds nothing.

`unit_of_work` is the usual shape of a session dependency: hand the session
over, commit when the request is done. But a `yield` dependency's clean-up runs
once the request is over, **after its background tasks**. The task does the
right thing (it opens its own connection and is given the order's id), and
still reads the database before the order is committed. The client already
has its 201 for an order the task cannot see, and a commit that fails now
fails after the client was told "placed".
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


def unit_of_work() -> Iterator[sqlite3.Connection]:
    session = connect()
    try:
        yield session
        session.commit()  # runs after the request's background tasks
        logger.info("Order committed")
    finally:
        session.close()


def send_confirmation(order_id: int) -> None:
    with contextlib.closing(connect()) as db:  # the task's own connection
        row = db.execute("SELECT item FROM orders WHERE id = ?", (order_id,)).fetchone()
    if row is None:
        logger.warning("Order %d not found: no confirmation sent", order_id)
    else:
        logger.info("Confirmation sent for order %d (%s)", order_id, row[0])


@post("/orders")
def place_order(
    item: str, tasks: BackgroundTasks, session: sqlite3.Connection = Depends(unit_of_work)
) -> dict[str, object]:
    cursor = session.execute("INSERT INTO orders (item) VALUES (?)", (item,))
    tasks.add_task(send_confirmation, cursor.lastrowid)
    return {"order_id": cursor.lastrowid, "status": "placed"}


app = Ravyn(routes=[place_order])
