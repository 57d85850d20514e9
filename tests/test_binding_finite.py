"""A model of the app's own never lets a non-finite float in from a body's text:
a 400 naming the field, never a 500 when the handler sends the value back."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, TypedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from ravyn import Ravyn, post
from ravyn._binding.finite import may_hold_non_finite, non_finite_locs
from ravyn.testing import TestClient


class Price(BaseModel):
    amount: float
    currency: str = "EUR"


class Line(BaseModel):
    sku: str
    price: Price
    discounts: list[float] = []
    weight: float | None = Field(default=None, alias="kg")


class Loose(BaseModel):
    model_config = ConfigDict(allow_inf_nan=True)  # the app asks for them

    amount: float


@dataclasses.dataclass
class Parcel:
    weight: float


class Reading(TypedDict):
    value: float


@post("/lines")
async def add_line(line: Line) -> Line:
    return line


@post("/carts")
async def add_lines(lines: list[Line]) -> list[Line]:
    return lines


@post("/parcels")
async def add_parcel(parcel: Parcel) -> dict[str, float]:
    return {"weight": parcel.weight}


@post("/readings")
async def add_reading(reading: Reading) -> dict[str, float]:
    return {"value": reading["value"]}


@post("/prices")
async def add_prices(prices: dict[str, Price], note: str = "") -> dict[str, Price]:
    return prices


@post("/loose")
async def add_loose(loose: Loose) -> dict[str, bool]:
    return {"finite": math.isfinite(loose.amount)}


client = TestClient(Ravyn(routes=[add_line, add_lines, add_parcel, add_reading, add_prices, add_loose]))

_WORDS = ["inf", "infinity", "nan", "1e400", "1E309", "9" * 400]
# how a client may spell one: any case, a sign, spaces around it
spellings = st.builds(
    lambda word, upper, sign, left, right: (
        left + sign + "".join(c.upper() if upper >> (i % 12) & 1 else c for i, c in enumerate(word)) + right
    ),
    st.sampled_from(_WORDS),
    st.integers(0, 2**12 - 1),  # which letters are upper case
    st.sampled_from(["", "+", "-"]),
    st.sampled_from(["", " ", "\t"]),
    st.sampled_from(["", " ", "\n"]),
).filter(lambda text: not math.isfinite(float(text)))


def _post(path: str, body: Any, *, escape_all: bool = False) -> Any:
    raw = json.dumps(body)
    if escape_all:  # every letter of the strings as a \u escape: the text hides behind them
        raw = "".join(f"\\u{ord(c):04x}" if c.isalpha() and c not in "truefalsn" else c for c in raw)
    return client.post(path, content=raw.encode(), headers={"content-type": "application/json"})


@settings(max_examples=80, deadline=None)
@given(text=spellings, escape_all=st.booleans(), where=st.sampled_from(["amount", "discount", "kg"]))
def test_a_non_finite_float_in_text_is_a_400_naming_its_field(
    text: str, escape_all: bool, where: str
) -> None:
    line: dict[str, Any] = {"sku": "pen", "price": {"amount": 1.5}, "discounts": [0.5, 1.0]}
    if where == "amount":
        line["price"]["amount"] = text
        loc = ["body", "price", "amount"]
    elif where == "discount":
        line["discounts"][1] = text
        loc = ["body", "discounts", 1]
    else:
        line["kg"] = text
        loc = ["body", "kg"]
    answer = _post("/lines", line, escape_all=escape_all)
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"] == [
        {"loc": loc, "type": "finite_number", "msg": "Input should be a finite number"}
    ]


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        (
            "/carts",
            [{"sku": "a", "price": {"amount": 1}}, {"sku": "b", "price": {"amount": "NaN"}}],
            [1, "price", "amount"],
        ),
        ("/parcels", {"weight": "-inf"}, ["weight"]),
        ("/readings", {"value": "Infinity"}, ["value"]),
        ("/prices", {"prices": {"pen": {"amount": "inf"}}, "note": "x"}, ["prices", "pen", "amount"]),
    ],
    ids=["list of models", "dataclass", "TypedDict", "field of models"],
)
def test_lists_dataclasses_and_typed_dicts_are_searched_too(path: str, body: Any, loc: list[Any]) -> None:
    answer = _post(path, body)
    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        {"loc": ["body", *loc], "type": "finite_number", "msg": "Input should be a finite number"}
    ]


def test_a_form_body_is_searched_too() -> None:
    answer = client.post("/parcels", data={"weight": "inf"})
    assert answer.status_code == 400 and answer.json()["errors"][0]["loc"] == ["body", "weight"]


def test_text_that_only_looks_like_one_is_taken() -> None:
    line = {"sku": "info banana 1e10", "price": {"amount": 1e300, "currency": "NaNa"}, "kg": "2.5"}
    answer = _post("/lines", line)
    assert answer.status_code == 201
    assert answer.json()["price"] == {"amount": 1e300, "currency": "NaNa"}


def test_a_model_that_asks_for_them_gets_them() -> None:
    assert _post("/loose", {"amount": "inf"}).json() == {"finite": False}


def test_a_large_body_is_searched_in_turns() -> None:
    lines = [{"sku": f"s{i}", "price": {"amount": i}} for i in range(3000)]
    lines[2999]["price"]["amount"] = "nan"
    answer = _post("/carts", lines)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["loc"] == ["body", 2999, "price", "amount"]


@settings(max_examples=300, deadline=None)
@given(text=spellings, ascii_only=st.booleans())
def test_the_scan_finds_every_spelling_in_json_text(text: str, ascii_only: bool) -> None:
    raw = json.dumps({"note": "ok", "value": text}, ensure_ascii=ascii_only).encode()
    assert may_hold_non_finite(raw)


def test_the_search_names_fields_by_alias_and_looks_inside_containers() -> None:
    @dataclasses.dataclass
    class Box:
        sizes: tuple[float, ...]
        tags: frozenset[str]

    value = {
        "line": Line.model_validate({"sku": "a", "price": {"amount": 1}, "kg": "inf"}),
        "boxes": [Box((1.0, float("nan")), frozenset({"x"}))],
    }
    assert sorted(map(str, non_finite_locs(value))) == sorted(
        map(str, [("line", "kg"), ("boxes", 0, "sizes", 1)])
    )
