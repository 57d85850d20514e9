"""The journal's file: created private, in WAL mode, with its schema version;
every file that cannot be trusted is refused at start, naming it and what to do."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from ravyn import Ravyn
from ravyn._journal.store import SCHEMA_VERSION, JournalError, open_journal
from ravyn.journal import TaskJournal


def test_a_new_journal_is_private_in_wal_mode_and_names_its_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    connection = open_journal(path)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        assert meta == {"application": "ravyn-task-journal", "schema_version": str(SCHEMA_VERSION)}
    finally:
        connection.close()


def test_an_existing_journal_opens_again(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    open_journal(path).close()
    open_journal(path).close()


def test_an_empty_file_becomes_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    path.touch()
    open_journal(path).close()


def test_a_missing_folder_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "tasks.sqlite3"
    with pytest.raises(JournalError, match=r"the folder .*nowhere does not exist; create it first"):
        open_journal(path)


def test_a_folder_given_as_the_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="is a folder; give the path of a file"):
        open_journal(tmp_path)


def test_a_read_only_folder_is_refused_at_start(tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes through permissions: /proc refuses even root
        path = Path("/proc/ravyn-tasks.sqlite3")
        expected = "cannot be created"
    else:
        folder = tmp_path / "locked"
        folder.mkdir(mode=0o500)
        path = folder / "tasks.sqlite3"
        expected = "is not writable"
    with pytest.raises(JournalError, match=expected) as refused:
        Ravyn(task_journal=path)
    assert str(path) in str(refused.value)
    assert not path.exists()


def test_a_file_that_is_not_sqlite_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    path.write_text("order,email\n1,ada@example.com\n")
    with pytest.raises(JournalError, match="is not a SQLite database; move it away"):
        TaskJournal(path)
    assert path.read_text() == "order,email\n1,ada@example.com\n"


def test_a_foreign_sqlite_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
    before = path.read_bytes()
    with pytest.raises(JournalError, match=r"not a Ravyn task journal \(it has the tables users\)"):
        Ravyn(task_journal=path)
    assert path.read_bytes() == before


def test_a_corrupted_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    connection = open_journal(path)
    connection.execute("INSERT INTO in_flight VALUES ('w', 1, ?, 0)", ("x" * 20_000,))
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[page : len(data)] = b"\xa5" * (len(data) - page)  # every page but the header's
    path.write_bytes(bytes(data))
    with pytest.raises(JournalError, match="is corrupted") as refused:
        TaskJournal(path)
    assert "move it away" in str(refused.value)


def test_a_journal_of_another_schema_version_is_refused_naming_both(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    open_journal(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(JournalError, match=f"schema version 0, this Ravyn reads version {SCHEMA_VERSION}"):
        TaskJournal(path)


def test_two_apps_on_one_file_both_open_it(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite3"
    first, second = Ravyn(task_journal=path), Ravyn(task_journal=str(path))
    assert first.task_journal is not None and second.task_journal is not None
    assert first.task_journal.worker.id != second.task_journal.worker.id


def test_bad_journal_options_are_refused() -> None:
    with pytest.raises(ValueError, match="lease must be a positive number"):
        TaskJournal("x.sqlite3", lease=0)
    with pytest.raises(ValueError, match="max_attempts must be a whole number >= 1"):
        TaskJournal("x.sqlite3", max_attempts=0)
