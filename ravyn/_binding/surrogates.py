"""Lone surrogates (`\\ud800`-`\\udfff`): text that cannot be encoded as UTF-8, so
cannot be sent back. Refused wherever the client's text holds one, naming the field."""

from __future__ import annotations

import re

from ravyn.exceptions import FieldError, RequestError

__all__ = ["SURROGATE", "SURROGATE_MSG", "refuse_surrogates", "shown"]

SURROGATE = re.compile("[\ud800-\udfff]")
"""A lone surrogate in decoded text."""

SURROGATE_MSG = "text must not hold a lone surrogate (\\ud800-\\udfff)"
"""The message of the error naming such text."""


def shown(text: str) -> str:
    """`text` as it can be sent back: a lone surrogate written as its escape."""
    if SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def refuse_surrogates(pairs: list[tuple[str, str]], where: str) -> None:
    """Raise a 400 naming each key of a query string or form whose key or value holds a lone surrogate."""
    errors = (
        FieldError([where, shown(key)], "string_surrogate", SURROGATE_MSG)
        for key, value in pairs
        if SURROGATE.search(key) or SURROGATE.search(value)
    )
    first = next(errors, None)
    if first is not None:
        raise RequestError(400, f"Invalid {where}: text holds a lone surrogate", [first, *errors])
