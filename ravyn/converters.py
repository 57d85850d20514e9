"""Converting request values to the types a handler's parameters declare.

A converter is built once per parameter, when the route is registered, from
the parameter's annotation. At request time it takes a raw value (text from a
query string or a form, or a decoded JSON value) and returns the converted
value or raises [`ConversionError`][ravyn.converters.ConversionError].
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import math
import types
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

__all__ = ["ConversionError", "Converter", "converter_for", "is_body_model"]


class ConversionError(ValueError):
    """A value that does not fit its declared type.

    `type` is a short machine-readable code (`invalid_type`, `invalid_value`,
    `missing`), `msg` a sentence for people, `loc` the path inside the value
    (for nested objects and lists).
    """

    def __init__(self, type_: str, msg: str, loc: Sequence[str | int] = ()) -> None:
        super().__init__(msg)
        self.type = type_
        self.msg = msg
        self.loc = tuple(loc)

    def nested(self, key: str | int) -> ConversionError:
        """The same error, one level deeper at `key`."""
        return ConversionError(self.type, self.msg, (key, *self.loc))


Converter = Callable[[Any, bool], Any]
"""`convert(value, from_text)`: `from_text` is true for query and form values,
which arrive as strings and may be coerced (`"5"` to `5`)."""

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _type_error(expected: str, value: Any) -> ConversionError:
    return ConversionError("invalid_type", f"expected {expected}, got {_describe(value)}")


def _identity(value: Any, from_text: bool) -> Any:
    return value


def _to_str(value: Any, from_text: bool) -> str:
    if isinstance(value, str):
        return value
    raise _type_error("a string", value)


def _to_int(value: Any, from_text: bool) -> int:
    if isinstance(value, bool):
        raise _type_error("an integer", value)
    if isinstance(value, int):
        return value
    if from_text and isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            # also covers CPython's limit on very long digit strings
            raise _type_error("an integer", value) from None
    raise _type_error("an integer", value)


def _to_float(value: Any, from_text: bool) -> float:
    if isinstance(value, bool):
        raise _type_error("a number", value)
    if isinstance(value, (int, float)):
        try:
            result = float(value)
        except OverflowError:
            raise ConversionError("invalid_value", "number is too large") from None
    elif from_text and isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            raise _type_error("a number", value) from None
    else:
        raise _type_error("a number", value)
    if not math.isfinite(result):
        raise ConversionError("invalid_value", "expected a finite number")
    return result


def _to_bool(value: Any, from_text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_text and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise _type_error("true or false", value)


def _parsed(kind: str, parse: Callable[[str], Any]) -> Converter:
    def convert(value: Any, from_text: bool) -> Any:
        if not isinstance(value, str):
            raise _type_error(kind, value)
        try:
            return parse(value)
        except (ValueError, decimal.InvalidOperation):
            raise _type_error(kind, value) from None

    return convert


_SCALARS: dict[Any, Converter] = {
    str: _to_str,
    int: _to_int,
    float: _to_float,
    bool: _to_bool,
    uuid.UUID: _parsed("a UUID", uuid.UUID),
    datetime.datetime: _parsed("an ISO 8601 date-time", datetime.datetime.fromisoformat),
    datetime.date: _parsed("an ISO 8601 date", datetime.date.fromisoformat),
    decimal.Decimal: _parsed("a decimal number", decimal.Decimal),
}


def _optional(inner: Converter) -> Converter:
    def convert(value: Any, from_text: bool) -> Any:
        if value is None:
            return None
        return inner(value, from_text)

    return convert


def _union(options: list[Converter], names: str) -> Converter:
    def convert(value: Any, from_text: bool) -> Any:
        for option in options:
            try:
                return option(value, from_text)
            except ConversionError:
                continue
        raise _type_error(names, value)

    return convert


def _literal(choices: tuple[Any, ...]) -> Converter:
    allowed = ", ".join(repr(choice) for choice in choices)

    def convert(value: Any, from_text: bool) -> Any:
        for choice in choices:
            if value == choice and type(value) is type(choice):
                return choice
            if from_text and isinstance(value, str) and str(choice) == value:
                return choice
        raise ConversionError("invalid_value", f"expected one of {allowed}, got {_describe(value)}")

    return convert


def _enum(cls: type[enum.Enum]) -> Converter:
    allowed = ", ".join(repr(member.value) for member in cls)

    def convert(value: Any, from_text: bool) -> Any:
        for member in cls:
            if value == member.value or (from_text and str(member.value) == value):
                return member
        raise ConversionError("invalid_value", f"expected one of {allowed}, got {_describe(value)}")

    return convert


def _list(item: Converter) -> Converter:
    def convert(value: Any, from_text: bool) -> list[Any]:
        if not isinstance(value, list):
            raise _type_error("a list", value)
        result = []
        for index, element in enumerate(value):
            try:
                result.append(item(element, from_text))
            except ConversionError as exc:
                raise exc.nested(index) from None
        return result

    return convert


def _dict(value_converter: Converter) -> Converter:
    def convert(value: Any, from_text: bool) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _type_error("an object", value)
        result = {}
        for key, element in value.items():
            try:
                result[key] = value_converter(element, from_text)
            except ConversionError as exc:
                raise exc.nested(key) from None
        return result

    return convert


def _fields(hints: Mapping[str, Any], required: set[str], build: Callable[..., Any]) -> Converter:
    converters = {name: converter_for(hint) for name, hint in hints.items()}

    def convert(value: Any, from_text: bool) -> Any:
        if not isinstance(value, dict):
            raise _type_error("an object", value)
        kwargs = {}
        for name, field_converter in converters.items():
            if name not in value:
                if name in required:
                    raise ConversionError("missing", "field required", (name,))
                continue
            try:
                kwargs[name] = field_converter(value[name], from_text)
            except ConversionError as exc:
                raise exc.nested(name) from None
        return build(**kwargs)

    return convert


def _dataclass(cls: type[Any]) -> Converter:
    hints = get_type_hints(cls)
    fields = [field for field in dataclasses.fields(cls) if field.init]
    required = {
        field.name
        for field in fields
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
    }
    return _fields({field.name: hints[field.name] for field in fields}, required, cls)


def _typeddict(cls: type[Any]) -> Converter:
    hints = get_type_hints(cls)
    return _fields(hints, set(getattr(cls, "__required_keys__", hints)), dict)


def is_body_model(annotation: Any) -> bool:
    """Whether `annotation` describes a whole JSON object: a dataclass, a
    `TypedDict` or a `dict`."""
    return (
        (isinstance(annotation, type) and dataclasses.is_dataclass(annotation))
        or is_typeddict(annotation)
        or annotation is dict
        or get_origin(annotation) is dict
    )


def converter_for(annotation: Any) -> Converter:
    """Build the converter for a parameter annotation.

    Raises `TypeError` for an annotation it cannot read from a request, so the
    mistake shows at registration, not at the first request.

    Example:
        ```python
        from ravyn.converters import converter_for

        assert converter_for(int)("5", True) == 5
        assert converter_for(list[int])([1, 2], False) == [1, 2]
        ```
    """
    if annotation is Any or annotation is object:
        return _identity
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Union or origin is types.UnionType:
        options = [arg for arg in args if arg is not type(None)]
        inner = (
            converter_for(options[0])
            if len(options) == 1
            else _union([converter_for(arg) for arg in options], " or ".join(map(_name, options)))
        )
        return _optional(inner) if len(options) < len(args) else inner
    if origin is Literal:
        return _literal(args)
    if annotation is list or origin in (list, Sequence):
        return _list(converter_for(args[0]) if args else _identity)
    if annotation is dict or origin is dict:
        return _dict(converter_for(args[1]) if len(args) == 2 else _identity)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum(annotation)
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return _dataclass(annotation)
    if is_typeddict(annotation):
        return _typeddict(annotation)
    raise TypeError(f"cannot read a value of type {_name(annotation)} from a request")


def _name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)
