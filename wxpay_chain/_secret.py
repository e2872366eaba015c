"""Keys held as text or bytes that say nothing of themselves in a repr.

A traceback recorded with its local variables (an error tracker's default, ``capture_locals=True``) shows
each local's repr; so does a debugger. The APIv3 and APIv2 keys the client keeps are these types, so such
a record of a failed notification check shows ``<secret>`` where the key would be. They are ``str`` and
``bytes`` in every other respect.
"""

from __future__ import annotations

__all__ = ["SecretBytes", "SecretText", "masked"]


class SecretText(str):
    __slots__ = ()

    def __repr__(self) -> str:
        return "'<secret>'"


class SecretBytes(bytes):
    __slots__ = ()

    def __repr__(self) -> str:
        return "b'<secret>'"


def masked(value: str | bytes) -> SecretText | SecretBytes:
    if isinstance(value, (SecretText, SecretBytes)):  # the client's own key, masked when it was built
        return value
    return SecretBytes(value) if isinstance(value, bytes) else SecretText(value)
