"""A handler's signature, read once at registration into parameter binders.

Which parameter gets what:

* annotated `Request`: the request;
* annotated `BackgroundTasks` or `BackgroundTask`: the request's collector,
  whose tasks run after the response (never read from the request); the
  handler and its dependencies share one collector;
* a `Depends(...)` default, or `Annotated[T, Depends(...)]`: that
  dependency's result for this request (see `ravyn.dependencies`);
* named like a path parameter (`/users/{user_id:int}`): that path value;
* annotated with a *model* (a pydantic `BaseModel`, a dataclass, a
  `TypedDict`, or a list of those), or named `data` or `payload` and
  annotated `dict`: the JSON (or form) body. With one such parameter it
  receives the whole body; with several, each receives the body's key of
  its own name (`{"user": {...}, "address": {...}}`). A single model is
  never embedded: to have a body like `{"user": {...}}`, declare a model
  with a `user` field;
* anything else is a *field*: read from the JSON object (or form) body for
  methods that carry one, else from the query string. A default makes it
  optional.

Values are validated and converted by pydantic (`TypeAdapter`s built here,
once). The problems of a request are collected and answered at once with a
400 listing pydantic's `loc`, `type` and `msg` for each, `loc` starting with
where the value was looked for (`body`, `query`, `path`): the first
`MAX_ERRORS` (20) of them, and in `"more_errors"` how many more there were.
A JSON body holding a number that is not finite (`NaN`, `Infinity`, `1e400`)
is a 400 naming where, whatever the parameter's type.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

import pydantic
from lilya.requests import Request
from lilya.responses import Response
from lilya.types import Receive, Scope
from pydantic import TypeAdapter

from ravyn._binding.body import body_headers, read_body, request_with_body
from ravyn._binding.callables import describe, parameters_of, type_hints_of
from ravyn._binding.errors import ErrorLog
from ravyn._binding.finite import (
    NON_FINITE_MSG,
    may_hold_non_finite,
    non_finite_locs,
    non_finite_locs_in_turns,
    reads_non_finite,
)
from ravyn._binding.forms import MAX_FIELDS, form_to_mapping, group, parse_pairs, read_multipart
from ravyn._binding.json_body import (
    MAX_INTEGER_DIGITS,
    ONE_PASS_LIMIT,
    decode_json,
    validate_fields,
    validate_model,
)
from ravyn._binding.steps import heavy_step
from ravyn._binding.windows import WindowPlan, window_plan
from ravyn.background import BackgroundTask, BackgroundTasks
from ravyn.converters import (
    adapter_for,
    fields_adapter,
    is_body_model,
    is_union,
    model_reads_same_from_json_text,
    strip_annotated,
)
from ravyn.dependencies import Dependency, RequestDependencies
from ravyn.exceptions import MAX_ERRORS, FieldError, RequestError, ValidationError

__all__ = [
    "BODY_METHODS",
    "MAX_ERRORS",
    "MAX_FIELDS",
    "MAX_INTEGER_DIGITS",
    "HandlerSignature",
    "Inputs",
    "Parameter",
    "read_inputs",
    "read_signature",
]

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Methods whose fields are read from the body first (then the query string)."""

WHOLE_BODY_NAMES = frozenset({"data", "payload"})

Source = Literal["request", "tasks", "path", "body", "field", "dependency"]
_MISSING: Any = inspect.Parameter.empty


@dataclass(frozen=True, slots=True)
class Parameter:
    """One handler parameter and where its value comes from."""

    name: str
    source: Source
    annotation: Any
    adapter: TypeAdapter[Any] | None = None
    default: Any = _MISSING
    many: bool = False  # a list field: every repeated query/form key
    dependency: Dependency | None = None
    signature: HandlerSignature | None = None  # the dependency's own parameters
    windows: WindowPlan | None = None
    """How a long list in a large body is validated in windows (`ravyn._binding.windows`)."""
    finite: bool = False
    """Whether its value may hold a model of the app's own, whose config may let a
    non-finite float in from text (`ravyn._binding.finite`): it is then searched for one."""
    exact: type | None = None
    """`int`, `str` or `bool` when that bare type is the annotation: a value of
    exactly that type is what pydantic would return for it (the same object),
    so it is taken without a call to the adapter (a path value the route's
    `{id:int}` already converted, say)."""

    @property
    def required(self) -> bool:
        """Whether the request must supply this value."""
        return self.default is _MISSING


@dataclass(slots=True)  # not frozen: made for every request, and a frozen one costs twice as much to make
class Inputs:
    """What one request supplies: its path values, query and body.

    `fields`, when set, holds the handler's fields found in a JSON object
    body, already validated in one pass over the raw text (see
    `HandlerSignature.read`); `body` is then None, the body left undecoded.
    """

    path: Mapping[str, Any]
    query: Mapping[str, list[str]]
    body: Any  # decoded JSON, a form mapping (a str or a list of them per key), or None
    body_is_form: bool = False
    fields: Mapping[str, Any] | None = None
    model: Any = None
    """The one body model, validated in one pass over the raw text (see
    `HandlerSignature.json_model`); None when it was not (the body then decoded)."""
    large: bool = False
    """Whether the body is over `LARGE_BODY` bytes: its long lists are then validated in windows."""
    raw: bytes | None = None
    """The body as sent, when it was decoded or read as a form: searched for the text of a
    non-finite float when a model of the app's own took it (`ravyn._binding.finite`)."""


def _validate(
    param: Parameter, raw: Any, loc: tuple[str, ...], values: dict[str, Any], errors: ErrorLog
) -> None:
    """`raw` validated for `param` into `values[param.name]`, or its errors recorded under `loc`."""
    if type(raw) is param.exact:
        values[param.name] = raw
        return
    assert param.adapter is not None
    try:
        values[param.name] = param.adapter.validator.validate_python(raw)
    except pydantic.ValidationError as exc:
        errors.add_pydantic(loc, param.adapter, raw, exc)


Validate = Callable[[Parameter, Any, tuple[str, ...], dict[str, Any], ErrorLog], None]
"""What finds a body or field parameter's value hands it to: `_validate`, or (for a large
body) a collector that validates it later, in windows."""


class HandlerSignature:
    """The compiled parameters of one handler (or dependency).

    Example:
        ```python
        from ravyn.params import read_signature

        def create_user(name: str, age: int = 0) -> dict: ...

        signature = read_signature(create_user, path_params=set())
        assert [p.name for p in signature.parameters] == ["name", "age"]
        ```
    """

    def __init__(self, parameters: list[Parameter], returns: Any = None) -> None:
        self.parameters = parameters
        returned = strip_annotated(returns)
        # a response may carry background tasks (`JSONResponse(..., background=...)`)
        self.returns_response: bool = any(
            isinstance(each, type) and issubclass(each, Response)
            for each in (get_args(returned) if is_union(returned) else (returned,))
        )
        nested = [p.signature for p in parameters if p.signature is not None]
        self.has_dependencies = bool(nested)
        wants_tasks = any(p.source == "tasks" for p in parameters)
        self.wants_tasks: bool = wants_tasks or any(s.wants_tasks for s in nested)
        self.reads_body: bool = any(p.source in ("body", "field") for p in parameters) or any(
            s.reads_body for s in nested
        )
        models = [p for p in parameters if p.source == "body"]
        self.embeds_models = len(models) > 1
        # a Request is built for a handler or dependency that takes one, else only to read a streamed body
        self.needs_request: bool = bool(nested) or any(p.source == "request" for p in parameters)
        # fields read from a JSON body in one validation of its raw text; a body it
        # refuses is read again the usual way, which names what is wrong
        self.json_fields: TypeAdapter[Any] | None = None
        if not nested and not models:
            fields = {p.name: p.annotation for p in parameters if p.source == "field"}
            self.json_fields = fields_adapter(fields)
        # likewise the one model a handler reads the whole body into, when pydantic reads
        # it from JSON text exactly as from decoded JSON (the shortcut's result is the same)
        self.json_model: TypeAdapter[Any] | None = None
        if (
            not nested
            and len(models) == 1
            and not any(p.source == "field" for p in parameters)
            and model_reads_same_from_json_text(strip_annotated(models[0].annotation))
        ):
            self.json_model = models[0].adapter

    def inputs(self) -> list[Parameter]:
        """The parameters read from the request, the dependencies' included (once per name)."""
        found: dict[str, Parameter] = {}
        for param in self.parameters:
            if param.signature is not None:
                for inner in param.signature.inputs():
                    found.setdefault(inner.name, inner)
            elif param.source in ("path", "body", "field"):
                found.setdefault(param.name, param)
        return list(found.values())

    def read(
        self, scope: Scope, receive: Receive, request: Request | None, *, max_body_size: int
    ) -> Coroutine[Any, Any, Inputs]:
        """Read what this handler takes from a request: as `read_inputs`, with
        two shortcuts. No `Request` is needed (pass None when the handler takes
        none): one is built only to read a body sent in several messages or a
        multipart form. And when every field is of a type pydantic reads from
        JSON text as from decoded JSON, a JSON object body is validated in one
        pass (`Inputs.fields`); if that fails, the body is decoded and the
        fields validated one by one, so that errors are exactly those of
        `read_inputs` and `bind`.
        """
        # the coroutine itself, not one awaiting it: one frame less per request
        return _read_inputs(
            scope, receive, request, self.reads_body, max_body_size, self.json_fields, self.json_model
        )

    async def bind(
        self,
        request: Request | None,
        inputs: Inputs,
        tasks: BackgroundTasks | None,
        dependencies: RequestDependencies | None = None,
        errors: ErrorLog | None = None,
    ) -> dict[str, Any]:
        """Return the keyword arguments for the handler, or raise `ValidationError`.

        `request` may be None when no parameter takes it (`needs_request`).
        Given `errors` (a dependency's parameters, bound for its handler), the
        problems are recorded there instead of raised."""
        fields = inputs.fields
        values: dict[str, Any] = {} if fields is None else dict(fields)
        log = ErrorLog() if errors is None else errors
        large = inputs.large
        for param in self.parameters:
            source = param.source
            if large and param.windows is not None:
                await self._bind_in_windows(param, inputs, values, log)
                if param.finite:
                    await _refuse_non_finite(param, inputs, values, log, self._found_at(param))
            elif source == "field":
                if fields is None:
                    _bind_field(param, inputs, values, log)
                    if param.finite and inputs.raw is not None:  # a field of models: `dict[str, Price]`
                        await _refuse_non_finite(param, inputs, values, log, ("body", param.name))
                elif param.name not in fields:  # the body is an object without this key
                    _bind_from_query(param, inputs, values, log, "body")
            elif source == "request":
                values[param.name] = request
            elif source == "tasks":
                values[param.name] = tasks
            elif source == "path":
                _validate(param, inputs.path.get(param.name), ("path", param.name), values, log)
            elif source == "body":
                self._bind_body(param, inputs.body, values, log, inputs.model)
                if param.finite and inputs.raw is not None:
                    await _refuse_non_finite(param, inputs, values, log, self._found_at(param))
            else:
                await _bind_dependency(param, request, inputs, tasks, dependencies, values, log)
        if errors is None and log.counts:  # `log` has errors (its `__bool__`, without the call)
            raise ValidationError(log.shown, total=log.total)
        return values

    def _found_at(self, param: Parameter) -> tuple[str, ...]:
        """Where a body or field parameter's value is in the body: the whole body, or its key."""
        return ("body",) if param.source == "body" and not self.embeds_models else ("body", param.name)

    async def _bind_in_windows(
        self, param: Parameter, inputs: Inputs, values: dict[str, Any], errors: ErrorLog
    ) -> None:
        """A body or field parameter of a large body: found as usual, and a long
        list in it validated in windows (`ravyn._binding.windows`)."""
        found: list[tuple[Any, tuple[str, ...]]] = []

        def hold(param: Parameter, raw: Any, loc: tuple[str, ...], *_: Any) -> None:
            found.append((raw, loc))

        if param.source == "field":
            if inputs.fields is None:
                _bind_field(param, inputs, values, errors, hold)
            elif param.name not in inputs.fields:
                _bind_from_query(param, inputs, values, errors, "body", hold)
        else:
            self._bind_body(param, inputs.body, values, errors, inputs.model, hold)
        assert param.windows is not None
        for raw, loc in found:
            outcome = await param.windows.validate(raw)
            if outcome.count:
                shown = [
                    FieldError((*loc, *each["loc"]), each["type"], each["msg"]) for each in outcome.found
                ]
                errors.add_field(loc, shown, outcome.count)
            else:
                values[param.name] = outcome.value

    def _bind_body(
        self,
        param: Parameter,
        body: Any,
        values: dict[str, Any],
        errors: ErrorLog,
        model: Any = None,
        validate: Validate = _validate,
    ) -> None:
        if self.embeds_models:
            if not isinstance(body, dict):
                if body is not None:
                    errors.add(FieldError(["body"], "dict_type", "Input should be a valid dictionary"))
                    return
                body = {}
            if param.name in body:
                validate(param, body[param.name], ("body", param.name), values, errors)
            elif param.required:
                errors.add(FieldError(["body", param.name], "missing", "Field required"))
            else:
                values[param.name] = param.default
        elif body is not None:
            validate(param, body, ("body",), values, errors)
        elif model is not None:
            values[param.name] = model
        elif param.required:
            errors.add(FieldError(["body"], "missing", "A request body is required"))
        else:
            values[param.name] = param.default


def _bind_field(
    param: Parameter,
    inputs: Inputs,
    values: dict[str, Any],
    errors: ErrorLog,
    validate: Validate = _validate,
) -> None:
    body = inputs.body
    if isinstance(body, dict) and param.name in body:
        raw = body[param.name]
        if inputs.body_is_form and param.many and not isinstance(raw, list):
            raw = [raw]
        validate(param, raw, ("body", param.name), values, errors)
        return
    _bind_from_query(param, inputs, values, errors, "body" if body is not None else "query", validate)


def _bind_from_query(
    param: Parameter,
    inputs: Inputs,
    values: dict[str, Any],
    errors: ErrorLog,
    missing_from: str,
    validate: Validate = _validate,
) -> None:
    """A field the body does not hold: from the query string, else its default."""
    found = inputs.query.get(param.name)
    if found:
        validate(param, found if param.many else found[-1], ("query", param.name), values, errors)
    elif not param.required:
        values[param.name] = param.default
    else:
        errors.add(FieldError([missing_from, param.name], "missing", "Field required"))


async def _bind_dependency(
    param: Parameter,
    request: Request | None,
    inputs: Inputs,
    tasks: BackgroundTasks | None,
    dependencies: RequestDependencies | None,
    values: dict[str, Any],
    errors: ErrorLog,
) -> None:
    assert param.dependency is not None and param.signature is not None and dependencies is not None
    call = param.dependency.dependency
    if param.dependency.use_cache and call in dependencies.results:
        values[param.name] = dependencies.results[call]
        return
    # the same log: a field the handler reads too is counted once
    kwargs = await param.signature.bind(request, inputs, tasks, dependencies, errors)
    if not errors:  # a request already at fault runs no more dependencies
        values[param.name] = await dependencies.call(param.dependency, kwargs)


async def _refuse_non_finite(
    param: Parameter, inputs: Inputs, values: dict[str, Any], errors: ErrorLog, field: tuple[str, ...]
) -> None:
    """A 400 for each float that is not finite in what a model of the app's own read from
    the body (`field`: where the parameter's value was found)."""
    raw = inputs.raw
    if raw is None or param.name not in values or not may_hold_non_finite(raw, form=inputs.body_is_form):
        return
    value = values[param.name]
    found = await non_finite_locs_in_turns(value) if inputs.large else list(non_finite_locs(value))
    if found:
        del values[param.name]
        shown = [FieldError((*field, *loc), "finite_number", NON_FINITE_MSG) for loc in found[:MAX_ERRORS]]
        errors.add_field(field, shown, len(found))


def read_signature(handler: Callable[..., Any], *, path_params: set[str]) -> HandlerSignature:
    """Compile `handler`'s parameters, its dependencies' included.

    Raises `TypeError` naming the handler (and the dependency, if the problem
    is one of a dependency's) for a parameter whose annotation cannot be read
    from a request, `*args` or `**kwargs`, a callable whose parameters Python
    cannot tell (many builtins), and dependencies that depend on themselves.
    """
    return _read_signature(handler, path_params, (handler,))


def _read_signature(
    call: Callable[..., Any], path_params: set[str], chain: tuple[Callable[..., Any], ...]
) -> HandlerSignature:
    """`read_signature` for `call`, reached from the handler through `chain` (which ends with `call`)."""
    try:
        hints = type_hints_of(call)
        specs = parameters_of(call)
    except NameError as exc:
        raise TypeError(f"{_where(chain)}: cannot resolve an annotation: {exc}") from exc
    except TypeError as exc:
        raise TypeError(f"{_where(chain)}: {exc}") from None
    parameters: list[Parameter] = []
    for spec in specs:
        name = spec.name
        if spec.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError(
                f"{_where(chain)}: *{name} parameters are not supported in handlers or dependencies"
            )
        if spec.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise TypeError(
                f"{_where(chain)}: parameter {name!r} is positional-only; values are passed by name"
            )
        annotation = hints.get(name, Any)
        parameters.append(_read_parameter(chain, name, annotation, spec.default, path_params))
    return HandlerSignature(parameters, hints.get("return"))


def _read_parameter(
    chain: tuple[Callable[..., Any], ...], name: str, annotation: Any, default: Any, path_params: set[str]
) -> Parameter:
    dependency = _dependency_of(annotation, default)
    if dependency is not None:
        call = dependency.dependency
        if any(call is earlier for earlier in chain):
            loop = " -> ".join(describe(each) for each in (*chain, call))
            raise TypeError(f"{_where(chain)}: parameter {name!r}: dependency cycle: {loop}")
        if dependency.use_cache:
            try:
                hash(call)  # its result is kept for the request under the callable itself
            except TypeError:
                raise TypeError(
                    f"{_where((*chain, call))}: it is not hashable, and a dependency's result is "
                    "kept for the request under it (a class defining __eq__ sets __hash__ = None): "
                    "give it a __hash__, or pass Depends(..., use_cache=False)"
                ) from None
        signature = _read_signature(call, path_params, (*chain, call))
        return Parameter(name, "dependency", annotation, dependency=dependency, signature=signature)
    bare = strip_annotated(annotation)
    if isinstance(bare, type) and issubclass(bare, Request):
        return Parameter(name, "request", annotation)
    if isinstance(bare, type) and issubclass(bare, BackgroundTask):
        return Parameter(name, "tasks", annotation)
    try:
        adapter = adapter_for(annotation)
    except TypeError as exc:
        raise TypeError(f"{_where(chain)}: parameter {name!r}: {exc}") from None
    if name in path_params:
        return Parameter(name, "path", annotation, adapter, exact=_exact_type(annotation))
    windows = window_plan(annotation, adapter, adapter_for)
    # our adapters refuse non-finite floats themselves (`allow_inf_nan=False`), outside models
    finite = reads_non_finite(adapter.core_schema, by_default=False)
    if is_body_model(bare) or (name in WHOLE_BODY_NAMES and (bare is dict or get_origin(bare) is dict)):
        return Parameter(name, "body", annotation, adapter, default, windows=windows, finite=finite)
    return Parameter(
        name,
        "field",
        annotation,
        adapter,
        default,
        _is_list(bare),
        exact=_exact_type(annotation),
        windows=windows,
        finite=finite,
    )


def _exact_type(annotation: Any) -> type | None:
    # float is not one: the adapter refuses NaN and the infinities (allow_inf_nan=False)
    return annotation if annotation in (int, str, bool) else None


def _where(chain: tuple[Callable[..., Any], ...]) -> str:
    """The handler, or the handler and its dependency: `handler h, dependency a -> b` (h needs a, a b)."""
    if len(chain) == 1:
        return describe(chain[0])
    return f"handler {describe(chain[0])}, dependency {' -> '.join(describe(each) for each in chain[1:])}"


def _dependency_of(annotation: Any, default: Any) -> Dependency | None:
    if isinstance(default, Dependency):
        return default
    if get_origin(annotation) is Annotated:
        for extra in annotation.__metadata__:
            if isinstance(extra, Dependency):
                return extra
    return None


def _is_list(annotation: Any) -> bool:
    """Whether a field takes a list (so repeated query keys are all kept)."""
    annotation = strip_annotated(annotation)
    if annotation is list or get_origin(annotation) is list:
        return True
    if is_union(annotation):
        return any(_is_list(arg) for arg in get_args(annotation) if arg is not type(None))
    return False


JSON_TYPES = ("application/json",)

LARGE_BODY = ONE_PASS_LIMIT
"""A JSON body over this many bytes is read in bounded steps: see `Inputs.large`."""


async def read_inputs(request: Request, *, reads_body: bool, max_body_size: int) -> Inputs:
    """Read the path values, query string and (when needed) the body of a request.

    Raises `RequestError` for a body over `max_body_size` or more than
    `MAX_FIELDS` fields (413), a content type it cannot read (415), malformed
    JSON, a malformed multipart body, text that is not UTF-8 or holds a lone
    surrogate, or an integer over `MAX_INTEGER_DIGITS` digits (400); and
    `ClientDisconnect` when the client leaves before sending the whole body.
    """
    return await _read_inputs(request.scope, request.receive, request, reads_body, max_body_size, None)


async def _read_inputs(
    scope: Scope,
    receive: Receive,
    request: Request | None,
    reads_body: bool,
    max_body_size: int,
    json_fields: TypeAdapter[Any] | None,
    json_model: TypeAdapter[Any] | None = None,
) -> Inputs:
    raw_query = scope.get("query_string", b"")
    query = group(parse_pairs(raw_query, "query")) if raw_query else {}
    path = scope.get("path_params", {})
    if not reads_body or scope["method"] not in BODY_METHODS:
        return Inputs(path, query, None)
    content_type, declared = body_headers(scope.get("headers", ()))
    raw = await read_body(scope, receive, request, max_body_size, declared)
    if not raw:
        return Inputs(path, query, None)
    if content_type != "application/json":  # the usual value is already what parsing would give
        content_type = content_type.split(";", 1)[0].strip().lower()
    if content_type in JSON_TYPES or content_type.endswith("+json"):
        if json_fields is not None:
            fields = validate_fields(json_fields, raw)
            if fields is not None:
                return Inputs(path, query, None, fields=fields)
        elif json_model is not None:
            model = validate_model(json_model, raw)
            if model is not None:
                return Inputs(path, query, None, model=model, raw=raw)
        if len(raw) <= LARGE_BODY:
            return Inputs(path, query, decode_json(raw), raw=raw)
        # decoding a large body holds the loop for a while: one at a time, after the requests
        # waiting meanwhile; its long lists are then validated in windows (`Inputs.large`)
        async with heavy_step():
            body = decode_json(raw)
        return Inputs(path, query, body, large=True, raw=raw)
    if content_type == "application/x-www-form-urlencoded":
        return Inputs(path, query, form_to_mapping(group(parse_pairs(raw, "body"))), True, raw=raw)
    if content_type == "multipart/form-data":
        if request is None:
            request = request_with_body(scope, receive, raw)
        return Inputs(path, query, form_to_mapping(group(await read_multipart(request))), True, raw=raw)
    shown = content_type or "none"
    raise RequestError(
        415,
        f"Unsupported content type {shown!r}: send application/json or form data",
        [FieldError(["header", "content-type"], "unsupported", f"cannot read a body of type {shown!r}")],
    )
