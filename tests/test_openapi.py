"""Tests for ravyn/openapi.py: the document Lilya's helpers build from our handlers."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lilya.routing import Include
from pydantic import BaseModel

import ravyn.openapi
from ravyn import Depends, Ravyn, get, post, route
from ravyn.testing import Recorder, record

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


# --- paths as served, and a document built once (issue 21) ----------------------------------


@get("/items")
def list_items() -> list[Any]:
    return []


@post("/items/")
def add_item(name: str) -> dict[str, str]:
    return {"name": name}


async def test_a_path_declared_with_a_trailing_slash_is_listed_where_it_is_served() -> None:
    # /items and /items/ share one route, /items: a POST to /items/ is redirected with a 303 (a GET)
    app = Ravyn(routes=[list_items, add_item])
    document = (await record(app, "GET", "/openapi.json")).json()
    assert set(document["paths"]) == {"/items"}
    assert set(document["paths"]["/items"]) == {"get", "post"}
    served = await record(app, "POST", "/items", json={"name": "pen"})
    assert (served.status, served.json()) == (201, {"name": "pen"})


SEGMENTS = ["/a", "/b", "/a/{x:int}", "/b/{y}/c"]
METHODS = ["GET", "POST", "PUT", "DELETE"]


@st.composite
def route_tables(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Handlers' (method, path) pairs, paths drawn with and without a trailing slash."""
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(METHODS), st.sampled_from(SEGMENTS), st.booleans()),
            min_size=1,
            max_size=6,
        )
    )
    table: dict[tuple[str, str], str] = {}
    for method, path, slash in pairs:
        table.setdefault((method, path), path + "/" if slash else path)  # one handler per method and route
    return [(method, path) for (method, _), path in table.items()]


def _app_of(table: list[tuple[str, str]]) -> Ravyn:
    app = Ravyn()
    for index, (method, path) in enumerate(table):

        def handler() -> dict[str, int]:
            return {"ok": 1}

        handler.__name__ = handler.__qualname__ = f"handler_{index}"
        app.add_route(route(path, [method])(handler))
    return app


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(table=route_tables())
def test_every_listed_operation_is_answered_at_its_listed_path_without_a_redirect(
    table: list[tuple[str, str]],
) -> None:
    app = _app_of(table)
    # served as it is, and mounted under a prefix: the document names the prefix as its server
    mounted = Ravyn(routes=[Include("/v1", app=app)], enable_openapi=False)

    async def check(served: Ravyn, prefix: str) -> None:
        document = (await record(served, "GET", f"{prefix}/openapi.json")).json()
        server = document["servers"][0]["url"] if prefix else ""
        assert server == prefix and ("servers" in document) == bool(prefix)
        listed = [
            (method.upper(), path) for path, operations in document["paths"].items() for method in operations
        ]
        assert sorted(method for method, _ in listed) == sorted(method for method, _ in table)
        for method, path in listed:
            concrete = server + re.sub(r"{[^}]+}", "1", path)
            timeline = await record(served, method, concrete)
            # answered by the handler, with the status the document promises: never a redirect
            promised = document["paths"][path][method.lower()]["responses"]
            assert str(timeline.status) in promised, (method, concrete, timeline.status)

    anyio.run(check, app, "")
    anyio.run(check, mounted, "/v1")


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per build of an OpenAPI document (`openapi_document` counted)."""
    built: list[int] = []
    build = ravyn.openapi.openapi_document

    def counting(app: Any) -> dict[str, Any]:
        built.append(1)
        return build(app)

    monkeypatch.setattr(ravyn.openapi, "openapi_document", counting)
    return built


async def test_the_document_is_built_once_and_again_only_when_routes_change(builds: list[int]) -> None:
    app = Ravyn(routes=[create_user, read_user])
    async with Recorder(app) as client:
        first = await client.request("GET", "/openapi.json")
        for _ in range(5):
            again = await client.request("GET", "/openapi.json")
            assert again.body == first.body
        assert len(builds) == 1

        @get("/late")
        def late() -> dict[str, int]:
            return {}

        app.add_route(late)  # a new route
        assert "/late" in (await client.request("GET", "/openapi.json")).json()["paths"]
        assert len(builds) == 2

        @post("/late")
        def late_post() -> dict[str, int]:
            return {}

        app.add_route(late_post)  # a new method on an existing route
        assert "post" in (await client.request("GET", "/openapi.json")).json()["paths"]["/late"]
        (await client.request("GET", "/openapi.json"))
        assert len(builds) == 3


async def test_a_mounted_app_is_documented_under_its_prefix_from_the_one_build(builds: list[int]) -> None:
    app = Ravyn(routes=[create_user])
    mounted = Ravyn(routes=[Include("/v1", app=app)], enable_openapi=False)
    page = await record(mounted, "GET", "/v1/docs")
    assert page.status == 200 and "'/v1/openapi.json'" in page.body.decode()  # not the outer app's
    for _ in range(2):
        assert (await record(mounted, "GET", "/v1/openapi.json")).json()["servers"] == [{"url": "/v1"}]
        assert "servers" not in (await record(app, "GET", "/openapi.json")).json()
    assert len(builds) == 1
