"""Files written whole and renamed into place (a downloaded bill, the CLI's certificates): the permissions
a user expects from ``open(path, "w")`` or ``curl -o``, not the 0600 of a :func:`tempfile.mkstemp` file."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

__all__ = ["keep_mode", "replace_whole", "temporary_beside"]

_NAME_MAX = 255
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def keep_mode(path: Path, temporary: str | os.PathLike[str]) -> None:
    """Give ``temporary`` the permission bits of the regular file at ``path``, if there is one: replacing a
    file keeps its mode, as writing over it would (a bill made private stays private)."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    if stat.S_ISREG(mode):
        os.chmod(temporary, stat.S_IMODE(mode) & 0o777)


def temporary_beside(path: Path) -> tuple[int, str]:
    """A new file (descriptor, name) in ``path``'s folder, to be renamed onto ``path``: created 0666, so the
    process umask and any default ACL apply (reading the umask would change it, for every thread), then
    given the mode of the file it replaces."""
    base = path.name
    # A name is at most 255 bytes on most file systems: a long one leaves room for the 15 added here.
    while len(os.fsencode(base)) > _NAME_MAX - 15 and len(base) > 1:
        base = base[:-1]
    for _ in range(100):
        name = str(path.with_name(f".{base}.{secrets.token_hex(4)}.part"))
        try:
            handle = os.open(name, _FLAGS, 0o666)
        except FileExistsError:
            continue
        try:
            keep_mode(path, name)
        except BaseException:
            os.close(handle)
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise
        return handle, name
    raise FileExistsError(17, "no free temporary name beside the file", str(path))


def replace_whole(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` whole or not at all: a new file beside it, renamed over it. ``mode``: these
    permission bits (0o600 for a secret, set before anything is written), else the umask's or the replaced
    file's."""
    handle, temporary = temporary_beside(path)
    try:
        if mode is not None:
            os.chmod(temporary, mode)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
