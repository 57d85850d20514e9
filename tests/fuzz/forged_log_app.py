"""An app whose handler and dependency raise exceptions holding text a client sent,
for tests/fuzz/test_log_forgery.py (served under uvicorn)."""

from __future__ import annotations

from collections.abc import Iterator

from ravyn import Depends, Ravyn, get


@get("/fail")
def fail(text: str) -> dict[str, str]:
    raise ValueError(f"bad text {text}")


def closing(text: str) -> Iterator[str]:
    yield text
    raise RuntimeError(f"could not close {text}")


@get("/fail-in-cleanup")
def fail_in_cleanup(value: str = Depends(closing)) -> dict[str, str]:
    return {"value": value}


def lookup(text: str) -> str:
    raise LookupError(f"no such key {text}")


@get("/fail-in-dependency")
def fail_in_dependency(value: str = Depends(lookup)) -> None:
    return None


app = Ravyn(routes=[fail, fail_in_cleanup, fail_in_dependency])
