"""A 400 stays small whatever the request: the first errors listed, the rest counted.

Before, a body of a few hundred kilobytes of invalid items was answered with
every error (about 50 times the request's size), built while every other
client waited. These tests hold the bound for JSON, query and form input,
for generated bodies, and check that the count of the errors not listed is
exact (pydantic's own count) and that cutting a long list short to find the
first errors never reports an error the request does not have.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

import ravyn._binding.errors
from ravyn import Depends, Ravyn, get, post
from ravyn._binding.errors import FIRST_BUDGET, GROWTH, LIST_IN_FULL, first_errors
from ravyn.converters import adapter_for
from ravyn.exceptions import (
    MAX_ERRORS,
    MAX_LOC_PARTS,
    MAX_LOC_TEXT,
    MAX_MESSAGE,
    FieldError,
    RequestError,
    ValidationError,
)
from ravyn.testing import record

pytestmark = pytest.mark.anyio

GENERATED = settings(
    max_examples=30, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
)

# the size of a 400 whatever the body: MAX_ERRORS errors of bounded parts, and the detail naming them
BOUND = 16 * 1024


class Item(BaseModel):
    name: str
    price: float
    qty: int


@post("/items")
def add_items(items: list[Item]) -> dict[str, int]:
    return {"count": len(items)}


@post("/tags")
def add_tags(tags: list[int], note: str = "") -> dict[str, int]:
    return {"count": len(tags)}


@get("/tags")
def find_tags(tag: list[int]) -> dict[str, int]:
    return {"count": len(tag)}


@post("/scores")
def add_scores(data: dict[str, int]) -> dict[str, int]:
    return {"count": len(data)}


class Batch(BaseModel):
    items: Annotated[list[Item], Field(min_length=FIRST_BUDGET + 10)]


@post("/batch")
def add_batch(batch: Batch) -> dict[str, int]:
    return {"count": len(batch.items)}


def tags_seen(tags: list[int]) -> int:
    return len(tags)


@post("/tags-twice")
def add_tags_twice(tags: list[int], seen: int = Depends(tags_seen)) -> dict[str, int]:
    return {"count": seen}


app = Ravyn(
    routes=[add_items, add_tags, find_tags, add_scores, add_batch, add_tags_twice],
    max_body_size=4 * 1024 * 1024,
)


def bad_items(count: int) -> list[dict[str, Any]]:
    return [{"name": 1, "price": "x", "qty": "y"} for _ in range(count)]


async def test_a_body_of_thousands_of_invalid_items_lists_the_first_twenty_and_counts_the_rest() -> None:
    body = bad_items(10_000)
    timeline = await record(app, "POST", "/items", json=body)
    assert timeline.status == 400
    answer = timeline.json()
    assert len(answer["errors"]) == MAX_ERRORS
    assert answer["more_errors"] == 30_000 - MAX_ERRORS
    # the first ones, in order: items 0 to 6, three fields each
    assert [e["loc"] for e in answer["errors"][:4]] == [
        ["body", 0, "name"],
        ["body", 0, "price"],
        ["body", 0, "qty"],
        ["body", 1, "name"],
    ]
    assert answer["detail"].endswith(f"(and {30_000 - MAX_ERRORS} more)")
    assert len(timeline.body) < BOUND < len(json.dumps(body))


@pytest.mark.parametrize(
    ("method", "path", "options", "loc"),
    [
        ("POST", "/tags", {"json": {"tags": ["x"] * 50_000}}, ["body", "tags"]),
        ("POST", "/tags", {"data": {"tags": ["x"] * 1000}}, ["body", "tags"]),
        ("GET", "/tags?" + urlencode({"tag": ["x"] * 1000}, doseq=True), {}, ["query", "tag"]),
    ],
    ids=["json", "form", "query"],
)
async def test_a_list_field_of_many_bad_values_is_capped_alike_from_json_form_and_query(
    method: str, path: str, options: dict[str, Any], loc: list[str]
) -> None:
    timeline = await record(app, method, path, **options)
    assert timeline.status == 400
    answer = timeline.json()
    assert [e["loc"] for e in answer["errors"]] == [[*loc, index] for index in range(MAX_ERRORS)]
    assert len(answer["errors"]) + answer["more_errors"] in (1000, 50_000)
    assert len(timeline.body) < BOUND


async def test_keys_of_any_length_in_the_body_are_cut_in_the_answer() -> None:
    key = "k" * 300_000
    timeline = await record(app, "POST", "/scores", json={key: "not a number", "b" * 200: "nor this"})
    assert timeline.status == 400
    locs = [e["loc"] for e in timeline.json()["errors"]]
    assert locs == [["body", "k" * (MAX_LOC_TEXT - 1) + "…"], ["body", "b" * (MAX_LOC_TEXT - 1) + "…"]]
    assert len(timeline.body) < BOUND


async def test_a_field_a_dependency_reads_too_is_counted_once() -> None:
    timeline = await record(app, "POST", "/tags-twice", json={"tags": ["x"] * 500})
    answer = timeline.json()
    assert timeline.status == 400
    assert len(answer["errors"]) + answer["more_errors"] == 500


async def test_cutting_a_long_list_short_reports_no_length_error_the_body_does_not_have() -> None:
    # long enough for its min_length, so the only problems are the items' own
    items = bad_items(LIST_IN_FULL + FIRST_BUDGET)
    timeline = await record(app, "POST", "/batch", json={"items": items})
    answer = timeline.json()
    assert timeline.status == 400
    assert {e["type"] for e in answer["errors"]} <= {"string_type", "float_parsing", "int_parsing"}
    assert len(answer["errors"]) + answer["more_errors"] == 3 * len(items)


async def test_a_short_list_keeps_its_length_error() -> None:
    timeline = await record(app, "POST", "/batch", json={"items": []})
    assert timeline.status == 400
    assert timeline.json()["errors"][0]["type"] == "too_short"


@pytest.mark.parametrize("valid_first", [0, FIRST_BUDGET, FIRST_BUDGET * GROWTH**3])
def test_errors_past_the_first_cut_are_still_found(valid_first: int) -> None:
    # valid items first, the invalid ones only beyond what a cut copy keeps: a larger copy finds them
    adapter = adapter_for(list[Item])
    value = [{"name": "ok", "price": 1, "qty": 1}] * valid_first + bad_items(LIST_IN_FULL)
    with pytest.raises(pydantic.ValidationError) as caught:
        adapter.validate_python(value)
    found = first_errors(adapter, value, caught.value, MAX_ERRORS)
    first = [(valid_first, "name"), (valid_first, "price"), (valid_first, "qty")]
    assert [e["loc"] for e in found[:3]] == first
    assert len(found) == MAX_ERRORS


Nested = list[list[list[int]]]


@pytest.mark.parametrize(
    ("annotation", "value"),
    [
        (list[Item], bad_items(20_000)),
        (list[Item], [{"name": "ok", "price": 1, "qty": 1}] * 5_000 + bad_items(20_000)),
        (Nested, [[["x"] * 40] * 40] * 40),  # no list long by itself, 64,000 errors in all
        (dict[str, int], {f"k{index}": "x" for index in range(30_000)}),
        (list[int] | None, [1] * 1000 + ["x"] * 20_000),
        (list[int] | str, [1] * 1000 + ["x"] * 20_000),
    ],
    ids=["flat", "valid-prefix", "balanced-nesting", "wide-object", "optional-list", "union-with-a-list"],
)
def test_the_full_list_of_errors_is_never_built_for_a_large_body(
    annotation: Any, value: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[int] = []
    details = ravyn._binding.errors._details

    def counting(exc: pydantic.ValidationError) -> list[dict[str, Any]]:
        read.append(exc.error_count())
        return details(exc)

    monkeypatch.setattr(ravyn._binding.errors, "_details", counting)
    adapter = adapter_for(annotation)
    with pytest.raises(pydantic.ValidationError) as caught:
        adapter.validate_python(value)
    found = first_errors(adapter, value, caught.value, MAX_ERRORS)
    assert len(found) == MAX_ERRORS
    assert read and max(read) < caught.value.error_count() / 2
    every = caught.value.errors(include_url=False, include_context=False, include_input=False)
    assert found == every[:MAX_ERRORS]


def test_a_missing_key_of_an_item_is_reported_even_when_its_list_was_cut() -> None:
    adapter = adapter_for(list[Item])
    value = [{"price": 1, "qty": 1}] * (LIST_IN_FULL + 1)
    with pytest.raises(pydantic.ValidationError) as caught:
        adapter.validate_python(value)
    found = first_errors(adapter, value, caught.value, MAX_ERRORS)
    assert found[0]["loc"] == (0, "name") and found[0]["type"] == "missing"


def test_a_request_error_keeps_the_first_errors_and_counts_the_rest() -> None:
    errors = (FieldError(["body", index], "bad", "no") for index in range(10_000))
    exc = RequestError(400, "Invalid", errors)
    assert len(exc.errors) == MAX_ERRORS
    assert exc.body()["more_errors"] == 10_000 - MAX_ERRORS


def test_a_long_message_is_cut() -> None:
    error = FieldError(["body"], "value_error", "x" * 10_000)
    assert len(error["msg"]) == MAX_MESSAGE


def test_a_validation_error_names_only_the_fields_it_lists() -> None:
    exc = ValidationError([FieldError(["query", "q"], "missing", "Field required")], total=5)
    assert exc.detail == "Invalid request: query.q (and 4 more)"
    assert exc.body()["more_errors"] == 4


@st.composite
def invalid_bodies(draw: st.DrawFn) -> Any:
    """A list of items, some valid, some not, some missing keys, some of the wrong shape."""
    good = st.fixed_dictionaries(
        {"name": st.text(max_size=5), "price": st.floats(0, 10), "qty": st.integers(0, 9)}
    )
    bad = st.fixed_dictionaries(
        {},
        optional={
            "name": st.integers() | st.none() | st.text(max_size=3),
            "price": st.text(max_size=3) | st.lists(st.integers(), max_size=2),
            "qty": st.text(max_size=3) | st.floats(allow_nan=True),
            "extra": st.text(max_size=3),
        },
    )
    blocks = draw(
        st.lists(
            st.tuples(st.sampled_from([good, bad, st.integers(), st.text(max_size=4)]), st.integers(1, 150)),
            min_size=1,
            max_size=5,
        )
    )
    body: list[Any] = []
    for strategy, repeat in blocks:
        body.extend([draw(strategy)] * repeat)
    return body


@GENERATED
@given(body=invalid_bodies())
def test_for_any_body_the_errors_listed_are_pydantics_first_ones_and_the_count_is_exact(body: Any) -> None:
    adapter = adapter_for(list[Item])
    try:
        adapter.validate_python(body)
    except pydantic.ValidationError as exc:
        every = exc.errors(include_url=False, include_context=False, include_input=False)
        found = first_errors(adapter, body, exc, MAX_ERRORS)
        # no length limit and no long object here: the cut copy's first errors are the body's first
        assert found == every[:MAX_ERRORS]
        exc_400 = ValidationError(
            [FieldError(("body", *e["loc"]), e["type"], e["msg"]) for e in found], total=exc.error_count()
        )
        assert len(exc_400.errors) + exc_400.more_errors == len(every)
        assert len(json.dumps(exc_400.body())) < BOUND


def test_a_loc_of_any_depth_keeps_its_first_and_last_parts() -> None:
    error = FieldError(["body", *range(500), "name"], "string_type", "Input should be a valid string")
    loc = error["loc"]
    assert len(loc) == MAX_LOC_PARTS
    assert loc[:3] == ["body", 0, 1] and loc[MAX_LOC_PARTS // 2] == "…" and loc[-2:] == [499, "name"]


async def test_errors_deep_in_a_nested_body_stay_small() -> None:
    annotation: Any = int
    for _ in range(120):
        annotation = list[annotation]
    grid: Any = ["x"] * 50  # invalid integers, 120 levels down
    for _ in range(119):
        grid = [grid]

    def take_grid(grid: Any) -> None:
        return None

    take_grid.__annotations__ = {"grid": annotation, "return": None}  # a type 120 lists deep
    timeline = await record(Ravyn(routes=[post("/grid")(take_grid)]), "POST", "/grid", json={"grid": grid})
    assert timeline.status == 400
    answer = timeline.json()
    assert answer["more_errors"] == 50 - MAX_ERRORS
    assert all(len(error["loc"]) == MAX_LOC_PARTS for error in answer["errors"])
    assert len(timeline.body) < 8 * 1024  # 122 parts each: about 12 KB
