"""The target of `python -m bench.validation_attack`: handlers whose input an
attacker fills with invalid values, and a probe route that reads nothing."""

from __future__ import annotations

from pydantic import BaseModel

from ravyn import Ravyn, get, post


class Item(BaseModel):
    name: str
    price: float
    qty: int


class Order(BaseModel):
    customer: str
    lines: list[Item] = []
    grid: list[list[int]] = []


@post("/items")
async def add_items(items: list[Item]) -> dict[str, int]:
    return {"count": len(items)}


@post("/tags")
async def add_tags(tags: list[int]) -> dict[str, int]:
    return {"count": len(tags)}


@get("/tags")
async def find_tags(tag: list[int]) -> dict[str, int]:
    return {"count": len(tag)}


@post("/orders")
async def add_order(order: Order) -> dict[str, int]:
    return {"lines": len(order.lines), "rows": len(order.grid)}


@post("/rows")
async def add_rows(payload: dict[str, list[list[int]]]) -> dict[str, int]:
    return {"keys": len(payload)}


@get("/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}


app = Ravyn(routes=[add_items, add_tags, find_tags, add_order, add_rows, ping])
