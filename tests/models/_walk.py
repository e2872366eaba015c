"""Walk attrs models by their resolved field types: reachable fields, populated fields, enum fields."""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Iterator
from typing import Any

import attrs

Field = tuple[str, str]  # (class name, field name)


def hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def unwrap(tp: Any) -> list[Any]:
    """The concrete types inside Optional/Union/list annotations."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [inner for arg in typing.get_args(tp) if arg is not type(None) for inner in unwrap(arg)]
    if typing.get_origin(tp) is list:
        return unwrap(typing.get_args(tp)[0])
    return [tp]


def model_classes(root: type) -> set[type]:
    """``root`` and every attrs class reachable through its fields."""
    seen: set[type] = set()
    todo = [root]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        for tp in hints(cls).values():
            todo.extend(t for t in unwrap(tp) if attrs.has(t))
    return seen


def all_fields(classes: set[type]) -> set[Field]:
    return {(cls.__name__, f.name) for cls in classes for f in attrs.fields(cls)}


def populated(obj: object) -> set[Field]:
    """Every (class, field) holding a non-None value somewhere inside ``obj``."""
    out: set[Field] = set()
    if isinstance(obj, list):
        for item in obj:
            out |= populated(item)
    elif attrs.has(type(obj)):
        for f in attrs.fields(type(obj)):
            value = getattr(obj, f.name)
            if value is not None:
                out.add((type(obj).__name__, f.name))
                out |= populated(value)
    return out


def open_enum_paths(cls: type, doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], type]]:
    """JSON paths in ``doc`` whose model field is ``SomeEnum | str`` (or ``| int``), with the base type."""
    if not isinstance(doc, dict):
        return
    types_ = hints(cls)
    for name, value in doc.items():
        if name not in types_ or value is None:
            continue
        parts = unwrap(types_[name])
        enums = [t for t in parts if isinstance(t, type) and issubclass(t, enum.Enum)]
        nested = [t for t in parts if attrs.has(t)]
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            where = (*path, name) if index is None else (*path, name, index)
            if enums and (str in parts or int in parts):
                yield where, (int if int in parts else str)
            elif nested:
                yield from open_enum_paths(nested[0], item, where)


def get_in(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def set_in(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    get_in(doc, path[:-1])[path[-1]] = value


def json_path(path: tuple[Any, ...]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def assert_plain_json(value: object) -> None:
    """Only the exact JSON types: no enum members (str subclasses), no datetimes, no tuples."""
    if isinstance(value, dict):
        assert type(value) is dict
        for key, item in value.items():
            assert type(key) is str
            assert_plain_json(item)
    elif isinstance(value, list):
        assert type(value) is list
        for item in value:
            assert_plain_json(item)
    else:
        assert type(value) in (str, int, bool, float), repr(value)
