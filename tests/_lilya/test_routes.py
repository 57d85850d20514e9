"""Tests for ravyn/_lilya/routes.py: what Lilya's `Path` and app keep private about routes."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from lilya.routing import Path
from lilya.testclient import TestClient

from ravyn import Ravyn, get
from ravyn._lilya import routes


async def endpoint(request: Any) -> Any:
    from lilya.responses import PlainText

    return PlainText("ok")


def test_lilya_records_which_paths_it_compares_as_text() -> None:
    static, with_params = Path("/a/b", endpoint), Path("/a/{b:int}", endpoint)
    assert static._static_path and static.path_regex.pattern == static._path_regex_str
    assert not with_params._static_path
    assert routes.is_static(static) and not routes.is_static(with_params)


def test_a_path_whose_regex_was_replaced_is_matched_by_its_regex() -> None:
    route = Path("/a", endpoint)
    route.path_regex = __import__("re").compile("^/(a|b)$")
    assert not routes.is_static(route)


def test_without_the_private_flags_paths_are_matched_by_their_regex(
    monkeypatch: pytest.MonkeyPatch, fresh_reports: set[str], caplog: pytest.LogCaptureFixture
) -> None:
    @get("/items/all")
    async def items() -> dict[str, str]:
        return {"items": "all"}

    app = Ravyn(routes=[items])
    for lilya_path, _ in app._endpoints.values():
        monkeypatch.delattr(lilya_path, "_static_path")
    with caplog.at_level(logging.WARNING, logger="ravyn.lilya"), TestClient(app) as client:
        assert client.get("/items/all").json() == {"items": "all"}
        assert client.get("/items/all").json() == {"items": "all"}
    assert sum("_static_path" in record.getMessage() for record in caplog.records) == 1


def test_lilyas_one_route_shortcut_is_worked_out_again_when_a_route_is_added() -> None:
    @get("/first")
    async def first() -> dict[str, str]:
        return {"route": "first"}

    app = Ravyn(routes=[], enable_openapi=False)
    app.add_route(first)
    assert hasattr(app, "_compute_fast_route")
    assert app._fast_route is app._compute_fast_route()


def test_without_lilyas_shortcut_adding_a_route_only_reports_it(
    monkeypatch: pytest.MonkeyPatch, fresh_reports: set[str], caplog: pytest.LogCaptureFixture
) -> None:
    @get("/only")
    async def only() -> dict[str, str]:
        return {"route": "only"}

    app = Ravyn(routes=[], enable_openapi=False)
    for klass in Ravyn.__mro__:
        if "_compute_fast_route" in vars(klass):
            monkeypatch.delattr(klass, "_compute_fast_route")
    with caplog.at_level(logging.WARNING, logger="ravyn.lilya"):
        app.add_route(only)
    with TestClient(app) as client:
        assert client.get("/only").json() == {"route": "only"}
    assert any("_compute_fast_route" in record.getMessage() for record in caplog.records)
