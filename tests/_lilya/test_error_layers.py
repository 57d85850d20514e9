"""Tests for ravyn/_lilya/error_layers.py: Lilya's error layers, built and fed as Lilya would."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from lilya.middleware.exceptions import ExceptionMiddleware
from lilya.testclient import TestClient

from ravyn import Ravyn, get
from ravyn._lilya import error_layers
from ravyn._lilya.error_layers import ErrorLayers


class Teapot(Exception):
    pass


def teapot_handler(request: Any, exc: Exception) -> Any:
    from lilya.responses import PlainText

    return PlainText("teapot", status_code=418)


def app_with_handlers() -> Ravyn:
    @get("/teapot")
    async def teapot() -> None:
        raise Teapot()

    @get("/boom")
    async def boom() -> None:
        raise ValueError("boom")

    return Ravyn(routes=[teapot, boom], exception_handlers={Teapot: teapot_handler, 418: teapot_handler})


def test_the_error_handler_is_the_one_lilya_picks() -> None:
    app = app_with_handlers()
    assert error_layers.error_handler(app) is app._get_error_handler()


def test_the_exception_handlers_are_the_ones_lilya_gives_its_exception_layer() -> None:
    app = app_with_handlers()
    assert error_layers.exception_handlers(app) == app._get_exception_handlers()


def test_lilyas_exception_layer_keeps_its_handlers_where_we_read_them() -> None:
    app = app_with_handlers()
    layers = ErrorLayers(app)
    lilya_layer = ExceptionMiddleware(app.router, handlers=app._get_exception_handlers())
    ours, by_status = layers.exception_handlers
    assert set(ours) == set(lilya_layer._exception_handlers)
    assert set(by_status) == set(lilya_layer._status_handlers) == {418}


def test_a_lilya_whose_error_layers_changed_serves_through_its_own_stack(
    monkeypatch: pytest.MonkeyPatch, fresh_reports: set[str], caplog: pytest.LogCaptureFixture
) -> None:
    def changed(self: ErrorLayers, app: Any) -> None:
        raise AttributeError("'ExceptionMiddleware' object has no attribute '_exception_handlers'")

    monkeypatch.setattr(ErrorLayers, "__init__", changed)
    app = app_with_handlers()
    with (
        caplog.at_level(logging.WARNING, logger="ravyn.lilya"),
        TestClient(app, raise_server_exceptions=False) as client,
    ):
        assert client.get("/teapot").status_code == 418
        assert client.get("/boom").status_code == 500
        assert client.get("/nowhere").status_code == 404
    assert type(app.middleware_stack).__name__ != "Core"  # Lilya's own stack
    warnings = [record for record in caplog.records if "error middleware changed" in record.getMessage()]
    assert len(warnings) == 1
