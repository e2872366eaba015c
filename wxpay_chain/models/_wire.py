"""Request models as the plain JSON values the client sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .._converter import unstructure

__all__ = ["request_to_wire"]


def request_to_wire(obj: object) -> dict[str, Any]:
    """A request model instance (or a dict) as a plain dict without None fields, enums as values."""
    if isinstance(obj, Mapping):
        return {str(k): unstructure(v) for k, v in obj.items() if v is not None}
    if not attrs.has(type(obj)):
        raise TypeError(f"expected a request model or a dict, got {type(obj).__name__}")
    wire: dict[str, Any] = unstructure(obj)
    return wire
