"""Query strings and form bodies (URL-encoded or multipart) read into fields.

At most `MAX_FIELDS` fields are read (else a 413); percent-escapes must
decode to UTF-8, and text holding a lone surrogate is refused naming its
field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import parse_qsl

from lilya.contrib.multipart.exceptions import ParseError as MultipartError
from lilya.exceptions import HTTPException
from lilya.requests import Request

from ravyn._binding.surrogates import refuse_surrogates
from ravyn._lilya.names import ClientDisconnect
from ravyn.exceptions import FieldError, RequestError

__all__ = ["MAX_FIELDS", "form_to_mapping", "group", "parse_pairs", "read_multipart"]

MAX_FIELDS = 1000
"""At most this many fields in a query string, a form or a multipart body (else a 413)."""


def group(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Every value of each key, in order: one pass, O(number of pairs)."""
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def form_to_mapping(grouped: dict[str, list[str]]) -> dict[str, Any]:
    """A form as a body object: one value per key as text, repeated keys as a list."""
    return {key: values[0] if len(values) == 1 else values for key, values in grouped.items()}


def parse_pairs(raw: bytes, where: Literal["query", "body"]) -> list[tuple[str, str]]:
    """Parse a query string or a URL-encoded form, at most `MAX_FIELDS` fields.

    Percent-escapes must decode to UTF-8; an escaped surrogate
    (`%ED%A0%80`) is refused naming its field, since it cannot be sent back.
    """
    what = "query string" if where == "query" else "form body"
    try:
        text = raw.decode("latin-1" if where == "query" else "ascii")
        # surrogatepass: decode an escaped surrogate so the field holding it can be named below
        pairs = _parse_qsl(text)
    except UnicodeDecodeError:
        raise RequestError(
            400,
            f"The {what} is not valid URL-encoded UTF-8",
            [FieldError([where], "invalid_encoding", "percent-escapes must decode to UTF-8")],
        ) from None
    except ValueError:  # parse_qsl's max_num_fields
        raise RequestError(
            413,
            f"The {what} has more than {MAX_FIELDS} fields",
            [FieldError([where], "too_many_fields", f"at most {MAX_FIELDS} fields are accepted")],
        ) from None
    refuse_surrogates(pairs, where)
    return pairs


def _parse_qsl(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True, errors="surrogatepass", max_num_fields=MAX_FIELDS)


async def read_multipart(request: Request) -> list[tuple[str, str]]:
    """The text fields of a multipart body, or a 400 (413 for too many fields) naming what is wrong."""
    try:
        form = await request.form(max_fields=MAX_FIELDS, max_files=MAX_FIELDS)
    except ClientDisconnect:
        raise
    except HTTPException as exc:  # Lilya's answer to a part it cannot parse
        problem = str(exc.detail)
        too_many = "Too many" in problem
        raise RequestError(
            413 if too_many else 400,
            f"Malformed multipart body: {problem}",
            [FieldError(["body"], "too_many_fields" if too_many else "multipart_invalid", problem)],
        ) from None
    except (MultipartError, ValueError, KeyError, IndexError, TypeError) as exc:  # UnicodeDecodeError too
        problem = "a part's headers or text cannot be read"
        raise RequestError(
            400, f"Malformed multipart body: {problem}", [FieldError(["body"], "multipart_invalid", problem)]
        ) from exc
    pairs = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    refuse_surrogates(pairs, "body")
    return pairs
