"""The journal's file: opening it, checking it is ours and sound, its schema.

One SQLite file (the standard library's `sqlite3`), in WAL mode with
`synchronous=FULL`, so that a committed transaction survives the process and
the machine losing power. The file is created with mode 0600 (SQLite gives its
`-wal` and `-shm` files the same mode). A `meta` table names the application
and the schema version.

Every way a file can be wrong is refused when the app is made, with a
`JournalError` naming the file and what to do: a folder that is missing or
read-only, a file that is not SQLite, a corrupted one, a foreign one (tables
of another program), a schema version other than ours. A journal from another
version is refused rather than migrated: there is one schema version so far,
and a file written by a newer Ravyn must not be read by an older one.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

__all__ = ["APPLICATION", "SCHEMA_VERSION", "JournalError", "open_journal"]

APPLICATION = "ravyn-task-journal"
SCHEMA_VERSION = 1
"""The schema this Ravyn writes and reads (stored in the `meta` table)."""

BUSY_TIMEOUT_MS = 5000
"""How long a write waits for another worker's transaction before it fails."""

SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # one row per durable task; `state`: running (claimed by `worker` until `lease_until`),
    # pending (free for any worker), done, failed, skipped
    """CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        reference TEXT NOT NULL,
        arguments TEXT NOT NULL,
        name TEXT NOT NULL,
        task_key TEXT,
        timeout REAL,
        retries INTEGER NOT NULL DEFAULT 0,
        retry_delay REAL NOT NULL DEFAULT 0,
        state TEXT NOT NULL,
        worker TEXT,
        lease_until REAL,
        attempts INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        error TEXT
    )""",
    "CREATE INDEX tasks_open ON tasks (state, lease_until) WHERE state IN ('running', 'pending')",
    # at most one unfinished task per key
    "CREATE UNIQUE INDEX tasks_key ON tasks (task_key) WHERE task_key IS NOT NULL "
    "AND state IN ('running', 'pending')",
    # the live workers (each process of `uvicorn --workers N`)
    """CREATE TABLE workers (
        id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,
        started REAL NOT NULL, heartbeat REAL NOT NULL
    )""",
    # plain (not durable) tasks handed to a runner and not ended yet: the crash report
    """CREATE TABLE in_flight (
        worker TEXT NOT NULL, seq INTEGER NOT NULL, description TEXT NOT NULL,
        created REAL NOT NULL, PRIMARY KEY (worker, seq)
    )""",
)
SQLITE_HEADER = b"SQLite format 3\x00"
"""The first bytes of every SQLite database file."""
OUR_TABLES = frozenset({"meta", "tasks", "workers", "in_flight"})


class JournalError(RuntimeError):
    """The task journal's file cannot be used: the message names the file and what to do."""


def open_journal(path: Path) -> sqlite3.Connection:
    """Open (creating if need be) the journal at `path`, checked; `JournalError` if it cannot be used.

    The connection is in autocommit mode: callers open their transactions
    (`BEGIN IMMEDIATE`) themselves. It may be used from another thread than
    this one, by one thread at a time.
    """
    folder = path.parent
    if not folder.is_dir():
        raise JournalError(f"task journal {path}: the folder {folder} does not exist; create it first")
    if path.is_dir():
        raise JournalError(f"task journal {path} is a folder; give the path of a file")
    if not os.access(folder, os.W_OK | os.X_OK):
        # SQLite writes its -wal and -shm files beside the journal: the folder must be writable
        raise JournalError(
            f"task journal {path}: the folder {folder} is not writable (SQLite writes {path.name}-wal "
            "beside it); give a writable folder, or make this one writable by the server's user"
        )
    if not path.exists():
        _create_private(path)
    elif not os.access(path, os.R_OK | os.W_OK):
        raise JournalError(
            f"task journal {path} is not readable and writable by this user; fix its permissions"
        )
    try:
        connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
    except sqlite3.Error as exc:
        raise JournalError(f"task journal {path} cannot be opened: {exc}") from exc
    try:
        _prepare(connection, path)
    except BaseException:
        connection.close()
        raise
    return connection


def _create_private(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return  # another worker made it first
    except OSError as exc:
        raise JournalError(f"task journal {path} cannot be created: {exc.strerror}") from exc
    os.close(descriptor)


def _prepare(connection: sqlite3.Connection, path: Path) -> None:
    with path.open("rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if header and header != SQLITE_HEADER:
        raise JournalError(
            f"task journal {path} is not a SQLite database; move it away or point "
            "task_journal at another file (a new one is created)"
        )
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise JournalError(
            f"task journal {path} is corrupted ({exc}): the tasks it holds cannot be trusted; "
            "move it away (keep it to inspect), and Ravyn starts a new one"
        ) from exc
    try:
        check = connection.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        check = (str(exc),)
    if check is None or check[0] != "ok":
        raise JournalError(
            f"task journal {path} is corrupted ({check[0] if check else 'no answer'}): the tasks it holds "
            "cannot be trusted; move it away (keep it to inspect), and Ravyn starts a new one"
        )
    foreign = sorted(name for name in tables - OUR_TABLES if not name.startswith("sqlite_"))
    if foreign or (tables and "meta" not in tables):
        raise JournalError(
            f"task journal {path} is not a Ravyn task journal (it has the tables "
            f"{', '.join(sorted(tables))}); give task_journal a file of its own"
        )
    try:
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()
    except sqlite3.OperationalError as exc:
        raise JournalError(f"task journal {path} cannot be switched to WAL mode: {exc}") from exc
    if mode is None or str(mode[0]).lower() != "wal":
        raise JournalError(
            f"task journal {path} cannot use WAL mode (got {mode[0] if mode else None!r}); "
            "put it on a local file system"
        )
    connection.execute("PRAGMA synchronous = FULL")
    if not tables:
        _create_schema(connection, path)
        return
    _check_meta(connection, path)


def _create_schema(connection: sqlite3.Connection, path: Path) -> None:
    try:
        connection.execute("BEGIN IMMEDIATE")
        # two workers may start together: the second sees the first one's schema
        exists = connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
        if exists is None:
            for statement in SCHEMA:
                connection.execute(statement)
            connection.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [("application", APPLICATION), ("schema_version", str(SCHEMA_VERSION))],
            )
        connection.execute("COMMIT")
    except sqlite3.Error as exc:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise JournalError(f"task journal {path}: its tables cannot be created: {exc}") from exc
    if exists is not None:
        _check_meta(connection, path)


def _check_meta(connection: sqlite3.Connection, path: Path) -> None:
    meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
    if meta.get("application") != APPLICATION:
        raise JournalError(
            f"task journal {path} is not a Ravyn task journal (its meta table names "
            f"{meta.get('application')!r}); give task_journal a file of its own"
        )
    version = meta.get("schema_version")
    if version != str(SCHEMA_VERSION):
        raise JournalError(
            f"task journal {path} has schema version {version}, this Ravyn reads version {SCHEMA_VERSION}: "
            "finish its tasks with the Ravyn version that wrote it, or move the file away to start a new one"
        )
