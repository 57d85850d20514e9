"""A database session from a `yield` dependency, still open in the background task that uses it.

The code after `yield` runs once the request is over, after its background
tasks, so `count_signups` reads through the same session the handler wrote
with. The session is an SQLite connection to an in-memory database, opened
with `check_same_thread=False`: the dependency, the handler and the task each
run on a worker thread, not necessarily the same one.
"""

import logging
import sqlite3
from collections.abc import Iterator

from ravyn import BackgroundTasks, Depends, Ravyn, post

logger = logging.getLogger(__name__)


def database_session() -> Iterator[sqlite3.Connection]:
    session = sqlite3.connect(":memory:", check_same_thread=False)
    session.execute("CREATE TABLE signups (email TEXT NOT NULL)")
    try:
        yield session
    finally:
        session.close()
        logger.info("Session closed")


def count_signups(session: sqlite3.Connection, email: str) -> None:
    (total,) = session.execute("SELECT COUNT(*) FROM signups").fetchone()
    logger.info("Signup of %s counted: %d in total", email, total)


@post("/signups")
def sign_up(
    email: str, tasks: BackgroundTasks, session: sqlite3.Connection = Depends(database_session)
) -> dict[str, str]:
    session.execute("INSERT INTO signups (email) VALUES (?)", (email,))
    session.commit()
    tasks.add_task(count_signups, session, email)
    return {"email": email, "status": "registered"}


app = Ravyn(routes=[sign_up])
