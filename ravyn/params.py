"""A handler's signature, read once at registration into parameter binders.

Which parameter gets what:

* annotated `Request`: the request;
* annotated `BackgroundTasks` or `BackgroundTask`: a fresh, empty collector
  whose tasks run after the response (never read from the request);
* named like a path parameter (`/users/{user_id:int}`): that path value;
* named `data` or `payload` and annotated with a dataclass, a `TypedDict` or
  `dict`: the whole request body;
* anything else is a *field*: read from the JSON object (or form) body for
  methods that carry one, else from the query string. A default makes it
  optional.

Values are converted to the annotated types; every problem of a request is
collected and answered at once with a 400 (see `ravyn.exceptions`).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints
from urllib.parse import parse_qsl

from lilya.requests import Request

from ravyn.background import BackgroundTask, BackgroundTasks
from ravyn.converters import ConversionError, Converter, converter_for, is_body_model
from ravyn.exceptions import FieldError, RequestError, ValidationError

__all__ = ["BODY_METHODS", "HandlerSignature", "Parameter", "read_signature"]

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Methods whose fields are read from the body first (then the query string)."""

WHOLE_BODY_NAMES = frozenset({"data", "payload"})

Source = Literal["request", "tasks", "path", "body", "field"]
_MISSING: Any = inspect.Parameter.empty


@dataclass(frozen=True, slots=True)
class Parameter:
    """One handler parameter and where its value comes from."""

    name: str
    source: Source
    annotation: Any
    convert: Converter
    default: Any = _MISSING
    many: bool = False  # a list field: every repeated query/form key

    @property
    def required(self) -> bool:
        """Whether the request must supply this value."""
        return self.default is _MISSING


@dataclass(frozen=True, slots=True)
class Inputs:
    """What one request supplies: its path values, query and body."""

    path: Mapping[str, Any]
    query: list[tuple[str, str]]
    body: Any  # decoded JSON, a list of form pairs, or None when absent
    body_is_form: bool


class HandlerSignature:
    """The compiled parameters of one handler.

    Example:
        ```python
        from ravyn.params import read_signature

        def create_user(name: str, age: int = 0) -> dict: ...

        signature = read_signature(create_user, path_params=set())
        assert [p.name for p in signature.parameters] == ["name", "age"]
        ```
    """

    def __init__(self, parameters: list[Parameter]) -> None:
        self.parameters = parameters
        self.wants_tasks = any(p.source == "tasks" for p in parameters)
        self.reads_body = any(p.source in ("body", "field") for p in parameters)

    def bind(self, request: Request, inputs: Inputs, tasks: BackgroundTasks | None) -> dict[str, Any]:
        """Return the keyword arguments for the handler, or raise `ValidationError`."""
        values: dict[str, Any] = {}
        errors: list[FieldError] = []
        body_object = inputs.body
        if inputs.body_is_form:
            body_object = _form_to_mapping(inputs.body)
        for param in self.parameters:
            if param.source == "request":
                values[param.name] = request
            elif param.source == "tasks":
                values[param.name] = tasks
            elif param.source == "path":
                self._convert(param, inputs.path[param.name], True, ("path",), values, errors)
            elif param.source == "body":
                self._bind_body(param, body_object, inputs.body_is_form, values, errors)
            else:
                self._bind_field(param, inputs, body_object, values, errors)
        if errors:
            raise ValidationError(errors)
        return values

    def _bind_body(
        self,
        param: Parameter,
        body: Any,
        from_text: bool,
        values: dict[str, Any],
        errors: list[FieldError],
    ) -> None:
        if body is None:
            if param.required:
                errors.append(FieldError(["body"], "missing", "a request body is required"))
            else:
                values[param.name] = param.default
            return
        self._convert(param, body, from_text, ("body",), values, errors, named=False)

    def _bind_field(
        self,
        param: Parameter,
        inputs: Inputs,
        body: Any,
        values: dict[str, Any],
        errors: list[FieldError],
    ) -> None:
        if isinstance(body, dict) and param.name in body:
            raw = body[param.name]
            if inputs.body_is_form and param.many and not isinstance(raw, list):
                raw = [raw]
            self._convert(param, raw, inputs.body_is_form, ("body",), values, errors)
            return
        found = [value for key, value in inputs.query if key == param.name]
        if found:
            raw = found if param.many else found[-1]
            self._convert(param, raw, True, ("query",), values, errors)
        elif not param.required:
            values[param.name] = param.default
        else:
            where = "body" if body is not None else "query"
            errors.append(FieldError([where, param.name], "missing", "field required"))

    @staticmethod
    def _convert(
        param: Parameter,
        raw: Any,
        from_text: bool,
        where: tuple[str, ...],
        values: dict[str, Any],
        errors: list[FieldError],
        named: bool = True,
    ) -> None:
        try:
            values[param.name] = param.convert(raw, from_text)
        except ConversionError as exc:
            loc = (*where, param.name, *exc.loc) if named else (*where, *exc.loc)
            errors.append(FieldError(loc, exc.type, exc.msg))


def _form_to_mapping(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            existing = mapping[key]
            mapping[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            mapping[key] = value
    return mapping


def _is_tasks_annotation(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BackgroundTask)


def _is_request_annotation(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Request)


def read_signature(handler: Callable[..., Any], *, path_params: set[str]) -> HandlerSignature:
    """Compile `handler`'s parameters. Raises `TypeError` naming the parameter
    whose annotation cannot be read from a request."""
    try:
        hints = get_type_hints(handler)
    except NameError as exc:
        raise TypeError(f"{_qualname(handler)}: cannot resolve an annotation: {exc}") from exc
    parameters: list[Parameter] = []
    for name, spec in inspect.signature(handler).parameters.items():
        if spec.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError(f"{_qualname(handler)}: *{name} parameters are not supported in handlers")
        annotation = hints.get(name, Any)
        parameters.append(_read_parameter(handler, name, annotation, spec.default, path_params))
    return HandlerSignature(parameters)


def _read_parameter(
    handler: Callable[..., Any], name: str, annotation: Any, default: Any, path_params: set[str]
) -> Parameter:
    if _is_request_annotation(annotation):
        return Parameter(name, "request", annotation, _no_conversion)
    if _is_tasks_annotation(annotation):
        return Parameter(name, "tasks", annotation, _no_conversion)
    try:
        convert = converter_for(annotation)
    except TypeError as exc:
        raise TypeError(f"{_qualname(handler)}: parameter {name!r}: {exc}") from None
    if name in path_params:
        return Parameter(name, "path", annotation, convert)
    if name in WHOLE_BODY_NAMES and is_body_model(annotation):
        return Parameter(name, "body", annotation, convert, default)
    return Parameter(name, "field", annotation, convert, default, _is_list(annotation))


def _is_list(annotation: Any) -> bool:
    """Whether a field takes a list (so repeated query keys are all kept)."""
    if annotation is list or get_origin(annotation) is list:
        return True
    if get_origin(annotation) in (Union, UnionType):
        return any(_is_list(arg) for arg in get_args(annotation) if arg is not type(None))
    return False


def _no_conversion(value: Any, from_text: bool) -> Any:
    return value


def _qualname(handler: Callable[..., Any]) -> str:
    return getattr(handler, "__qualname__", repr(handler))


JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_inputs(request: Request, *, reads_body: bool, max_body_size: int) -> Inputs:
    """Read the path values, query string and (when needed) the body of a request.

    Raises `RequestError` for a body over `max_body_size` (413), a content type
    it cannot read (415), malformed JSON or text that is not UTF-8 (400).
    """
    scope = request.scope
    raw_query = scope.get("query_string", b"")
    query = _parse_query(raw_query) if raw_query else []
    path = scope.get("path_params", {})
    if not reads_body or scope["method"] not in BODY_METHODS:
        return Inputs(path, query, None, False)
    content_type, declared = _body_headers(scope.get("headers", ()))
    raw = await _read_body(request, max_body_size, declared)
    if not raw:
        return Inputs(path, query, None, False)
    content_type = content_type.split(";", 1)[0].strip().lower()
    if content_type in JSON_TYPES or content_type.endswith("+json"):
        return Inputs(path, query, _decode_json(raw), False)
    if content_type == "application/x-www-form-urlencoded":
        return Inputs(path, query, _parse_form(raw), True)
    if content_type == "multipart/form-data":
        form = await request.form()
        pairs = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
        return Inputs(path, query, pairs, True)
    shown = content_type or "none"
    raise RequestError(
        415,
        f"Unsupported content type {shown!r}: send application/json or form data",
        [FieldError(["header", "content-type"], "unsupported", f"cannot read a body of type {shown!r}")],
    )


def _body_headers(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str, str | None]:
    """The content type ("" when absent) and the declared content length of a request.

    Read straight from the ASGI headers, the first of each name winning as in
    `request.headers.get`: building Lilya's `Header` costs more than the rest
    of reading a small JSON body.
    """
    content_type: str | None = None
    length: str | None = None
    for key, value in headers:
        name = key.lower()
        if name == b"content-type":
            if content_type is None:
                content_type = value.decode("latin-1")
        elif name == b"content-length" and length is None:
            length = value.decode("latin-1")
    return content_type or "", length


async def _read_body(request: Request, limit: int, declared: str | None) -> bytes:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    message = await request.receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        # the usual small body, in one message: no async generator needed
        body: bytes = message.get("body", b"")
        if len(body) > limit:
            raise _too_large(limit)
        request._stream_consumed = True
    else:
        request._stored_receive_message = message  # request.stream() starts from it
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        body = b"".join(chunks)
    # let request.body()/json()/form() work again inside the handler
    request._body = body  # type: ignore[assignment]
    request.scope["_body"] = body
    return body


def _too_large(limit: int) -> RequestError:
    return RequestError(
        413,
        f"Request body is larger than the limit of {limit} bytes",
        [FieldError(["body"], "too_large", f"at most {limit} bytes are accepted")],
    )


def _decode_json(raw: bytes) -> Any:
    try:
        # RFC 8259: JSON on the wire is UTF-8 (json.loads would guess UTF-16 from a BOM)
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RequestError(
            400, "Malformed JSON body: not valid UTF-8", [_bad_json("not valid UTF-8")]
        ) from None
    except json.JSONDecodeError as exc:
        problem = f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise RequestError(400, f"Malformed JSON body: {problem}", [_bad_json(problem)]) from None
    except RecursionError:
        raise RequestError(
            400, "Malformed JSON body: nested too deeply", [_bad_json("nested too deeply")]
        ) from None


def _bad_json(problem: str) -> FieldError:
    return FieldError(["body"], "json_invalid", problem)


def _parse_query(raw: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw.decode("latin-1"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise RequestError(
            400,
            "The query string is not valid UTF-8",
            [FieldError(["query"], "invalid_encoding", "percent-escapes must decode to UTF-8")],
        ) from None


def _parse_form(raw: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw.decode("ascii"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise RequestError(
            400,
            "The form body is not valid URL-encoded UTF-8",
            [FieldError(["body"], "invalid_encoding", "form data must be URL-encoded UTF-8")],
        ) from None
