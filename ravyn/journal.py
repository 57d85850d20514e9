"""The task journal's public names: durable tasks on an embedded SQLite file.

`Ravyn(task_journal="tasks.sqlite3")` turns the journal on; pass a
`TaskJournal` instead of a path to choose its options. See the guide's
"Durable tasks" page for the guarantees.
"""

from ravyn._journal.check import MAX_ARGUMENTS_BYTES
from ravyn._journal.journal import JournalStats, TaskJournal
from ravyn._journal.store import SCHEMA_VERSION, JournalError

__all__ = ["MAX_ARGUMENTS_BYTES", "SCHEMA_VERSION", "JournalError", "JournalStats", "TaskJournal"]
