"""What-if patches: SDK changes applied in the worker process only, to measure them before anyone edits
``wxpay_chain/``. ``python -m benchmarks.run --whatif no_validate`` runs the suite with them; the table
then says WHAT-IF on every patched row. Nothing here changes a file of the SDK.

The first session's proposals (hex nonce, cached hops, quote fast path, batch signing) are in the SDK
now, so their patches are gone; what remains are two ablations that show what a step costs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _no_validate() -> None:
    """Ablation, not a proposal: no typed-model lookup or validation (shows what validation costs)."""
    from wxpay_chain import models

    models_module: Any = models
    models_module.validate_call = lambda method, template, path_params, query, json: None


def _no_record() -> None:
    """Ablation, not a proposal: no per-attempt log call, perf_counter pair or hook check."""
    from wxpay_chain import _client

    client_module: Any = _client
    client_module.AsyncClient._record = lambda self, *args: None


PATCHES: dict[str, Callable[[], None]] = {
    "no_validate": _no_validate,
    "no_record": _no_record,
}


def apply(names: list[str]) -> None:
    unknown = [name for name in names if name not in PATCHES]
    if unknown:
        raise SystemExit(f"unknown what-if patch(es): {', '.join(unknown)}; known: {', '.join(PATCHES)}")
    for name in names:
        PATCHES[name]()
