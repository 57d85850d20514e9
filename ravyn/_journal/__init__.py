"""The task journal (private): durable tasks, leases between workers, the crash report.

One concept a module: `store` (the file: open, check, schema), `writer` (the
one thread that writes it), `leases` (workers, heartbeats, claims), `check`
(what a durable task must be), `crash_report` (plain tasks in flight),
`journal` (`TaskJournal`, the parts together), `boundary` (the record before
the response), `runner` (the runner of an app with a journal). The public
names are in `ravyn.journal`.
"""
