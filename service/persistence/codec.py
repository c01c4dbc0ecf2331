"""JSON encoding of the engine's records (conversations, agents, events, outcomes).

Generic over the dataclasses of `tidal.engine.core.model`: fields are encoded by value and
decoded by their type hints, so fields the engine adds later round-trip untouched.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

import orjson

T = TypeVar("T")


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for a record, with ISO datetimes and sorted sets."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


def _default(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(value: Any) -> str:
    """JSON text of a record (orjson encodes dataclasses, datetimes and enums natively;
    it gives the same result as `to_jsonable`, much faster)."""
    return orjson.dumps(value, default=_default).decode()


@cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_jsonable(tp: Any, value: Any) -> Any:
    """Rebuild a value of type `tp` from `to_jsonable` output."""
    if value is None:
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or origin is types.UnionType:
        candidates = [a for a in args if a is not type(None)]
        return from_jsonable(candidates[0], value) if len(candidates) == 1 else value
    if tp is datetime:
        return datetime.fromisoformat(value)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return decode(tp, value)
    if origin in (frozenset, set):
        return origin(from_jsonable(args[0], v) for v in value)
    if origin is tuple:
        return tuple(from_jsonable(args[0], v) for v in value)
    if origin is list:
        return [from_jsonable(args[0], v) for v in value]
    if origin is dict:
        return {k: from_jsonable(args[1], v) for k, v in value.items()}
    return value


def decode(cls: type[T], data: dict[str, Any]) -> T:
    """A dataclass instance from its `to_jsonable` dict (unknown keys are ignored)."""
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs = {
        f.name: from_jsonable(hints[f.name], data[f.name])
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.name in data
    }
    return cls(**kwargs)


def loads(cls: type[T], text: str) -> T:
    data = orjson.loads(text)
    assert isinstance(data, dict)
    return decode(cls, data)
