"""Long lists of a large body validated in windows: the same result as one
validation, in steps between which the event loop serves other clients."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from bench.validation_attack import Attack, attacks
from ravyn import Ravyn, post
from ravyn._binding import windows
from ravyn._binding.windows import ListPlan, ModelPlan, Outcome, window_plan
from ravyn.converters import adapter_for
from ravyn.exceptions import MAX_ERRORS
from ravyn.testing import TestClient
from tests.support.asgi import receive_body

ROOT = Path(__file__).resolve().parents[1]


class Item(BaseModel):
    name: str
    qty: int


class Order(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    customer: str
    lines: list[Item]
    tags: list[str] = Field(default_factory=list, alias="labels")
    grid: list[list[int]] = []


class Checked(BaseModel):
    values: list[int]

    @field_validator("values")
    @classmethod
    def _keep(cls, values: list[int]) -> list[int]:
        return values


@pytest.fixture
def small_windows(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Windows of a few items, so that generated lists of a few dozen are cut in many places."""
    monkeypatch.setattr(windows, "LONG", 3)
    monkeypatch.setattr(windows, "FIRST_WINDOW", 2)
    monkeypatch.setattr(windows, "STEP_SECONDS", 1e-9)  # every window counts as slow: sizes shrink to 1
    yield


def _one_call(adapter: TypeAdapter[Any], value: Any) -> Outcome:
    try:
        return Outcome(adapter.validate_python(value), [], 0)
    except pydantic.ValidationError as exc:
        found = exc.errors(include_url=False, include_context=False, include_input=False)
        return Outcome(None, found[:MAX_ERRORS], exc.error_count())


def _same(windowed: Outcome, whole: Outcome) -> None:
    assert windowed.count == whole.count
    assert [(tuple(e["loc"]), e["type"]) for e in windowed.found] == [
        (tuple(e["loc"]), e["type"]) for e in whole.found
    ]
    if not whole.count:
        assert windowed.value == whole.value


def _windowed(
    annotation: Any, value: Any, adapter: TypeAdapter[Any] | None = None
) -> tuple[Outcome, Outcome]:
    adapter = adapter or adapter_for(annotation)
    plan = window_plan(annotation, adapter, adapter_for)
    assert plan is not None
    return asyncio.run(plan.validate(value)), _one_call(adapter, value)


scalars = st.one_of(st.integers(-5, 5), st.text(max_size=3), st.none(), st.booleans())
rows = st.lists(scalars, max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.lists(scalars, max_size=60))
def test_a_list_in_windows_validates_as_in_one_call(small_windows: None, value: list[Any]) -> None:
    _same(*_windowed(list[int], value))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.lists(rows, max_size=20))
def test_a_list_of_lists_in_windows_validates_as_in_one_call(small_windows: None, value: list[Any]) -> None:
    _same(*_windowed(list[list[int]], value))


items = st.one_of(
    st.fixed_dictionaries({"name": scalars, "qty": scalars}),
    st.fixed_dictionaries({"name": st.text(max_size=3)}),
    scalars,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.lists(items, max_size=40))
def test_a_list_of_models_in_windows_validates_as_in_one_call(small_windows: None, value: list[Any]) -> None:
    _same(*_windowed(list[Item], value))


orders = st.fixed_dictionaries(
    {"lines": st.lists(items, max_size=30)},
    optional={
        "customer": scalars,
        "labels": st.lists(st.one_of(st.text(max_size=3).map(lambda t: f" {t} "), scalars), max_size=30),
        "grid": st.lists(rows, max_size=8),
        "tags": st.lists(scalars, max_size=5),  # the field's name, not its key: ignored
    },
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=orders)
def test_a_model_whose_list_fields_are_in_windows_validates_as_in_one_call(
    small_windows: None, value: dict[str, Any]
) -> None:
    windowed, whole = _windowed(Order, value)
    _same(windowed, whole)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.dictionaries(st.text(max_size=2), st.one_of(rows, scalars), max_size=20))
def test_a_dict_of_lists_in_windows_validates_as_in_one_call(
    small_windows: None, value: dict[str, Any]
) -> None:
    _same(*_windowed(dict[str, list[int]], value))
    _same(*_windowed(dict[int, list[int] | None], value))  # keys that are not numbers fail too


class Node(BaseModel):
    label: str
    children: list[Node] = []
    weights: dict[str, list[int]] | None = None


nodes = st.recursive(
    st.fixed_dictionaries(
        {"label": scalars},
        optional={"weights": st.one_of(st.none(), st.dictionaries(st.text(max_size=2), rows, max_size=6))},
    ),
    lambda inner: st.fixed_dictionaries({"label": scalars, "children": st.lists(inner, max_size=8)}),
    max_leaves=12,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.lists(nodes, max_size=12))
def test_models_in_lists_and_optional_dicts_in_windows_validate_as_in_one_call(
    small_windows: None, value: list[Any]
) -> None:
    _same(*_windowed(list[Node], value))  # a model that holds itself: planned once
    _same(*_windowed(list[int] | None, None if not value else [1] * len(value)))


def test_the_model_config_applies_to_the_items_of_its_windowed_fields(small_windows: None) -> None:
    windowed, whole = _windowed(Order, {"customer": " ann ", "lines": [], "labels": [" a ", "b "] * 5})
    assert windowed.value.tags == ["a", "b"] * 5 == whole.value.tags
    assert windowed.value.customer == "ann"


def test_what_does_not_validate_item_by_item_gets_no_plan() -> None:
    # a validator would see the windows' output; a length constraint is the whole list's
    assert window_plan(Checked, adapter_for(Checked), adapter_for) is None
    bounded = Annotated[list[int], Field(max_length=5)]
    assert window_plan(bounded, adapter_for(bounded), adapter_for) is None
    for other in (tuple[int, ...], set[int], list[int] | str, list[int] | dict[str, int] | None):
        assert window_plan(other, adapter_for(other), adapter_for) is None, other
    plan = window_plan(Order, adapter_for(Order), adapter_for)
    assert isinstance(plan, ModelPlan) and set(plan.fields) == {"lines", "labels", "grid"}

    class Either(BaseModel):
        model_config = ConfigDict(populate_by_name=True)
        values: list[int] = Field(alias="v")  # either key may hold it: not windowed
        others: list[int] = []

    either = window_plan(Either, adapter_for(Either), adapter_for)
    assert isinstance(either, ModelPlan) and set(either.fields) == {"others"}


def test_other_tasks_run_between_the_windows_of_a_long_list() -> None:
    plan = window_plan(list[int], adapter_for(list[int]), adapter_for)
    assert isinstance(plan, ListPlan)
    value: list[Any] = ["x", 1] * 50_000
    ticks: list[int] = []

    async def main() -> Outcome:
        done = False

        async def other_client() -> None:
            while not done:
                ticks.append(1)
                await asyncio.sleep(0)

        ticker = asyncio.create_task(other_client())
        await asyncio.sleep(0)
        outcome = await plan.validate(value)
        done = True
        await ticker
        return outcome

    outcome = asyncio.run(main())
    assert outcome.count == 50_000 and len(outcome.found) == MAX_ERRORS
    # the first window holds 256 items and each next one at most 4 times more: at least 6 windows
    assert len(ticks) >= 6


@post("/orders")
async def take_order(order: Order) -> dict[str, int]:
    return {"lines": len(order.lines), "tags": len(order.tags)}


@post("/rows")
async def take_rows(rows: list[list[int]], note: str = "") -> dict[str, int]:
    return {"rows": len(rows), "cells": sum(len(row) for row in rows)}


def _pydantic_listing(parts: list[tuple[tuple[str, ...], Any, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The errors pydantic lists for each (loc, annotation, value) in turn, and their count."""
    listed: list[dict[str, Any]] = []
    count = 0
    for loc, annotation, value in parts:
        try:
            TypeAdapter(annotation).validate_python(value)
        except pydantic.ValidationError as exc:
            count += exc.error_count()
            listed += [
                {"loc": [*loc, *e["loc"]], "type": e["type"], "msg": e["msg"]}
                for e in exc.errors(include_url=False)
            ]
    return listed[:MAX_ERRORS], count


LINES = [{"name": "pen", "qty": 1}] * 6000 + [{"qty": "y"}] * 3000
CASES = {
    "invalid lines": ("/orders", {"customer": "a", "lines": [{"name": "pen", "qty": "x"}] * 9000}),
    "invalid after valid": ("/orders", {"customer": 1, "lines": LINES}),
    "valid lines, invalid labels": ("/orders", {"lines": LINES[:6000], "labels": ["a", 1] * 2000}),
    "rows": ("/rows", {"rows": [[1, "x", 3]] * 9000, "note": 5}),
    "one long row": ("/rows", {"rows": [["x"] * 30_000, [1, 2]]}),
}


@pytest.mark.parametrize("case", CASES)
def test_a_large_body_gets_the_errors_pydantic_lists_first_and_their_count(case: str) -> None:
    path, body = CASES[case]
    raw = json.dumps(body).encode()
    assert len(raw) > 64 * 1024  # a large body: validated in windows
    if path == "/orders":
        expected, count = _pydantic_listing([(("body",), Order, body)])
    else:
        expected, count = _pydantic_listing([(("body", "rows"), list[list[int]], body["rows"])])
        if "note" in body:
            count += 1  # its error comes after the rows' (a field of its own)
    client = TestClient(Ravyn(routes=[take_order, take_rows]))
    answer = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["errors"] == expected
    assert answer.json()["more_errors"] == count - MAX_ERRORS


def test_a_large_valid_body_reaches_the_handler_whole() -> None:
    client = TestClient(Ravyn(routes=[take_order, take_rows]))
    order = {"customer": "a", "lines": [{"name": "pen", "qty": 2}] * 9000, "labels": ["x"] * 3000}
    assert client.post("/orders", json=order).json() == {"lines": 9000, "tags": 3000}
    rows = {"rows": [[1, 2, 3]] * 6000 + [list(range(20_000))]}
    assert client.post("/rows", json=rows).json() == {"rows": 6001, "cells": 38_000}


@pytest.mark.parametrize("attack", [a for a in attacks() if a.name.startswith("1 MB")], ids=lambda a: a.name)
def test_other_requests_are_served_while_a_body_near_the_limit_is_read(attack: Attack) -> None:
    """Bodies just under the 1 MB default limit, through the bench's app: the event loop
    runs other tasks many times while one is read (before, twice at most: one step to
    decode it, one to validate it)."""
    app = _bench_app()
    scope = {
        "type": "http",
        "method": attack.method,
        "path": attack.path,
        "raw_path": attack.path.encode(),
        "query_string": b"",
        "headers": [(b"content-type", (attack.content_type or "").encode())],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }
    ticks = 0
    statuses: list[int] = []

    async def main() -> None:
        nonlocal ticks
        done = False

        async def other_client() -> None:
            nonlocal ticks
            while not done:
                ticks += 1
                await asyncio.sleep(0)

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        ticker = asyncio.create_task(other_client())
        await asyncio.sleep(0)
        ticks = 0
        await app(scope, receive_body(attack.body), send)
        done = True
        await ticker

    asyncio.run(main())
    assert statuses == [201 if attack.valid else 400]
    # the windows of one long list grow at most 4 times each, from 256 entries: 100,000
    # entries take 5 windows or more, each after a turn for the other tasks
    assert ticks >= 5, ticks


def _bench_app() -> Any:
    """The app `python -m bench.validation_attack` serves."""
    spec = importlib.util.spec_from_file_location(
        "validation_app", ROOT / "bench" / "apps" / "validation_app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("validation_app", module)  # pydantic finds its models' names there
    spec.loader.exec_module(sys.modules["validation_app"])
    return sys.modules["validation_app"].app
