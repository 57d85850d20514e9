"""Lilya classes that only exist under private module paths, imported here once
(where Lilya exports one publicly, such as `lilya.transformers.Transformer`,
ravyn imports that instead).

- `ClientDisconnect`: raised by `Request.body()`/`stream()` when the client
  left mid-body (`lilya._internal._connection`).
"""

from __future__ import annotations

from lilya._internal._connection import ClientDisconnect

__all__ = ["ClientDisconnect"]
