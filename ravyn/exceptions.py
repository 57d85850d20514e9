"""Errors a request can cause, each answered with a JSON body that names the problem."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lilya.exceptions import HTTPException
from lilya.responses import JSONResponse, Response

__all__ = ["FieldError", "RequestError", "ValidationError", "error_response"]


class FieldError(dict[str, Any]):
    """One problem with one input: `{"loc": [...], "type": ..., "msg": ...}`.

    `loc` starts with where the value was looked for (`body`, `query`,
    `path`), then the field name and, for nested values, the keys inside it.
    """

    def __init__(self, loc: Sequence[str | int], type_: str, msg: str) -> None:
        super().__init__(loc=list(loc), type=type_, msg=msg)


class RequestError(HTTPException):
    """A client error with a JSON body `{"detail": ..., "errors": [...]}`.

    Subclasses Lilya's `HTTPException`, so Lilya's exception middleware and
    handlers see it like any other HTTP error.
    """

    def __init__(
        self,
        status_code: int,
        detail: str,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=headers)
        self.errors = list(errors)

    def body(self) -> dict[str, Any]:
        """The JSON body sent to the client."""
        payload: dict[str, Any] = {"detail": self.detail}
        if self.errors:
            payload["errors"] = self.errors
        return payload


class ValidationError(RequestError):
    """Request values that do not fit the handler's parameters: a 400 listing
    every field at fault at once."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        fields = ", ".join(".".join(str(part) for part in error["loc"]) for error in errors)
        super().__init__(400, f"Invalid request: {fields}", errors)


def error_response(exc: HTTPException) -> Response:
    """The JSON response for an HTTP error: `{"detail": ...}` (plus `errors`
    for a `RequestError`), with the error's headers (such as `Allow`)."""
    status_code = exc.status_code or 500
    if status_code in (204, 304):
        return Response(status_code=status_code, headers=exc.headers)
    body = exc.body() if isinstance(exc, RequestError) else {"detail": exc.detail}
    return JSONResponse(body, status_code=status_code, headers=exc.headers)
