"""Compact JSON text, as `json.JSONEncoder(ensure_ascii=False, allow_nan=False,
separators=(",", ":"), default=...).encode` makes it, without that method's
cost per call.

`JSONEncoder.encode` builds a fresh C encoder (`json.encoder.c_make_encoder`)
and a float formatter on every call, which costs more than encoding a small
body. `CompactEncoder` builds the C encoder once per thread (its circular
reference check keeps a dict of the containers being encoded, which two
threads must not share) and empties that dict after a failed call (an
exception leaves entries behind, which would be taken later for a cycle). A
`default` that encodes JSON itself, on the same thread, gets `JSONEncoder`.
Without the C encoder (`c_make_encoder` is None on interpreters built without
`_json`), `JSONEncoder.encode` is used.
"""

from __future__ import annotations

import json
import threading
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

    __slots__ = ("_fallback", "_local", "default")

    def __init__(self, default: Callable[[Any], Any]) -> None:
        self.default = default
        self._fallback = json.JSONEncoder(
            ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"), default=default
        )
        self._local = threading.local()

    def encode(self, obj: Any) -> str:
        """`obj` as JSON text."""
        if c_make_encoder is None or isinstance(obj, str):
            return self._fallback.encode(obj)
        local = self._local
        # taken out while in use: a `default` that encodes JSON itself gets the plain encoder
        state = local.__dict__.pop("state", None)
        if state is None:
            if getattr(local, "built", False):
                return self._fallback.encode(obj)
            markers: dict[int, Any] = {}
            state = (
                markers,
                c_make_encoder(markers, self.default, encode_basestring, None, ":", ",", False, False, False),
            )
            local.built = True
        try:
            return "".join(state[1](obj, 0))
        except BaseException:
            state[0].clear()
            raise
        finally:
            local.state = state
