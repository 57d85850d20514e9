"""The app freezes the heap at its lifespan startup and unfreezes it at shutdown:
under load the garbage collector's full collections then skip every object the
imports and the app made."""

from __future__ import annotations

import gc

from lilya.testclient import TestClient

from ravyn import Ravyn, get


@get("/frozen")
def frozen() -> dict[str, int]:
    return {"frozen": gc.get_freeze_count()}


def test_startup_freezes_the_heap_and_shutdown_unfreezes_it() -> None:
    gc.unfreeze()
    with TestClient(Ravyn(routes=[frozen])) as client:
        assert client.get("/frozen").json()["frozen"] > 1000
    assert gc.get_freeze_count() == 0


def test_an_app_can_leave_the_collector_alone() -> None:
    gc.unfreeze()
    app = Ravyn(routes=[frozen])
    app.freeze_heap_at_startup = False
    with TestClient(app) as client:
        assert client.get("/frozen").json()["frozen"] == 0
    assert gc.get_freeze_count() == 0
