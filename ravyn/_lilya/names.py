"""Lilya classes that only exist under private module paths, imported here once.

- `ClientDisconnect`: raised by `Request.body()`/`stream()` when the client
  left mid-body (`lilya._internal._connection`).
- `Transformer`: the base of path converters such as `{id:int}`
  (`lilya._internal._path_transformers`).
"""

from __future__ import annotations

from lilya._internal._connection import ClientDisconnect
from lilya._internal._path_transformers import Transformer

__all__ = ["ClientDisconnect", "Transformer"]
