"""The lock files pin every dependency that pyproject.toml declares.

`scripts/test` and `scripts/docs` install from `requirements/*.lock` with
`--require-hashes` and then the project with `--no-deps`: a dependency added to
pyproject.toml but not re-locked (`bash scripts/lock`) would be missing on a
fresh machine while still present on a developer's. This catches that.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SELF = PROJECT["name"]


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement such as `lilya[openapi]==0.29.*`."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _locked(lock: Path) -> set[str]:
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", lock.read_text(), flags=re.MULTILINE)
    return {_name(pin) for pin in pins}


def _declared(extras: list[str]) -> set[str]:
    names = {_name(req) for req in PROJECT["dependencies"]}
    pending = list(extras)
    while pending:
        for requirement in PROJECT["optional-dependencies"][pending.pop()]:
            nested = re.match(rf"\s*{re.escape(SELF)}\[([^\]]+)\]", requirement)
            if nested:
                pending += [extra.strip() for extra in nested.group(1).split(",")]
            else:
                names.add(_name(requirement))
    return names


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("all.lock", list(PROJECT["optional-dependencies"])), ("docs.lock", ["docs"])],
)
def test_every_declared_dependency_is_locked(lock: str, extras: list[str]) -> None:
    missing = _declared(extras) - _locked(ROOT / "requirements" / lock)
    assert not missing, f"not in requirements/{lock}: {sorted(missing)}; run `bash scripts/lock`"


@pytest.mark.parametrize("lock", ["all.lock", "docs.lock"])
def test_every_pin_carries_its_hashes(lock: str) -> None:
    blocks = re.split(r"^(?=[A-Za-z0-9])", (ROOT / "requirements" / lock).read_text(), flags=re.MULTILINE)
    pins = [block for block in blocks if re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*==", block)]
    assert pins
    unhashed = [block.split()[0] for block in pins if "--hash=sha256:" not in block]
    assert not unhashed, f"pinned without a hash in requirements/{lock}: {unhashed}"
