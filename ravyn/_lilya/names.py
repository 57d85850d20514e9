"""Lilya classes that only exist under private module paths, imported here once
(where Lilya exports one publicly, such as `lilya.transformers.Transformer`,
ravyn imports that instead).

- `ClientDisconnect`: raised by `Request.body()`/`stream()` when the client
  left mid-body (`lilya._internal._connection`).
- `json_encode_default`: the `default=` Lilya's JSON encoding gives `json.dumps`,
  which applies the encoders registered with Lilya (`lilya._internal._encoders`).
- `HeaderHelper`: which statuses have a body and which content type a media
  type gets, as Lilya's responses decide (`lilya._internal._helpers`).
- `Depends`: the marker class Lilya's `Depends(...)` makes
  (`lilya.dependencies._Depends`), which `ravyn.dependencies` extends.

Each is pinned by `tests/_lilya/test_names.py`.
"""

from __future__ import annotations

from lilya._internal._connection import ClientDisconnect
from lilya._internal._encoders import json_encode_default
from lilya._internal._helpers import HeaderHelper
from lilya.dependencies import _Depends as Depends

__all__ = ["ClientDisconnect", "Depends", "HeaderHelper", "json_encode_default"]
