"""EndpointSpec: what the SDK knows about one endpoint (its models and how it pages), the value the
registry holds and the validator reads."""

from __future__ import annotations

from typing import Literal

import attrs

from .._uri import placeholders

__all__ = ["EndpointSpec"]


def _template_params(template: str) -> tuple[str, ...]:
    return placeholders(template)  # the one placeholder parser, the client's


def _strip_slash(template: str) -> str:
    return template.lstrip("/")


def _upper(method: str) -> str:
    return method.upper()


@attrs.frozen(cache_hash=True)
class EndpointSpec:
    """What the SDK knows about one endpoint: its request and response models and how it pages."""

    method: str = attrs.field(converter=_upper)
    template: str = attrs.field(converter=_strip_slash)
    query: type | None = None
    body: type | None = None
    response: type | None = None
    paging: Literal["offset", "token"] | None = None
    items_field: str | None = None
    path_params: tuple[str, ...] = attrs.field(
        default=attrs.Factory(lambda self: _template_params(self.template), takes_self=True),
        converter=tuple,
    )

    def __attrs_post_init__(self) -> None:
        if set(self.path_params) != set(_template_params(self.template)):
            raise ValueError(f"path_params {self.path_params!r} do not match the placeholders of {self.template!r}")
        if (self.paging is None) != (self.items_field is None):
            raise ValueError("paging and items_field go together: set both or neither")
