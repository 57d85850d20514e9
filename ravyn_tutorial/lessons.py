"""The lessons: the guide's examples, read from `docs_src/catalogue.py` at run time.

The examples live in the repository (`docs_src/`), not in the installed
package, so lessons need a checkout: run the tutorial from its root folder.
The catalogue is imported dynamically and read through the small
[`ExampleLike`][ravyn_tutorial.lessons.ExampleLike] protocol, so this module
does not depend on the catalogue's own code.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

__all__ = ["CATALOGUE", "ExampleLike", "Lesson", "LessonsUnavailable", "find_root", "load_lessons"]

CATALOGUE = "docs_src.catalogue"


class ExampleLike(Protocol):
    """What the tutorial reads from an entry of `docs_src.catalogue.EXAMPLES`."""

    @property
    def module(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def json(self) -> Any: ...
    @property
    def status(self) -> int: ...
    @property
    def tasks(self) -> tuple[str, ...]: ...
    @property
    def import_path(self) -> str: ...

    def curl(self, base: str = ...) -> str: ...


class LessonsUnavailable(Exception):
    """The examples cannot be imported: not in a checkout of the repository."""


@dataclass(frozen=True)
class Lesson:
    """One example of the guide, runnable under uvicorn."""

    name: str
    example: ExampleLike
    root: Path
    """The folder that holds `docs_src/` (the server runs from there)."""

    @property
    def title(self) -> str:
        return self.example.title

    @property
    def target(self) -> str:
        """`module:app`, as uvicorn takes it."""
        return f"{self.example.import_path}:app"

    @property
    def failing(self) -> tuple[str, ...]:
        """Tasks that fail on purpose (a pitfall's wrong version)."""
        return tuple(getattr(self.example, "failing", ()) or ())

    @property
    def request_line(self) -> str:
        return f"{self.example.method} {self.example.path}"


def find_root(start: Path | None = None) -> Path:
    """The folder holding `docs_src/catalogue.py`: the current folder or one
    of its parents. Raises `LessonsUnavailable` with what to do otherwise."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "docs_src" / "catalogue.py").is_file():
            return folder
    raise LessonsUnavailable(
        "The lessons are the guide's examples in docs_src/, which come with the repository, "
        "not with the installed package. Run this command from the root of a checkout "
        "(the folder that holds docs_src/), for example:\n"
        "    git clone <the repository> && cd <it> && python -m ravyn_tutorial list\n"
        "The exercises (start, check, hint) work from any folder."
    )


def load_lessons(root: Path | None = None) -> dict[str, Lesson]:
    """Every lesson, in the catalogue's order (the guide's order)."""
    folder = root or find_root()
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    try:
        catalogue = importlib.import_module(CATALOGUE)
    except ImportError as exc:
        raise LessonsUnavailable(f"Could not import {CATALOGUE} from {folder}: {exc}") from exc
    examples = cast(Mapping[str, ExampleLike], getattr(catalogue, "EXAMPLES", {}))
    return {name: Lesson(name, example, folder) for name, example in examples.items()}
