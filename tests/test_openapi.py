"""Tests for ravyn/openapi.py: the document Lilya's helpers build from our handlers."""

from __future__ import annotations

from typing import Any

import pytest

from ravyn import Ravyn, get, post
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
