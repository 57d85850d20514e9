"""What the learner has done, remembered in the working folder.

A small JSON file, `.ravyn-tutorial.json`, next to the exercise files:

```json
{"version": 1, "exercises": {"slow_signup": {"started": "...", "hints": 1, "checks": 2,
                                             "passed": "...", "passed_digest": "..."}}}
```

A pass holds for the file as it was when it passed: `passed_digest` is the
SHA-256 of that file, and once the file changes its status is `changed`
until it is checked again.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["PROGRESS_FILE", "Progress", "digest"]

PROGRESS_FILE = ".ravyn-tutorial.json"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def digest(path: Path) -> str | None:
    """The SHA-256 of a file's bytes, or `None` if it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class Progress:
    """The progress record of one working folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / PROGRESS_FILE
        self.exercises: dict[str, dict[str, Any]] = {}
        self.load()

    def load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        exercises = data.get("exercises") if isinstance(data, dict) else None
        if isinstance(exercises, dict):
            self.exercises = {k: v for k, v in exercises.items() if isinstance(v, dict)}

    def save(self) -> None:
        """Write the record atomically (a crash never leaves half a file)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"version": 1, "exercises": self.exercises}, indent=2, sort_keys=True)
        temporary = self.path.with_name(f"{PROGRESS_FILE}.{os.getpid()}.tmp")
        temporary.write_text(text + "\n", encoding="utf-8")
        os.replace(temporary, self.path)

    def entry(self, name: str) -> dict[str, Any]:
        return self.exercises.setdefault(name, {})

    def started(self, name: str) -> None:
        self.entry(name).setdefault("started", _now())
        self.save()

    def checked(self, name: str, passed: bool, checked_digest: str | None = None) -> None:
        """Count a check; a pass is remembered with the digest of the file
        as it was checked, a failure forgets an earlier pass."""
        entry = self.entry(name)
        entry["checks"] = int(entry.get("checks", 0)) + 1
        if passed:
            entry.setdefault("passed", _now())
            entry["passed_digest"] = checked_digest
        else:
            entry.pop("passed", None)
            entry.pop("passed_digest", None)
        self.save()

    def hints_seen(self, name: str) -> int:
        """How many hints of `name` have been shown."""
        return int(self.exercises.get(name, {}).get("hints", 0))

    def next_hint(self, name: str, available: int) -> int:
        """The index of the hint to show now (0-based), remembered for next time."""
        entry = self.entry(name)
        shown = int(entry.get("hints", 0))
        entry["hints"] = min(shown + 1, available)
        self.save()
        return min(shown, available - 1)

    def status(self, name: str) -> str:
        """`passed`, `changed` (passed, but the file changed since), `started` or `new`."""
        entry = self.exercises.get(name, {})
        if entry.get("passed"):
            wanted = entry.get("passed_digest")
            if wanted is None or digest(self.folder / f"{name}.py") == wanted:
                return "passed"
            return "changed"
        return "started" if entry.get("started") else "new"
