"""Being told when the files of a folder change: watchdog's observer
(inotify, FSEvents, ReadDirectoryChangesW), with a slow look at the files as
a safety net.

The watch mode asks `FileChanges.wait()` whether anything happened in the
working folder; it then compares the file's modification time and size with
the last ones it checked, so an event for a write that changed nothing (or
for our own reset) does not start a check. Without watchdog, or where its
observer cannot start (no inotify watches left, a folder that is gone), every
`wait` says "look", which is the old polling.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["FileChanges"]


class FileChanges:
    """Changes in one folder, as a flag set by watchdog's observer thread.

    Use it as a context manager; `watching` says whether events arrive (False:
    the caller is polling).
    """

    def __init__(self, folder: Path, *, safety: float = 2.0) -> None:
        self.folder = folder
        self.safety = safety
        """Seconds after which `wait` says "look" even without an event."""
        self.watching = False
        self._changed = threading.Event()
        self._observer: Any = None
        self._looked = time.monotonic()

    def __enter__(self) -> FileChanges:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the observer; fall back to polling (quietly) if it cannot."""
        try:
            from watchdog.events import FileSystemEvent, FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:
            return
        changed = self._changed

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type not in ("opened", "closed_no_write"):  # reads change nothing
                    changed.set()

        observer = Observer()
        try:
            observer.schedule(Handler(), str(self.folder), recursive=False)
            observer.start()
        except OSError:  # the folder is gone, or the system is out of watches
            return
        self._observer = observer
        self.watching = True

    def stop(self) -> None:
        """Stop the observer, if one runs."""
        observer, self._observer = self._observer, None
        self.watching = False
        if observer is not None:
            observer.stop()
            observer.join(5)

    def wait(self, timeout: float) -> bool:
        """Whether to look at the files now: something in the folder changed
        within `timeout` seconds, or `safety` seconds passed since the last
        look (a folder deleted and made again is no longer watched), or
        there is no observer (polling). Clears the flag."""
        if not self.watching or (self._observer is not None and not self._observer.is_alive()):
            self.watching = False
            return True
        happened = self._changed.wait(timeout)
        self._changed.clear()
        now = time.monotonic()
        if happened or now - self._looked >= self.safety:
            self._looked = now
            return True
        return False
