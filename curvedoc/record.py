"""Frozen data records with pydantic's interface, made without importing pydantic.

The report models (:mod:`curvedoc.model`) and every detector's ``Params`` are built on every
run, and importing pydantic and building its validators for two dozen classes cost more start-up
than reading and diagnosing a 20-epoch log (issue 6 measures start-up against ``import numpy``).
So they are plain frozen :mod:`dataclasses` that keep the pydantic methods the code and users
call — ``model_dump``, ``model_dump_json``, ``model_validate``, ``model_validate_json``,
``model_copy``, ``model_json_schema``, ``model_fields``:

* dumping is done here, in a few lines of Python (non-finite floats become ``null`` in JSON, as
  pydantic writes them), so a diagnosis never loads pydantic;
* validating a report read back from JSON (``--baseline``, ``curvedoc report``) and the JSON
  Schema (``curvedoc schema``) go to pydantic, imported then, which understands these dataclasses
  natively: the contract stays pydantic's, with unknown keys rejected (``extra="forbid"``);
* detector parameters, validated on every run, have their own small validator
  (:meth:`Record.validate_fields`): numbers and bounds only, with pydantic's wording.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

if TYPE_CHECKING:
    from pydantic import TypeAdapter
    from typing_extensions import dataclass_transform
else:  # typing has it from Python 3.11; only type checkers read it

    def dataclass_transform(**_: Any) -> Any:
        return lambda cls: cls


R = TypeVar("R", bound="Record")

_BOUNDS = ("gt", "ge", "lt", "le")


def Field(
    *,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
    description: str | None = None,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> Any:
    """A record field: a default, a description for the JSON Schema, numeric bounds."""
    meta = {
        k: v
        for k, v in (("description", description), ("gt", gt), ("ge", ge), ("lt", lt), ("le", le))
        if v is not None
    }
    return dataclasses.field(default=default, default_factory=default_factory, metadata=meta)


class FieldError(ValueError):
    """A field that does not validate: ``loc`` names it, ``msg`` says why (pydantic's words)."""

    def __init__(self, loc: str, msg: str) -> None:
        super().__init__(f"{loc}: {msg}")
        self.loc = loc
        self.msg = msg


@dataclass_transform(
    frozen_default=True, kw_only_default=True, field_specifiers=(Field, dataclasses.field)
)
class Record:
    """Base of a frozen record; every subclass is made a frozen, keyword-only dataclass on
    definition (so a field without a default may follow one with a default, as in pydantic)."""

    #: read by pydantic when it validates a subclass: unknown keys are an error
    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}
    model_fields: ClassVar[dict[str, dataclasses.Field[Any]]]
    _list_fields: ClassVar[tuple[str, ...]]
    _compared: ClassVar[tuple[str, ...]]
    _shown: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("__doc__") is None:
            # dataclasses would build one from inspect.signature (a cost on every start-up)
            cls.__doc__ = f"{cls.__qualname__}: a frozen record."
        # __repr__, __eq__ and __hash__ are the base's, written once below: dataclasses would
        # generate and compile them for every record class, a tenth of the start-up's own cost.
        dataclasses.dataclass(frozen=True, kw_only=True, repr=False, eq=False)(cls)
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        cls.model_fields = {f.name: f for f in fields}
        cls._list_fields = tuple(f.name for f in fields if str(f.type).startswith("list["))
        cls._compared = tuple(f.name for f in fields if f.compare)
        cls._shown = tuple(f.name for f in fields if f.repr)

    # What dataclasses would generate for a frozen record with eq=True (the same semantics).
    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._compared)

    def __post_init__(self) -> None:
        # pydantic made lists of the tuples it was given; so do we (equality with lists holds)
        for name in self._list_fields:
            value = getattr(self, name)
            if isinstance(value, tuple):
                object.__setattr__(self, name, list(value))

    # -- pydantic's interface ------------------------------------------------------------------
    def model_dump(self, *, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
        """The record as plain dicts and lists; ``mode="json"`` writes non-finite floats as
        None."""
        return {name: _dump(getattr(self, name), mode) for name in self.model_fields}

    def model_dump_json(self, *, indent: int | None = None) -> str:
        """Strict RFC 8259 JSON (UTF-8 text as is, NaN and infinities as ``null``)."""
        return json.dumps(
            self.model_dump(mode="json"),
            indent=indent,
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":") if indent is None else (",", ": "),
        )

    def model_copy(self: R, *, update: Mapping[str, Any] | None = None) -> R:
        return dataclasses.replace(self, **dict(update or {}))  # type: ignore[type-var]

    @classmethod
    def model_validate(cls: type[R], obj: Any) -> R:
        """``obj`` (a dict, as read from JSON) checked and converted by pydantic; raises
        ``pydantic.ValidationError``."""
        if isinstance(obj, cls):
            return obj
        return _adapter(cls).validate_python(obj)  # type: ignore[no-any-return,arg-type]

    @classmethod
    def model_validate_json(cls: type[R], data: str | bytes) -> R:
        return _adapter(cls).validate_json(data)  # type: ignore[no-any-return,arg-type]

    @classmethod
    def model_json_schema(cls) -> dict[str, Any]:
        """pydantic's JSON Schema of the record, with the field descriptions given to
        :func:`Field` and the class docstrings."""
        schema: dict[str, Any] = _adapter(cls).json_schema()  # type: ignore[arg-type]
        _describe(schema, cls)
        for sub in _records_in(cls):
            target = schema.get("$defs", {}).get(sub.__name__)
            if target is not None:
                _describe(target, sub)
        return schema

    # -- fast validation of flat records (detector parameters) ---------------------------------
    @classmethod
    def validate_fields(cls: type[R], data: Mapping[str, Any]) -> R:
        """A flat record of numbers, strings and booleans from ``data``, checked field by field
        (types, ``gt``/``ge``/``lt``/``le`` bounds, no unknown or missing keys); raises
        :class:`FieldError` for the first problem. Lax like pydantic: an int is a float, a
        numeric string is a number, a whole float is an int."""
        for key in data:
            if key not in cls.model_fields:
                raise FieldError(str(key), "Extra inputs are not permitted")
        values: dict[str, Any] = {}
        for name, f in cls.model_fields.items():
            if name not in data:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    raise FieldError(name, "Field required")
                continue
            value = _convert(name, str(f.type), data[name])
            _check_bounds(name, value, f.metadata)
            values[name] = value
        return cls(**values)


def _dump(value: Any, mode: str) -> Any:
    if isinstance(value, Record):
        return value.model_dump(mode=mode)  # type: ignore[arg-type]
    if isinstance(value, list | tuple):
        return [_dump(v, mode) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v, mode) for k, v in value.items()}
    if mode == "json" and isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@cache
def _adapter(cls: type[Record]) -> TypeAdapter[Any]:
    from pydantic import TypeAdapter

    return TypeAdapter(cls)


def _records_in(cls: type[Record]) -> list[type[Record]]:
    """Every record class reachable from ``cls``'s fields (for the schema's ``$defs``)."""
    import typing

    seen: list[type[Record]] = []

    def walk(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, Record):
            if tp not in seen:
                seen.append(tp)
                for hint in typing.get_type_hints(tp).values():
                    walk(hint)
            return
        for arg in typing.get_args(tp):
            walk(arg)

    for hint in typing.get_type_hints(cls).values():
        walk(hint)
    return seen


def _describe(schema: dict[str, Any], cls: type[Record]) -> None:
    doc = (cls.__doc__ or "").strip()
    if doc:
        schema["description"] = doc
    props = schema.get("properties", {})
    for name, f in cls.model_fields.items():
        text = f.metadata.get("description")
        if text and name in props:
            props[name]["description"] = text


def _convert(name: str, annotation: str, value: Any) -> Any:
    kind = annotation.replace(" ", "")
    if kind == "float":
        if isinstance(value, bool):
            raise FieldError(name, "Input should be a valid number")
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise FieldError(name, "Input should be a valid number, unable to parse string as a number")
    if kind == "int":
        if isinstance(value, bool):
            raise FieldError(name, "Input should be a valid integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, float):
            raise FieldError(
                name, "Input should be a valid integer, got a number with a fractional part"
            )
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise FieldError(name, "Input should be a valid integer, unable to parse string")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise FieldError(name, "Input should be a valid boolean")
    if kind == "str":
        if isinstance(value, str):
            return value
        raise FieldError(name, "Input should be a valid string")
    raise FieldError(name, f"unsupported field type {annotation!r}")  # a bug in a Params class


def _check_bounds(name: str, value: Any, meta: Mapping[str, Any]) -> None:
    if not isinstance(value, int | float):
        return
    words = {
        "gt": "greater than",
        "ge": "greater than or equal to",
        "lt": "less than",
        "le": "less than or equal to",
    }
    for key in _BOUNDS:
        bound = meta.get(key)
        if bound is None:
            continue
        ok = {
            "gt": value > bound,
            "ge": value >= bound,
            "lt": value < bound,
            "le": value <= bound,
        }[key]
        if not ok:
            raise FieldError(name, f"Input should be {words[key]} {bound}")
