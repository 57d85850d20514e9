"""Where a broken assumption about Lilya's private parts is reported: once per
assumption, as a WARNING on the `ravyn.lilya` logger, never as an exception."""

from __future__ import annotations

import logging

__all__ = ["broken", "reported"]

logger = logging.getLogger("ravyn.lilya")

reported: set[str] = set()
"""The assumptions already reported in this process."""


def broken(
    what: str, instead: str = "requests go through Lilya's own path instead (slower, same behaviour)"
) -> None:
    """Log, once per `what`, that a Lilya assumption no longer holds, and what
    ravyn does `instead`."""
    if what in reported:
        return
    reported.add(what)
    logger.warning(
        "ravyn: %s in this Lilya version; %s. Please report it with your Lilya version.", what, instead
    )
