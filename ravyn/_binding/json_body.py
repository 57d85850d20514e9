"""A JSON body read into Python values, or refused with a 400 naming where it is wrong.

On top of what `json` refuses (malformed text, text that is not UTF-8,
nesting deeper than the interpreter allows), a body is refused when it holds

* an integer of more than `MAX_INTEGER_DIGITS` digits (converting one costs
  quadratic time);
* an escaped lone surrogate (`"\\ud800"`), which cannot be sent back;
* a number that is not finite: `NaN`, `Infinity` and `-Infinity` (not JSON,
  though Python's `json` reads them) and literals too large for a float
  (`1e400`). Handed to an untyped parameter (`Any`, `dict`), such a value
  made the response's own encoding fail: a 500.
"""

from __future__ import annotations

import json
import math
import re
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pydantic
from pydantic import TypeAdapter

from ravyn._binding.surrogates import SURROGATE, SURROGATE_MSG, shown
from ravyn.exceptions import FieldError, RequestError

__all__ = ["MAX_INTEGER_DIGITS", "ONE_PASS_LIMIT", "decode_json", "validate_fields"]

MAX_INTEGER_DIGITS = 4300
"""At most this many digits in an integer of a JSON body (else a 400): Python's own default limit."""

Loc = tuple[str | int, ...]


class _IntegerTooLong(ValueError):
    """An integer literal with more than `MAX_INTEGER_DIGITS` digits."""


def _bounded_int(text: str) -> int:
    # checked before int(): converting a long digit string costs quadratic time
    if len(text) > MAX_INTEGER_DIGITS + 1:
        raise _IntegerTooLong(text)
    return int(text)


class _Seen(threading.local):
    """Whether the decoding under way (in this thread) met a number that is not finite."""

    non_finite = False


_seen = _Seen()


def _checked_float(text: str, isfinite: Callable[[float], bool] = math.isfinite) -> float:
    value = float(text)
    if not isfinite(value):  # a literal too large for a float: 1e400
        _seen.non_finite = True
    return value


def _constant(name: str) -> float:
    # NaN, Infinity and -Infinity: not JSON, though Python's json reads them
    _seen.non_finite = True
    return float(name)


# built once: json.loads(parse_int=...) builds one per call. The hooks cost a
# call per float literal; searching the text for what may not be finite cost
# more, for every body, in proportion to its size.
_JSON = json.JSONDecoder(parse_int=_bounded_int, parse_float=_checked_float, parse_constant=_constant)

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")

# Only these can decode to a number that is not finite: the two names, an
# exponent of two digits or more, or 300 digits in a row (a float of 309
# digits overflows; 300 and a one-digit exponent may). The one-pass reading
# leaves bodies holding one to decode_json, which refuses them.
_NON_FINITE_HINT = re.compile(rb"NaN|Infinity|[eE]\+?[0-9]{2}|[0-9]{300}")

ONE_PASS_LIMIT = 64 * 1024
"""Bodies larger than this are not read in one pass by `validate_fields`:
its checks of the text cost, for every body, in proportion to its size."""
_NON_FINITE_MSG = "Input should be a finite number"

# What the one-pass readings leave to decode_json, in one search: an escaped
# lone surrogate, or what may decode to a number that is not finite. Its run of
# 300 digits also covers the integers the interpreter refuses to convert (its
# digit limit may be set as low as 640).
_ONE_PASS_REFUSED = re.compile(_SURROGATE_ESCAPE.pattern + b"|" + _NON_FINITE_HINT.pattern)


# Without the hooks: for a large body that cannot hold a number that is not
# finite, when the interpreter itself refuses integers over MAX_INTEGER_DIGITS
# digits. The hooks' call per number made up half the time of decoding a body
# of numbers.
_PLAIN_JSON = json.JSONDecoder()


def _decoder_for(raw: bytes) -> json.JSONDecoder:
    if len(raw) <= ONE_PASS_LIMIT:
        return _JSON  # the hooks cost less than looking for what they catch
    limit = sys.get_int_max_str_digits()
    if limit == 0 or limit > MAX_INTEGER_DIGITS:
        return _JSON
    shapes = raw.translate(_SHAPES)
    if (shapes.find(b"!") >= 0 or shapes.find(b"0e") >= 0 or shapes.find(_DIGIT_RUN) >= 0) and (
        _NON_FINITE_HINT.search(raw) is not None
    ):
        return _JSON
    return _PLAIN_JSON


def decode_json(raw: bytes) -> Any:
    """The value of a JSON body, or a `RequestError` (400) saying what is wrong and where."""
    _seen.non_finite = False
    try:
        # RFC 8259: JSON on the wire is UTF-8 (json.loads would guess UTF-16 from a BOM)
        value = _decoder_for(raw).decode(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RequestError(
            400, "Malformed JSON body: not valid UTF-8", [_bad_json("not valid UTF-8")]
        ) from None
    except json.JSONDecodeError as exc:
        problem = f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise RequestError(400, f"Malformed JSON body: {problem}", [_bad_json(problem)]) from None
    except ValueError:  # _IntegerTooLong, or the interpreter's own digit limit if it is lower
        problem = f"an integer has more than {MAX_INTEGER_DIGITS} digits"
        raise RequestError(
            400, f"Invalid JSON body: {problem}", [FieldError(["body"], "int_too_long", problem)]
        ) from None
    except RecursionError:
        raise RequestError(
            400, "Malformed JSON body: nested too deeply", [_bad_json("nested too deeply")]
        ) from None
    # a lone surrogate can only come from an escape: look for one only then
    if _SURROGATE_ESCAPE.search(raw):
        errors = [FieldError(["body", *loc], "string_surrogate", SURROGATE_MSG) for loc in _surrogates(value)]
        if errors:
            raise RequestError(400, "Invalid JSON body: text holds a lone surrogate", errors)
    if _seen.non_finite:
        errors = [FieldError(["body", *loc], "finite_number", _NON_FINITE_MSG) for loc in _non_finite(value)]
        if errors:
            raise RequestError(
                400, "Invalid JSON body: a number is not finite (NaN, Infinity or too large)", errors
            )
    return value


# What `_ONE_PASS_REFUSED` can only find where the text holds a backslash, an
# N or an I (`\\u...`, NaN, Infinity), a digit followed by an e (a number's
# exponent) or a run of 300 digits: the body translated to those shapes is
# scanned in C, and the regular expression (which costs about 20 times more,
# for every body) runs only when one is there.
_SHAPES = bytes.maketrans(b"\\NI123456789E", b"!!!000000000e")
_DIGIT_RUN = b"0" * 300


def _one_pass_refused(raw: bytes) -> bool:
    """Whether a body must be read the usual way: too large for a shortcut, or
    holding what the usual reading refuses for its own reasons (see `validate_fields`)."""
    if len(raw) > ONE_PASS_LIMIT:
        return True
    shapes = raw.translate(_SHAPES)
    # `find`, not `in`: bytes' `in` first tries its operand as an integer, and
    # builds (and drops) a TypeError for every search
    if (
        shapes.find(b"!") >= 0
        or shapes.find(b"0e") >= 0
        or (len(raw) >= 300 and shapes.find(_DIGIT_RUN) >= 0)
    ):
        return _ONE_PASS_REFUSED.search(raw) is not None
    return False


def validate_model(adapter: TypeAdapter[Any], raw: bytes) -> Any:
    """A handler's one body model validated straight from the JSON text, as
    `validate_fields` does for fields; None when this one pass cannot stand for
    the usual reading (the body is then decoded, and the errors are its)."""
    if _one_pass_refused(raw):
        return None
    try:
        # the adapter's own validator (its public `validator`), without the method that wraps it
        return adapter.validator.validate_json(raw)
    except pydantic.ValidationError:
        return None


def validate_fields(adapter: TypeAdapter[Any], raw: bytes) -> dict[str, Any] | None:
    """The handler's fields of a JSON object body, validated straight from its
    text; None when this one pass cannot stand for the usual reading.

    When it succeeds it gives what `decode_json` and then one validation per
    field would: pydantic's parser reads the same JSON (keys repeated: the last
    wins; text must be UTF-8; it stops at 200 levels of nesting, far under the
    interpreter's recursion limit where `json` stops), so only what the usual
    reading refuses for its own reasons is sent there first: an escaped lone
    surrogate, runs of digits that may exceed an integer limit, and numbers
    that may not be finite (refused even in keys the handler does not read).
    Bodies over `ONE_PASS_LIMIT` bytes are left to the usual reading too.
    """
    if _one_pass_refused(raw):
        return None
    try:
        fields: dict[str, Any] = adapter.validator.validate_json(raw)
    except pydantic.ValidationError:
        return None
    return fields


def _surrogates(value: Any) -> Iterable[Loc]:
    """Where in a decoded JSON value text holds a lone surrogate (in keys or values)."""
    for where, key, item in _walk(value):
        if key is not None and shown(key) != key:
            yield where
        if isinstance(item, str) and SURROGATE.search(item):
            yield where


def _non_finite(value: Any) -> Iterable[Loc]:
    """Where in a decoded JSON value a number is NaN or infinite."""
    isfinite: Callable[[float], bool] = math.isfinite
    return (where for where, _, item in _walk(value) if type(item) is float and not isfinite(item))


def _walk(value: Any) -> Iterable[tuple[Loc, str | None, Any]]:
    """Every value inside a decoded JSON value, with its loc (a key holding a
    lone surrogate written as its escape) and, under an object, its key."""
    stack: list[tuple[Any, Loc, str | None]] = [(value, (), None)]
    while stack:
        item, where, key = stack.pop()
        yield where, key, item
        if isinstance(item, dict):
            stack.extend((inner, (*where, shown(name)), name) for name, inner in item.items())
        elif isinstance(item, list):
            stack.extend((inner, (*where, index), None) for index, inner in enumerate(item))


def _bad_json(problem: str) -> FieldError:
    return FieldError(["body"], "json_invalid", problem)
