"""The first segments of WeChat Pay paths: what ``client.<name>`` may start a chain with.

An attribute chain starts at a known root, so that a misspelled method (``client.handle_notifcation``)
is an AttributeError, not a request to the path ``handle_notifcation``. ``client.chain("...")`` and
``client["..."]`` take any path.

* ``v3`` — APIv3, nearly every endpoint (the 1,017 ``v3/...`` entries of WeChat Pay's API index);
* ``v2`` — APIv2 (XML), written ``v2/...`` as the PHP and Node SDKs do (126 entries of the index);
* ``brand`` — the brand API (``brand/marketing/...``), signed with the brand scheme;
* ``hk`` — cross-border payments through the mainland entry point (``hk/v3/...``).
"""

from __future__ import annotations

__all__ = ["ROOTS", "body_option", "is_v2", "unknown_root"]

ROOTS: frozenset[str] = frozenset({"v2", "v3", "brand", "hk"})


def is_v2(template: str) -> bool:
    """Whether a path is an APIv2 (XML) one: the PHP SDK's rule, ``v2/...`` chains are APIv2 calls."""
    return template == "v2" or template.startswith("v2/")


def body_option(template: str) -> str:
    """The option a call's body goes in: ``xml`` for APIv2, ``json`` for the rest."""
    return "xml" if is_v2(template) else "json"


def unknown_root(client: object, name: str) -> AttributeError:
    """The error for ``client.<name>`` when ``name`` is neither a method nor one of :data:`ROOTS`.

    ``name`` and ``obj`` let Python add its "Did you mean ...?" for a misspelled method."""
    roots = ", ".join(sorted(ROOTS))
    return AttributeError(
        f"{type(client).__name__!r} object has no attribute {name!r}; attribute chains start at {roots}: "
        f'for another path use client.chain("{name}/...") or client["{name}/..."]',
        name=name,
        obj=client,
    )
