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


@get("/fail-with-note")
def fail_with_note(text: str) -> None:
    error = ValueError("bad input")
    error.add_note(f"while reading {text}")  # printed under the traceback
    raise error


@get("/fail-in-group")
def fail_in_group(text: str) -> None:
    raise ExceptionGroup("several checks failed", [ValueError(f"bad text {text}")])


@get("/fail-with-class")
def fail_with_class(text: str) -> None:
    # a class made at run time, named from the client's text (say, after a record's type)
    raise type(f"Invalid{text}", (ValueError,), {})("bad input")


app = Ravyn(
    routes=[fail, fail_in_cleanup, fail_in_dependency, fail_with_note, fail_in_group, fail_with_class]
)
