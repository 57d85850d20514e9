"""Turning a parameter's annotation into a pydantic `TypeAdapter`, once, at registration.

Pydantic validates and converts every request value. What is left here is
what pydantic does not do the way a web API needs:

* an `Enum` of numbers takes `1` but not JSON `true` or `1.0` (pydantic,
  even in strict mode, lets `true == 1` and `1.0 == 1` through), and from a
  query string the text `"1"` finds the member whose value is `1`;
* floats are finite (`allow_inf_nan=False`), so `nan` and `1e999` are 400s;
* on Python 3.11, pydantic reads only `typing_extensions.TypedDict`: a
  `typing.TypedDict` is rebuilt as one, with the same keys;
* an annotation pydantic cannot build a schema for, or a forward reference
  it cannot resolve, is a `TypeError` naming the type at registration, not a
  500 at the first request.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

import typing_extensions
from pydantic import BaseModel, BeforeValidator, ConfigDict, PydanticUserError, TypeAdapter
from pydantic_core import PydanticCustomError

__all__ = ["adapter_for", "fields_adapter", "is_body_model", "is_union", "strip_annotated"]

_CONFIG = ConfigDict(allow_inf_nan=False)

# Types pydantic reads from JSON text exactly as from what `json` decodes that
# text to: the same values accepted, converted to the same values (checked by
# tests/test_params.py for random bodies). Others (enums, our before-validators,
# unions of several types, containers, models in strict mode) are left out.
_SAME_FROM_JSON_TEXT = (str, int, float, bool)


def adapter_for(annotation: Any) -> TypeAdapter[Any]:
    """The `TypeAdapter` that validates request values for `annotation`.

    Raises `TypeError` for an annotation that cannot be read from a request.

    Example:
        ```python
        from ravyn.converters import adapter_for

        assert adapter_for(int).validate_python("5") == 5
        assert adapter_for(list[int]).validate_python(["1", 2]) == [1, 2]
        ```
    """
    annotation = _prepare(annotation)
    try:
        try:
            adapter: TypeAdapter[Any] = TypeAdapter(annotation, config=_CONFIG)
        except PydanticUserError as exc:
            if exc.code != "type-adapter-config-unused":
                raise
            adapter = TypeAdapter(annotation)  # models carry their own config
        if not adapter.pydantic_complete:
            adapter.rebuild(raise_errors=True)
    except (PydanticUserError, NameError, RecursionError) as exc:
        raise TypeError(f"cannot read a value of type {_name(annotation)} from a request ({exc})") from None
    except Exception as exc:  # pydantic's schema errors have no common base class
        raise TypeError(f"cannot read a value of type {_name(annotation)} from a request ({exc})") from None
    return adapter


def fields_adapter(annotations: dict[str, Any]) -> TypeAdapter[Any] | None:
    """One `TypeAdapter` that validates a JSON object's keys named in
    `annotations` straight from the raw JSON text, or None when one of the
    annotations might read differently from text than from decoded JSON.

    Only `str`, `int`, `float`, `bool` and each of those `| None` qualify.
    Keys are optional (absent ones are left out of the result) and other keys
    are ignored, so that a missing field can still be looked for elsewhere.

    Example:
        ```python
        from ravyn.converters import fields_adapter

        adapter = fields_adapter({"name": str, "age": int})
        assert adapter is not None
        assert adapter.validate_json(b'{"name": "Ada", "age": "36", "x": 1}') == {"name": "Ada", "age": 36}
        assert fields_adapter({"tags": list[str]}) is None
        ```
    """
    if not annotations or not all(_same_from_json_text(hint) for hint in annotations.values()):
        return None
    make: Any = typing_extensions.TypedDict  # called with keys known only here
    try:
        fields = make("Fields", annotations, total=False)
        fields.__pydantic_config__ = _CONFIG
        return TypeAdapter(fields)
    except Exception:  # a shortcut only: the fields are still read one by one
        return None


def _same_from_json_text(annotation: Any) -> bool:
    if any(annotation is simple for simple in _SAME_FROM_JSON_TEXT):
        return True
    if is_union(annotation):
        args = get_args(annotation)
        if len(args) == 2 and type(None) in args:
            other = args[0] if args[1] is type(None) else args[1]
            return any(other is simple for simple in _SAME_FROM_JSON_TEXT)
    return False


def model_reads_same_from_json_text(annotation: Any) -> bool:
    """Whether pydantic validates a JSON body for `annotation` from its raw text
    exactly as from the decoded JSON: a pydantic model (not strict) whose fields
    are `str`, `int`, `float`, `bool`, each `| None`, lists of those, or such
    models. A `Decimal`, `bytes` or date field would read differently.

    Example:
        ```python
        from pydantic import BaseModel

        from ravyn.converters import model_reads_same_from_json_text

        class Signup(BaseModel):
            name: str
            tags: list[str] = []

        assert model_reads_same_from_json_text(Signup)
        ```
    """
    return _model_same(annotation, depth=0)


def _model_same(annotation: Any, depth: int) -> bool:
    if depth > 8 or not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return False
    if annotation.model_config.get("strict"):
        return False
    for field in annotation.model_fields.values():
        if any(getattr(item, "strict", None) for item in field.metadata):
            return False
        if not _value_same(field.annotation, depth):
            return False
    return True


def _value_same(annotation: Any, depth: int) -> bool:
    annotation = strip_annotated(annotation)
    if _same_from_json_text(annotation):
        return True
    if get_origin(annotation) is list:
        args = get_args(annotation)
        return len(args) == 1 and _value_same(args[0], depth + 1)
    if is_union(annotation):
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        return len(options) == 1 and _value_same(options[0], depth + 1)
    return _model_same(annotation, depth + 1)


def is_body_model(annotation: Any) -> bool:
    """Whether `annotation` describes a JSON object read as a whole: a pydantic
    model, a dataclass, a `TypedDict`, or a list or optional of those."""
    annotation = strip_annotated(annotation)
    origin = get_origin(annotation)
    if is_union(annotation):
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        return len(options) == 1 and is_body_model(options[0])
    if origin is list:
        args = get_args(annotation)
        return bool(args) and is_body_model(args[0])
    return (
        (isinstance(annotation, type) and issubclass(annotation, BaseModel))
        or (isinstance(annotation, type) and dataclasses.is_dataclass(annotation))
        or is_typeddict(annotation)
    )


def strip_annotated(annotation: Any) -> Any:
    """`annotation` without its `Annotated[...]` wrappers: `Annotated[int, Field(ge=1)]` gives `int`."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def is_union(annotation: Any) -> bool:
    """Whether `annotation` is a union, written `Union[A, B]`, `Optional[A]` or `A | B`."""
    return get_origin(annotation) in (Union, types.UnionType)


def _prepare(annotation: Any) -> Any:
    """`annotation` with every Enum in it (inside Optional, unions, lists, dicts,
    Annotated) checked by `_exact_member` before pydantic sees the value, and
    (on 3.11) every `typing.TypedDict` rebuilt for pydantic."""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return Annotated[annotation, BeforeValidator(_exact_member(annotation))]
    if sys.version_info < (3, 12) and is_typeddict(annotation) and type(annotation).__module__ == "typing":
        return _rebuilt_typeddict(annotation)
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Literal and not all(isinstance(arg, str) for arg in args):
        return Annotated[annotation, BeforeValidator(_literal_from_text(args))]
    if origin is Annotated:
        return Annotated[(_prepare(args[0]), *annotation.__metadata__)]
    if is_union(annotation):
        return Union[tuple(_prepare(arg) for arg in args)]  # noqa: UP007
    if origin in (list, set, frozenset, tuple, dict) and args:
        return origin[tuple(_prepare(arg) for arg in args)]
    return annotation


_REBUILT: dict[Any, Any] = {}


def _rebuilt_typeddict(cls: Any) -> Any:
    if cls not in _REBUILT:
        _REBUILT[cls] = cls  # a TypedDict that refers to itself stays as it is there
        required: frozenset[str] = getattr(cls, "__required_keys__", frozenset())
        fields = {
            key: (typing_extensions.Required if key in required else typing_extensions.NotRequired)[
                _prepare(hint)
            ]
            for key, hint in get_type_hints(cls, include_extras=True).items()
        }
        make: Any = typing_extensions.TypedDict  # called with a name known only here
        rebuilt = make(cls.__name__, fields)
        rebuilt.__module__ = cls.__module__
        _REBUILT[cls] = rebuilt
    return _REBUILT[cls]


def _literal_from_text(choices: tuple[Any, ...]) -> Any:
    by_text = {str(choice): choice for choice in choices if not isinstance(choice, str)}

    def from_text(value: Any) -> Any:
        if isinstance(value, str) and value not in choices:
            return by_text.get(value, value)
        return value

    return from_text


def _exact_member(cls: type[enum.Enum]) -> Any:
    by_text = {str(member.value): member for member in cls}
    allowed = ", ".join(repr(member.value) for member in cls)
    floats = any(type(member.value) is float for member in cls)

    def check(value: Any) -> Any:
        if isinstance(value, cls):
            return value
        # pydantic finds the member valued 1 for `true` and `1.0`: here the type is part of the value
        if isinstance(value, bool) or (isinstance(value, float) and not floats):
            raise PydanticCustomError("enum", "Input should be one of {allowed}", {"allowed": allowed})
        if isinstance(value, str) and value in by_text:
            return by_text[value]
        return value

    return check


def _name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)
