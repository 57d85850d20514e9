"""Where a broken assumption about Lilya's private parts is reported: once per
assumption, as a WARNING on the `ravyn` logger, never as an exception."""

from __future__ import annotations

import logging

__all__ = ["broken", "reported"]

logger = logging.getLogger("ravyn")

reported: set[str] = set()
"""The assumptions already reported in this process."""


def broken(what: str) -> None:
    """Log, once per `what`, that a Lilya assumption no longer holds and that
    requests take Lilya's public path instead."""
    if what in reported:
        return
    reported.add(what)
    logger.warning(
        "ravyn: %s in this Lilya version; requests go through Lilya's own path instead "
        "(slower, same behaviour). Please report it with your Lilya version.",
        what,
    )
