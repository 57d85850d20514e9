"""Compact JSON text, as `json.JSONEncoder(ensure_ascii=False, allow_nan=False,
separators=(",", ":"), default=...).encode` makes it, without that method's
cost per call.

`JSONEncoder.encode` builds a fresh C encoder (`json.encoder.c_make_encoder`)
and a float formatter on every call, which costs more than encoding a small
body. `CompactEncoder` builds one C encoder, once, without the circular
reference check: that check keeps a dict of the containers being encoded,
which threads, nested calls and a failed call would share. So it holds no
state, and any thread may use it at once. A cycle then ends in a
`RecursionError`, as an object nested too deeply does: on that error the
value is encoded again by `JSONEncoder`, which raises what it raises for the
value (`ValueError: Circular reference detected`, or the `RecursionError`).
Without the C encoder (`c_make_encoder` is None on interpreters built without
`_json`), `JSONEncoder.encode` is used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

# the C accelerator JSONEncoder.iterencode uses (None without `_json`; typeshed does not list it)
c_make_encoder: Callable[..., Any] | None = getattr(json.encoder, "c_make_encoder", None)

__all__ = ["CompactEncoder"]


class CompactEncoder:
    """`encode(obj)`: `obj` as compact JSON text, `default` called for what JSON
    has no type for; the same text and the same errors as the `JSONEncoder`
    with these options.

    Example:
        ```python
        from ravyn._json import CompactEncoder

        encoder = CompactEncoder(default=str)
        assert encoder.encode({"a": [1.5, None], "b": "é"}) == '{"a":[1.5,null],"b":"é"}'
        ```
    """

    __slots__ = ("_encode", "_fallback", "default")

    def __init__(self, default: Callable[[Any], Any]) -> None:
        self.default = default
        self._fallback = json.JSONEncoder(
            ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"), default=default
        )
        self._encode: Callable[[Any, int], Any] | None = (
            None
            if c_make_encoder is None
            # no markers dict (None): no cycle check, no state kept between calls
            else c_make_encoder(None, default, encode_basestring, None, ":", ",", False, False, False)
        )

    def encode(self, obj: Any) -> str:
        """`obj` as JSON text."""
        encode = self._encode
        if encode is None or isinstance(obj, str):
            return self._fallback.encode(obj)
        try:
            return "".join(encode(obj, 0))
        except RecursionError:
            # a cycle, or a value nested too deeply: JSONEncoder tells which, with its own error
            return self._fallback.encode(obj)
