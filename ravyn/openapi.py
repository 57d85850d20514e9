"""The OpenAPI document of a Ravyn app, built with Lilya's OpenAPI helpers.

`lilya.contrib.openapi.utils.get_openapi` writes the document; this module
only describes each handler to it (summary, tags, query parameters, request
body) and fixes the success status code. Schemas come from the pydantic
`TypeAdapter`s each parameter is validated with; models (pydantic models,
dataclasses, `TypedDict`s) go to `components.schemas`, referenced by name.

Each operation is listed at the path it is served at: the path of the route
that serves it. Handlers whose paths differ only by a trailing slash share
one route (`/items` and `/items/`), so one of them is served at the other's
path, and a request to the path it was declared with is redirected (a 303,
which turns a POST into a GET): listing the declared path would send
clients there.

`GET /openapi.json` builds the document on the first request and again only
when the app's routes or handlers change, not on every request.

It reads an app only through `DocumentedApp` (its handlers, title and
version), so it needs no import of `ravyn.applications`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from lilya.requests import Request
from lilya.responses import HTMLResponse, Response
from lilya.routing import Path, Router
from pydantic import TypeAdapter

from ravyn.params import BODY_METHODS, Parameter
from ravyn.responses import encode_json
from ravyn.routing import PathEndpoint, RouteHandler

__all__ = ["DocumentCache", "DocumentedApp", "openapi_document", "serve_openapi", "served_paths"]

REF_TEMPLATE = "#/components/schemas/{model}"


class DocumentedApp(Protocol):
    """What the OpenAPI document is built from: a `Ravyn` app is one."""

    handlers: list[RouteHandler[Any, Any]]
    title: str
    api_version: str
    router: Router


OPENAPI_URL = "/openapi.json"
DOCS_URL = "/docs"
_CONVERTER = re.compile(r"{([^}:]+):[^}]+}")


@dataclass
class _Operation:
    """What `get_openapi` reads from a route's handler."""

    func: Any
    openapi_meta: dict[str, Any]


@dataclass
class _RouteView:
    """What `get_openapi` reads from a route, for one handler."""

    path_format: str
    methods: list[str]
    handler: _Operation
    include_in_schema: bool = True
    routes: list[Any] = field(default_factory=list)


class _Schemas:
    """JSON schemas of parameters, collecting the models they refer to."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def of(self, param: Parameter) -> dict[str, Any]:
        adapter = param.adapter or TypeAdapter(Any)
        try:
            schema = adapter.json_schema(ref_template=REF_TEMPLATE)
        except Exception:  # a type pydantic validates but cannot describe: leave it open
            return {}
        self.components.update(schema.pop("$defs", {}))
        title = schema.get("title")
        if param.source == "body" and schema.get("type") == "object" and isinstance(title, str):
            self.components[title] = schema  # a model: described once, referred to by name
            return {"$ref": REF_TEMPLATE.format(model=title)}
        return schema


def _describe(handler: RouteHandler[Any, Any], schemas: _Schemas) -> dict[str, Any]:
    inputs = handler.signature.inputs()
    fields = [p for p in inputs if p.source == "field"]
    models = [p for p in inputs if p.source == "body"]
    meta: dict[str, Any] = {
        "summary": handler.summary,
        "description": handler.description,
        "tags": handler.tags or None,
    }
    has_body = handler.methods[0] in BODY_METHODS
    if has_body and len(models) == 1:
        meta["request_body"] = schemas.of(models[0])
    elif has_body and (fields or models):
        meta["request_body"] = _object_schema(fields + models, schemas)
    elif fields:
        meta["query"] = {p.name: _query_parameter(p, schemas) for p in fields}
    return meta


def _object_schema(fields: list[Parameter], schemas: _Schemas) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {p.name: schemas.of(p) for p in fields},
        "required": [p.name for p in fields if p.required],
    }


def _query_parameter(param: Parameter, schemas: _Schemas) -> dict[str, Any]:
    return {
        "name": param.name,
        "in": "query",
        "required": param.required,
        "schema": schemas.of(param),
    }


def openapi_document(app: DocumentedApp) -> dict[str, Any]:
    """Build the OpenAPI document for every handler of `app` shown in the schema."""
    # imported here: pydantic is only needed once somebody asks for the document
    from lilya.contrib.openapi.utils import get_openapi

    schemas = _Schemas()
    served = served_paths(app)
    shown = [handler for handler in app.handlers if handler.include_in_schema]
    paths = {
        id(handler): _CONVERTER.sub(r"{\1}", served.get(id(handler), handler.path or "/"))
        for handler in shown
    }
    views = [
        _RouteView(
            path_format=paths[id(handler)],
            methods=handler.methods,
            handler=_Operation(handler.func, _describe(handler, schemas)),
        )
        for handler in shown
    ]
    # 3.1: what OpenAPI tools (schemathesis, Swagger UI) read today; nothing here needs 3.2
    document = get_openapi(
        app=app, title=app.title, version=app.api_version, openapi_version="3.1.0", routes=views
    )
    for handler in shown:
        path = paths[id(handler)]
        for method in handler.methods:
            operation = document["paths"][path][method.lower()]
            responses = {str(handler.status_code): {"description": "Successful response"}}
            if handler.signature.parameters:
                responses["400"] = {"description": "The request does not fit the parameters"}
            operation["responses"] = responses
    if schemas.components:
        document.setdefault("components", {}).setdefault("schemas", {}).update(schemas.components)
    return document


def served_paths(app: DocumentedApp) -> dict[int, str]:
    """The path each of `app`'s handlers is served at, by `id` of the handler:
    the path of the route whose endpoint holds it."""
    found: dict[int, str] = {}
    for route in app.router.routes:
        endpoint = getattr(route, "app", None)
        if isinstance(route, Path) and isinstance(endpoint, PathEndpoint):
            for handler in endpoint.handlers.values():
                found.setdefault(id(handler), route.path)
    return found


class DocumentCache:
    """The encoded OpenAPI document of an app, built again only when its
    routes or handlers change (a route added, removed or replaced, a handler
    registered).

    An app served under a prefix (mounted with `Include("/v1", app=...)`, or
    behind `uvicorn --root-path`) gets the same document with that prefix as
    its server (`"servers": [{"url": "/v1"}]`), so that each listed path is
    where the operation is answered; one encoding per prefix is kept."""

    def __init__(self, app: DocumentedApp) -> None:
        self.app = app
        self.builds = 0
        self._key: tuple[object, ...] | None = None
        self._document: dict[str, Any] = {}
        self._bodies: dict[str, bytes] = {}

    def body(self, root_path: str = "") -> bytes:
        """The document as JSON, built now if the app changed since the last
        build; `root_path` (the prefix the app is served under) as its server."""
        app = self.app
        key = (len(app.handlers), *map(id, app.router.routes))
        if key != self._key:
            self._document = openapi_document(app)
            self._bodies = {}
            self._key = key
            self.builds += 1
        body = self._bodies.get(root_path)
        if body is None:
            document = self._document
            if root_path:
                document = {**document, "servers": [{"url": root_path}]}
            body = encode_json(document)
            if len(self._bodies) < _PREFIXES_KEPT:  # a prefix comes from the server, but stay bounded
                self._bodies[root_path] = body
        return body


_PREFIXES_KEPT = 8


def serve_openapi(app: DocumentedApp) -> DocumentCache:
    """Add `GET /openapi.json` and a Swagger UI page at `GET /docs` to `app`.

    Returns the cache the document is served from."""
    cache = DocumentCache(app)

    async def openapi_json(request: Request) -> Response:
        return Response(cache.body(_prefix(request)), media_type="application/json")

    async def swagger_ui(request: Request) -> HTMLResponse:
        from lilya.contrib.openapi.config import OpenAPIConfig
        from lilya.contrib.openapi.docs import get_swagger_ui_html

        config = OpenAPIConfig()
        return get_swagger_ui_html(
            openapi_url=_prefix(request) + OPENAPI_URL,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=config.swagger_js_url,
            swagger_css_url=config.swagger_css_url,
            swagger_favicon_url=config.swagger_favicon_url,
        )

    app.router.routes.append(Path(OPENAPI_URL, openapi_json, methods=["GET"], include_in_schema=False))
    app.router.routes.append(Path(DOCS_URL, swagger_ui, methods=["GET"], include_in_schema=False))
    return cache


def _prefix(request: Request) -> str:
    """The prefix the app is served under (the scope's `root_path`), without a trailing slash."""
    return str(request.scope.get("root_path") or "").rstrip("/")
