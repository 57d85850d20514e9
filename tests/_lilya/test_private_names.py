"""Every use of a private Lilya name lives in ravyn/_lilya: a scan of the package's source."""

from __future__ import annotations

import ast
from pathlib import Path

import lilya

RAVYN = Path(__file__).resolve().parents[2] / "ravyn"


def _private_attributes_lilya_defines() -> set[str]:
    """The underscored attribute names Lilya's own classes set (`self._x = ...`)."""
    names: set[str] = set()
    for source in Path(lilya.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            stored = isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
            if stored and node.attr.startswith("_") and not node.attr.startswith("__"):
                names.add(node.attr)
    return names


def _attributes_ravyn_defines() -> set[str]:
    """Names ravyn gives its own objects: `self.x = ...`, functions, classes, variables."""
    names: set[str] = set()
    for source in RAVYN.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("self", "cls")
            ):
                names.add(node.attr)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return names


def test_private_lilya_modules_and_names_are_imported_only_in_the_lilya_door() -> None:
    offenders: list[str] = []
    for source in RAVYN.rglob("*.py"):
        if "_lilya" in source.relative_to(RAVYN).parts:
            continue
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lilya"):
                private_module = any(part.startswith("_") for part in (node.module or "").split("."))
                private_names = [alias.name for alias in node.names if alias.name.startswith("_")]
                if private_module or private_names:
                    offenders.append(f"{source.relative_to(RAVYN)}:{node.lineno} from {node.module}")
    assert offenders == []


def test_private_lilya_attributes_are_read_only_in_the_lilya_door() -> None:
    lilyas = _private_attributes_lilya_defines() - _attributes_ravyn_defines()
    offenders: list[str] = []
    for source in RAVYN.rglob("*.py"):
        if "_lilya" in source.relative_to(RAVYN).parts:
            continue
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in lilyas:
                offenders.append(f"{source.relative_to(RAVYN)}:{node.lineno} .{node.attr}")
    assert offenders == []
