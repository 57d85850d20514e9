"""Errors a request can cause, each answered with a JSON body that names the problem.

Whatever the request, the answer stays small: at most `MAX_ERRORS` errors are
listed (`"more_errors"` counts the others) and each part of an error is cut
to a bounded length, so a client cannot make the server write a 400 larger
than its request.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from lilya.exceptions import HTTPException
from lilya.responses import JSONResponse, Response

__all__ = [
    "MAX_ERRORS",
    "MAX_LOC_PARTS",
    "MAX_LOC_TEXT",
    "MAX_MESSAGE",
    "FieldError",
    "RequestError",
    "ValidationError",
    "error_response",
]

MAX_ERRORS = 20
"""At most this many errors are listed in an error's body; `"more_errors"` counts the rest."""

MAX_LOC_TEXT = 100
"""A key of a `loc` (which may come from the client) is cut to this many characters."""

MAX_MESSAGE = 500
"""An error's `msg` is cut to this many characters."""

MAX_LOC_PARTS = 32
"""A `loc` deeper than this keeps its first and last parts, `"…"` in between."""


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class FieldError(dict[str, Any]):
    """One problem with one input: `{"loc": [...], "type": ..., "msg": ...}`.

    `loc` starts with where the value was looked for (`body`, `query`,
    `path`), then the field name and, for nested values, the keys inside it.
    Texts are cut to `MAX_LOC_TEXT` (each key) and `MAX_MESSAGE` (the message)
    characters, and a `loc` to `MAX_LOC_PARTS` parts: a key of the client's
    body may be of any length, and its nesting a couple of hundred levels deep.
    """

    def __init__(self, loc: Sequence[str | int], type_: str, msg: str) -> None:
        if len(loc) > MAX_LOC_PARTS:
            head = MAX_LOC_PARTS // 2
            loc = [*loc[:head], "…", *loc[len(loc) - (MAX_LOC_PARTS - head - 1) :]]
        shown = [_cut(part, MAX_LOC_TEXT) if isinstance(part, str) else part for part in loc]
        super().__init__(loc=shown, type=type_, msg=_cut(msg, MAX_MESSAGE))


class RequestError(HTTPException):
    """A client error with a JSON body `{"detail": ..., "errors": [...]}`.

    At most `MAX_ERRORS` errors are kept; `total` (default: as many as given)
    says how many there were, and the body's `"more_errors"` how many are not
    listed. Subclasses Lilya's `HTTPException`, so Lilya's exception
    middleware and handlers see it like any other HTTP error.
    """

    def __init__(
        self,
        status_code: int,
        detail: str,
        errors: Iterable[FieldError] = (),
        headers: dict[str, str] | None = None,
        *,
        total: int | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=headers)
        iterator = iter(errors)
        self.errors: list[FieldError] = list(itertools.islice(iterator, MAX_ERRORS))
        counted = len(self.errors) + sum(1 for _ in iterator)
        self.total: int = max(total if total is not None else counted, len(self.errors))

    @property
    def more_errors(self) -> int:
        """How many errors there were beyond those listed."""
        return self.total - len(self.errors)

    def body(self) -> dict[str, Any]:
        """The JSON body sent to the client."""
        payload: dict[str, Any] = {"detail": self.detail}
        if self.errors:
            payload["errors"] = self.errors
        if self.more_errors:
            payload["more_errors"] = self.more_errors
        return payload


class ValidationError(RequestError):
    """Request values that do not fit the handler's parameters: a 400 listing
    the fields at fault (the first `MAX_ERRORS` errors, and how many more)."""

    def __init__(self, errors: Iterable[FieldError], *, total: int | None = None) -> None:
        super().__init__(400, "Invalid request", errors, total=total)
        fields = ", ".join(".".join(str(part) for part in error["loc"]) for error in self.errors)
        more = f" (and {self.more_errors} more)" if self.more_errors else ""
        self.detail = f"Invalid request: {fields}{more}"


def error_response(exc: HTTPException) -> Response:
    """The JSON response for an HTTP error: `{"detail": ...}` (plus `errors`
    for a `RequestError`), with the error's headers (such as `Allow`)."""
    status_code = exc.status_code or 500
    if status_code in (204, 304):
        return Response(status_code=status_code, headers=exc.headers)
    body = exc.body() if isinstance(exc, RequestError) else {"detail": exc.detail}
    return JSONResponse(body, status_code=status_code, headers=exc.headers)
