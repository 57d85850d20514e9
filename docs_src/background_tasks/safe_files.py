"""A private folder for files named by clients, and a way to write in it that follows no link.

A helper of `upload_accepted`: the example's page shows the handler and the
task; the checks live here. `UploadFolder` does three things:

* `path`: the folder. With no configured path it is a new folder from
  `tempfile.mkdtemp`, made on first use (a name nobody can guess, readable and
  writable by us alone). A configured folder is checked when the `UploadFolder`
  is made, so a bad setting stops the app as it starts: it is created with the
  same permissions if it does not exist; if it does, it must be a real folder
  (not a symlink), owned by the user the server runs as, and not writable by
  anyone else (`UnsafeFolderError` otherwise).
* `checked_name(filename, field)`: the name, or a 400 naming `field` if it is
  not a plain file name (no folders, no leading dot, no name Windows keeps for
  a device) or if it, with the longest suffix the app adds to it, would be longer
  in bytes than the folder's file system allows.
* `open_to_append(name)`: opens a file in the folder for appending, creating it
  if needed, and refuses a symlink, a hard link or anything that is not a
  regular file put there in its place (`O_NOFOLLOW`, relative to the folder's
  own descriptor, so a folder swapped for a link is not followed either).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import TextIO

from ravyn.exceptions import FieldError, RequestError

__all__ = ["UnsafeFolderError", "UploadFolder"]

# ASCII letters, digits, "_", "-" and ".", not starting with a dot: no "/", "\", "..", NUL or empty name
PLAIN_FILE_NAME = re.compile(r"[\w-][\w.-]*", re.ASCII)
# names Windows keeps for devices, whatever the extension ("con.txt" is the console)
RESERVED_NAMES = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{n}" for n in range(10)),
    *(f"lpt{n}" for n in range(10)),
}
NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)  # POSIX; Windows has no such flag
DIRECTORY = getattr(os, "O_DIRECTORY", 0)


class UnsafeFolderError(RuntimeError):
    """The configured folder could be written by someone else: a server setting to fix, not a client error."""


class UploadFolder:
    """Where files named by clients go: a folder of ours alone, written without following links.

    Example:
        ```python
        uploads = UploadFolder(os.environ.get("UPLOAD_DIR"), suffixes=(".scan.txt",))
        name = uploads.checked_name(filename, field="filename")  # a 400 if unsafe
        with uploads.open_to_append(name + ".scan.txt") as report:
            report.write("clean\\n")
        ```
    """

    def __init__(self, configured: str | None = None, *, suffixes: tuple[str, ...] = ()) -> None:
        self.configured = configured
        self.suffixes = suffixes
        """What the app may append to a client's name (the longest one counts against the limit)."""
        if configured:
            self.path  # noqa: B018  # a bad setting stops the app as it starts, not at its first upload

    @functools.cached_property
    def path(self) -> Path:
        """The folder, made or checked the first time it is needed."""
        if not self.configured:
            return Path(tempfile.mkdtemp(prefix="ravyn-uploads-"))
        folder = Path(self.configured)
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700, parents=True)
        info = folder.lstat()
        problem = None
        if not stat.S_ISDIR(info.st_mode):
            problem = "is not a folder (a symlink to one is refused too)"
        elif hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            problem = "belongs to another user"
        elif info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            problem = "can be written by other users (chmod go-w, or leave the setting out for a private one)"
        if problem:
            raise UnsafeFolderError(f"the upload folder {folder} {problem}")
        return folder

    @functools.cached_property
    def max_name_bytes(self) -> int:
        """The longest file name, in bytes, the folder's file system takes (255 on most)."""
        try:
            return os.pathconf(self.path, "PC_NAME_MAX")
        except (AttributeError, OSError, ValueError):  # no pathconf (Windows), or no answer
            return 255

    @functools.cached_property
    def max_path_bytes(self) -> int:
        """The longest path, in bytes and with its final NUL, the folder's file system takes."""
        try:
            return os.pathconf(self.path, "PC_PATH_MAX")
        except (AttributeError, OSError, ValueError):
            return 4096

    def checked_name(self, filename: str, field: str) -> str:
        """`filename` if it is safe to create in the folder; else a 400 naming `field`."""
        reserved = filename.split(".", 1)[0].lower() in RESERVED_NAMES
        if reserved or not PLAIN_FILE_NAME.fullmatch(filename):
            raise refuse(field, "must be a plain file name, without folders")
        longest = max((len(os.fsencode(suffix)) for suffix in self.suffixes), default=0)
        limit = self.max_name_bytes - longest
        if len(os.fsencode(filename)) > limit:
            raise refuse(field, f"must be at most {limit} bytes long")
        if len(os.fsencode(str(self.path / filename))) + longest >= self.max_path_bytes:
            raise refuse(field, "is too long for the upload folder's path")
        return filename

    def open_to_append(self, name: str) -> TextIO:
        """Open `name` in the folder for appending text; refuse a link or a special file found there.

        Raises `OSError` (`ELOOP` for a symlink) rather than write through something
        planted in the folder.
        """
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | NO_FOLLOW | getattr(os, "O_NONBLOCK", 0)
        if os.open in os.supports_dir_fd:
            folder = os.open(self.path, os.O_RDONLY | DIRECTORY | NO_FOLLOW)
            try:
                descriptor = os.open(name, flags, 0o600, dir_fd=folder)
            finally:
                os.close(folder)
        else:
            descriptor = os.open(self.path / name, flags, 0o600)
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
                raise OSError(f"{name} in the upload folder is not a plain file of ours: refused")
            return os.fdopen(descriptor, "a", encoding="utf-8")
        except BaseException:
            os.close(descriptor)
            raise


def refuse(field: str, problem: str) -> RequestError:
    """A 400 whose body names `field` and the problem."""
    return RequestError(
        400, f"Invalid upload: {field}", [FieldError(["body", field], "invalid_value", problem)]
    )
