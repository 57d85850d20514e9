"""Tests for ravyn/_lilya/app_call.py: an HTTP request enters the stack as `Lilya.__call__` has it enter."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from lilya.apps import Lilya
from lilya.context import g
from lilya.testclient import TestClient

from ravyn import Ravyn, Request, get
from ravyn._lilya import app_call


def test_the_private_names_it_needs_are_there() -> None:
    assert app_call.available()


def build() -> Ravyn:
    @get("/scope")
    async def scope(request: Request) -> dict[str, Any]:
        keys = sorted(key for key in request.scope if not key.startswith("lilya.exception"))
        return {"keys": keys, "user": getattr(g, "user", None), "root": request.scope.get("root_path")}

    app = Ravyn(routes=[scope], root_path="/api")
    app.populate_global_context = lambda connection: {"user": "ada"}
    return app


def test_a_request_sees_the_same_scope_and_g_as_under_lilyas_call(monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(build()) as client:
        ours = client.get("/api/scope").json()
    monkeypatch.setattr(app_call, "call_http", lambda app, *args: Lilya.__call__(app, *args))
    import ravyn.applications

    monkeypatch.setattr(ravyn.applications, "call_http", lambda app, *args: Lilya.__call__(app, *args))
    with TestClient(build()) as client:
        lilyas = client.get("/api/scope").json()
    assert ours == lilyas
    assert ours["user"] == "ada" and ours["root"] == "/api"


def test_without_the_private_names_requests_take_lilyas_call(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from ravyn._lilya import assumptions

    monkeypatch.setattr(app_call, "_G_ACTIVE", None)
    monkeypatch.setattr(assumptions, "reported", set())
    called: list[str] = []
    lilya_call = Lilya.__call__

    async def counted(self: Lilya, scope: Any, receive: Any, send: Any) -> None:
        called.append(scope["type"])
        await lilya_call(self, scope, receive, send)

    monkeypatch.setattr(Lilya, "__call__", counted)
    with caplog.at_level(logging.WARNING, logger="ravyn.lilya"):
        app = build()
    with TestClient(app) as client:
        assert client.get("/api/scope").json()["user"] == "ada"
    assert "http" in called
    assert any("_G_ACTIVE" in record.getMessage() for record in caplog.records)
