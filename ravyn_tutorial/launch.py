"""The `ravyn-tutorial` console script, and `python -m ravyn_tutorial`.

The tutorial needs its extra, the `tutorial` list of the project's optional
dependencies (Typer, rich, watchdog). Installed without it (`pip install` of the
wheel alone), the command says in one line what to install, read from the
installed package's own metadata, instead of ending in a
`ModuleNotFoundError` traceback.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

__all__ = ["DISTRIBUTION", "main", "missing_message", "requirements"]

DISTRIBUTION = "ravyn-background-guide"
"""The name the project is installed under (its wheel's)."""

_EXTRA = re.compile(r"""extra\s*==\s*["']tutorial["']""")


def requirements(extra: bool) -> list[str]:
    """The installed project's requirements: the `tutorial` extra's (`extra`)
    or the core ones; `[]` when the project is not installed (a checkout)."""
    try:
        declared = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return []
    chosen = [entry for entry in declared if bool(_EXTRA.search(entry)) == extra]
    if not extra:
        chosen = [entry for entry in chosen if "extra" not in entry]
    return [entry.split(";", 1)[0].strip() for entry in chosen]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("-", "_")


def missing_message(module: str) -> str:
    """One line that says what to install when `module` cannot be imported."""
    top = module.split(".", 1)[0]
    core = requirements(extra=False)
    wanted = core if top.lower() in {_name(r) for r in core} else requirements(extra=True)
    if wanted:
        how = "pip install " + " ".join(f"'{r}'" for r in wanted)
    else:  # run from a checkout: install the project with its extra
        how = "pip install -e '.[tutorial]' (from the repository's root)"
    return f"ravyn-tutorial needs the Python package {top!r}, which is not installed. Install it: {how}"


def main() -> None:
    """Run the tutorial's command line, or say what to install and exit 1."""
    try:
        from ravyn_tutorial.cli import main as run
    except ModuleNotFoundError as exc:
        if not exc.name or exc.name.split(".", 1)[0] in ("ravyn", "ravyn_tutorial"):
            raise  # a module of ours is missing: a broken install, not a missing extra
        sys.stderr.write(missing_message(exc.name) + "\n")
        raise SystemExit(1) from None
    run()
