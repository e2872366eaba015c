"""A state dir's coupons: the SQLite file, filling a new one, and the JSON snapshots of earlier versions.

``sandbox-state.sqlite3`` (WAL mode) sits beside the keys and ``config.json``. A state dir written by an
earlier version holds ``sandbox-state.json`` instead: it is migrated once, on the first open, and renamed
``sandbox-state.json.migrated`` so nothing reads it again.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cattrs
import cattrs.errors

from .._errors import not_json
from ._records import BusifavorCoupon, Document, FavorCoupon, IssuedCoupon, ProductCoupon, Stock
from ._store import SCHEMA_VERSION, Store
from ._v2_ledger import restore_rows, snapshot_rows

if TYPE_CHECKING:
    from ._state import SandboxState

STATE_DB = "sandbox-state.sqlite3"
LEGACY_STATE_FILE = "sandbox-state.json"

_log = logging.getLogger("wxpay_chain.sandbox")
_converter = cattrs.Converter()


class StateFileError(ValueError):
    """A file in a state dir (keys, a legacy snapshot) that cannot be read back: the message names it and
    says what to do. A ValueError, as the decoding errors it replaces were; ``path`` is the file."""

    def __init__(self, path: Path, problem: str, remedy: str) -> None:
        super().__init__(f"{path} {problem}: {remedy}")
        self.path = path


def unreadable(error: Exception) -> str:
    """What is wrong with a file's contents, in a few words (a decoding error's text names no file)."""
    if isinstance(error, json.JSONDecodeError):
        return not_json(error)
    if isinstance(error, UnicodeDecodeError):
        return "is not UTF-8 text"
    return f"is not in the shape this version writes ({type(error).__name__}: {error})"


def prepare(state: SandboxState, state_dir: Path | None, fill: Callable[[SandboxState], None]) -> None:
    """Fill a new store once: from a legacy JSON snapshot if the state dir has one, else with ``fill``.

    One transaction, marked done with the schema version, so a crash half-way fills it again next time.
    StateFileError (nothing filled) for a legacy snapshot that cannot be read back.
    """
    legacy = state_dir / LEGACY_STATE_FILE if state_dir is not None else None
    migrated = False
    with state.transaction():
        if state.store.meta("schema_version") is not None:
            return
        if legacy is not None and legacy.exists():
            _migrate(state.store, legacy)
            migrated = True
        else:
            fill(state)
        state.store.set_meta("schema_version", str(SCHEMA_VERSION))
    if migrated and legacy is not None:
        os.replace(legacy, legacy.with_name(legacy.name + ".migrated"))
        _log.warning("migrated the sandbox state in %s to %s", legacy, STATE_DB)


def _migrate(store: Store, legacy: Path) -> None:
    try:
        restore(store, json.loads(legacy.read_text("utf-8")))
    except (ValueError, KeyError, TypeError, sqlite3.IntegrityError, cattrs.errors.BaseValidationError) as exc:
        remedy = f"restore it from a copy, or move it aside to start from the demo data (in {STATE_DB})"
        raise StateFileError(legacy, unreadable(exc), remedy) from None


def snapshot(store: Store) -> Document:
    """Everything in the store, in the JSON shape earlier versions kept on disk."""
    with store.lock:
        return {
            "version": 1,
            "product_coupons": [_converter.unstructure(p) for p in store.product_coupons()],
            "stocks": [_converter.unstructure(s) for s in store.stocks()],
            "user_coupons": [_converter.unstructure(c) for c in store.all_coupons()],
            "busifavor_coupons": [_converter.unstructure(c) for c in store.busifavor()],
            "favor_coupons": [_converter.unstructure(c) for c in store.favor()],
            **snapshot_rows(store),  # the APIv2 ledger's tables, as stored
        }


def restore(store: Store, data: Mapping[str, Any]) -> None:
    """Replace everything in the store with a :func:`snapshot`, in one transaction."""
    with store.transaction():
        store.clear()
        for item in data["product_coupons"]:
            store.put_product_coupon(_converter.structure(item, ProductCoupon))
        for item in data["stocks"]:
            store.put_stock(_converter.structure(item, Stock))
        for item in data["user_coupons"]:
            store.insert_coupon(_converter.structure(item, IssuedCoupon))
        for item in data["busifavor_coupons"]:
            store.insert_busifavor(_converter.structure(item, BusifavorCoupon))
        for item in data["favor_coupons"]:
            store.insert_favor(_converter.structure(item, FavorCoupon))
        restore_rows(store, data)
