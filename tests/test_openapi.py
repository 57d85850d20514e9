"""Tests for ravyn/openapi.py: the document Lilya's helpers build from our handlers."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import ravyn.openapi
from ravyn import Depends, Ravyn, get, post
from ravyn.testing import record

pytestmark = pytest.mark.anyio


@post("/users", tags=["users"], summary="Create a user")
def create_user(email: str, age: int = 0) -> dict[str, Any]:
    """Create a user and send the welcome email afterwards."""
    return {"email": email}


@get("/users/{user_id:int}")
def read_user(user_id: int, verbose: bool = False) -> dict[str, int]:
    return {"user_id": user_id}


@get("/hidden", include_in_schema=False)
def hidden() -> None: ...


async def test_the_document_describes_each_handler() -> None:
    timeline = await record(
        Ravyn(routes=[create_user, read_user, hidden], title="Shop"), "GET", "/openapi.json"
    )
    document = timeline.json()
    assert document["info"]["title"] == "Shop"
    assert set(document["paths"]) == {"/users", "/users/{user_id}"}
    create = document["paths"]["/users"]["post"]
    assert create["summary"] == "Create a user" and create["tags"] == ["users"]
    assert create["description"].startswith("Create a user and send")
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["email"]
    assert schema["properties"]["age"]["type"] == "integer"
    assert set(create["responses"]) == {"201", "400"}
    read = document["paths"]["/users/{user_id}"]["get"]
    params = {p["name"]: p for p in read["parameters"]}
    assert params["user_id"]["in"] == "path"
    assert params["verbose"] == {
        "name": "verbose",
        "in": "query",
        "required": False,
        "schema": {"type": "boolean"},
    }


async def test_the_docs_page_and_turning_it_off() -> None:
    page = await record(Ravyn(routes=[read_user]), "GET", "/docs")
    assert page.status == 200 and b"/openapi.json" in page.body
    off = Ravyn(routes=[read_user], enable_openapi=False)
    assert (await record(off, "GET", "/openapi.json")).status == 404
    assert (await record(off, "GET", "/docs")).status == 404


class Item(BaseModel):
    name: str
    price: float


class Order(BaseModel):
    customer: str
    items: list[Item]


class Coupon(BaseModel):
    code: str


def page(size: int = 10) -> int:
    return size


@post("/orders")
def create_order(order: Order) -> dict[str, Any]:
    return {}


@post("/checkout")
def checkout(order: Order, coupon: Coupon, note: str = "") -> dict[str, Any]:
    return {}


@get("/orders")
def list_orders(size: int = Depends(page)) -> list[Any]:
    return []


async def test_models_go_to_the_components_and_request_bodies_refer_to_them() -> None:
    document = (
        await record(Ravyn(routes=[create_order, checkout, list_orders]), "GET", "/openapi.json")
    ).json()
    components = document["components"]["schemas"]
    assert set(components) >= {"Item", "Order", "Coupon"}
    assert components["Order"]["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Item"}
    single = document["paths"]["/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert single == {"$ref": "#/components/schemas/Order"}  # the whole body is the model
    embedded = document["paths"]["/checkout"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert embedded["properties"]["order"] == {"$ref": "#/components/schemas/Order"}
    assert embedded["properties"]["coupon"] == {"$ref": "#/components/schemas/Coupon"}
    assert embedded["required"] == ["order", "coupon"]
    query = document["paths"]["/orders"]["get"]["parameters"]
    assert [p["name"] for p in query] == ["size"]  # a dependency's fields are the route's too


def test_the_openapi_module_does_not_import_the_application_module() -> None:
    tree = ast.parse(Path(ravyn.openapi.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    assert "ravyn.applications" not in imported and "ravyn" not in imported
