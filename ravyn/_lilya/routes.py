"""What Lilya keeps private about its routes.

A Lilya `Path` records at construction whether its path has no parameters
(`_static_path`) and the pattern it compiled (`_path_regex_str`): its own search
then compares the path as text instead of running the regex. The compiled route
table does the same, when both attributes are there; otherwise it runs the
route's public `path_regex`, which is what Lilya does for every other path.

`Lilya._compute_fast_route` is the app's own one-route shortcut, worked out at
construction: routes registered later by `Ravyn.add_route` must refresh it, or
Lilya's walk (which the app still uses when its pipeline cannot) serves a stale
route.
"""

from __future__ import annotations

from typing import Any

from ravyn._lilya.assumptions import broken

__all__ = ["is_static", "refresh_fast_route"]


def is_static(route: Any) -> bool:
    """Whether Lilya matches `route` by comparing the path as text (no parameters,
    and its regex not replaced since). False, the regex way, when unknown."""
    try:
        return bool(route._static_path and route.path_regex.pattern == route._path_regex_str)
    except AttributeError:
        broken("lilya.routing.Path no longer has _static_path/_path_regex_str")
        return False


def refresh_fast_route(app: Any) -> None:
    """Work Lilya's one-route shortcut out again after a route was added."""
    compute = getattr(app, "_compute_fast_route", None)
    if compute is None:
        broken("Lilya._compute_fast_route is gone")
        return
    app._fast_route = compute()
