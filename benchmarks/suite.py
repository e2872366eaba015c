"""What the suite runs: the benchmark configurations, the targets, and how a round's figures combine.

Every figure of a round comes from one fresh worker process; ratios are taken within a round (between
runs made back to back under the same machine load) and only then summarised as a median over rounds.
"""

from __future__ import annotations

import importlib.util
import shutil
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ._common import NODE_DIR

Run = dict[str, Any]
WHATIF_SUFFIX = "+wi"


def _missing_modules(*names: str) -> str | None:
    missing = [name for name in names if importlib.util.find_spec(name) is None]
    if missing:
        return f"not installed: {', '.join(missing)} (pip install -r benchmarks/requirements.txt)"
    return None


def _node_missing() -> str | None:
    if shutil.which("node") is None:
        return "node not found on PATH"
    if not (NODE_DIR / "node_modules" / "wechatpay-axios-plugin").is_dir():
        return "npm peer not installed (npm ci --prefix benchmarks/node)"
    return None


@dataclass(frozen=True)
class Config:
    """One row of the table."""

    label: str
    bench: str
    concurrency: int
    title: str
    group: str  # floor | baseline | sdk | peer
    offload: str = "auto"
    extra: bool = False  # only with --all or --only
    whatif: tuple[str, ...] = ()  # benchmarks.whatif patches applied in the worker
    requires: Callable[[], str | None] = field(default=lambda: None, compare=False, repr=False)

    def twin(self, patches: tuple[str, ...]) -> Config:
        """The same row with what-if patches, labelled ``<label>+wi``."""
        return replace(self, label=self.label + WHATIF_SUFFIX, title=self.title + " WHAT-IF", whatif=patches)

    @property
    def reference(self) -> str:
        """The raw-baseline row this row's ratios are taken against (same concurrency)."""
        return "raw-c32" if self.concurrency > 2 else "raw-c1"


def _wpv3() -> str | None:
    return _missing_modules("wechatpayv3")


def _wpv3_async() -> str | None:
    return _missing_modules("wechatpayv3", "httpx", "aiofiles")


CONFIGS: tuple[Config, ...] = (
    Config("floor", "floor", 1, "floor: RSA sign + verify, in process", "floor"),
    Config("floor-2t", "floor", 2, "floor: RSA sign + verify, 2 threads", "floor"),
    Config("raw-c1", "raw", 1, "raw aiohttp + hand-written crypto", "baseline"),
    Config("raw-c32", "raw", 32, "raw aiohttp + hand-written crypto", "baseline"),
    Config("sdk-c1", "sdk", 1, "wxpay_chain AsyncClient (auto)", "sdk"),
    Config("sdk-c1-always", "sdk", 1, "wxpay_chain AsyncClient (always)", "sdk", offload="always", extra=True),
    Config("sdk-c32-never", "sdk", 32, "wxpay_chain AsyncClient (never)", "sdk", offload="never"),
    Config("sdk-c32-auto", "sdk", 32, "wxpay_chain AsyncClient (auto)", "sdk"),
    Config("sdk-c32-process", "sdk", 32, "wxpay_chain AsyncClient (process)", "sdk", offload="process"),
    Config("sdk-c32-always", "sdk", 32, "wxpay_chain AsyncClient (always)", "sdk", offload="always", extra=True),
    Config("sdk-sync-c1", "sdk_sync", 1, "wxpay_chain Client (blocking)", "sdk"),
    Config("sdk-sync-c32", "sdk_sync", 32, "wxpay_chain Client, 32 threads", "sdk", extra=True),
    Config("wpv3-sync-c1", "wpv3_sync", 1, "wechatpayv3 WeChatPay (requests)", "peer", requires=_wpv3),
    Config("wpv3-sync-c32", "wpv3_sync", 32, "wechatpayv3 WeChatPay, 32 threads", "peer", extra=True, requires=_wpv3),
    Config("wpv3-async-c1", "wpv3_async", 1, "wechatpayv3 AsyncWeChatPay (httpx)", "peer", requires=_wpv3_async),
    Config("wpv3-async-c32", "wpv3_async", 32, "wechatpayv3 AsyncWeChatPay (httpx)", "peer", requires=_wpv3_async),
    Config("node-c1", "node", 1, "npm wechatpay-axios-plugin (node)", "peer", requires=_node_missing),
    Config("node-c32", "node", 32, "npm wechatpay-axios-plugin (node)", "peer", requires=_node_missing),
)
BY_LABEL = {c.label: c for c in CONFIGS}


def select(only: Sequence[str] | None, include_extra: bool) -> list[Config]:
    if only:
        unknown = [label for label in only if label not in BY_LABEL]
        if unknown:
            raise SystemExit(f"unknown bench label(s): {', '.join(unknown)}; known: {', '.join(BY_LABEL)}")
        chosen = [BY_LABEL[label] for label in only]
        # Ratios need their reference rows.
        for config in list(chosen):
            if config.group != "baseline" and BY_LABEL[config.reference] not in chosen:
                chosen.append(BY_LABEL[config.reference])
        return [c for c in CONFIGS if c in chosen]
    return [c for c in CONFIGS if include_extra or not c.extra]


# -- figures ------------------------------------------------------------------------------------------


def cpu_us(run: Run) -> float:
    return float(run["cpu_s"]) / max(1, int(run["calls"])) * 1e6


def rps(run: Run) -> float:
    return int(run["calls"]) / max(float(run["wall_s"]), 1e-9)


def wall_ms(run: Run) -> float:
    return float(run["wall_s"]) / max(1, int(run["calls"])) * 1e3


def peak_mib(run: Run) -> float:
    return float(run.get("peak_delta", 0)) / 2**20


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summary(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "n": 0}
    return {"median": median(values), "min": min(values), "max": max(values), "n": len(values)}


def paired_ratios(
    rounds: Sequence[dict[str, Run]], label: str, reference: str, figure: Callable[[Run], float]
) -> list[float]:
    """``figure(label) / figure(reference)`` within each round where both ran."""
    out = []
    for round_runs in rounds:
        a, b = round_runs.get(label), round_runs.get(reference)
        if a and b and "error" not in a and "error" not in b:
            denominator = figure(b)
            if denominator > 0:
                out.append(figure(a) / denominator)
    return out


# -- targets ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    key: str
    text: str
    label: str
    reference: str
    figure: str  # cpu | rps
    limit: float
    at_most: bool  # True: value <= limit passes

    def passes(self, value: float) -> bool:
        return value <= self.limit if self.at_most else value >= self.limit


RATIO_TARGETS: tuple[Target, ...] = (
    Target("cpu_c1_vs_raw", "client CPU per call, SDK c=1 / raw c=1", "sdk-c1", "raw-c1", "cpu", 1.10, True),
    Target("rps_c32_vs_raw", "req/s, SDK c=32 (auto) / raw c=32", "sdk-c32-auto", "raw-c32", "rps", 1.3, False),
    Target(
        "rps_c32_process_vs_raw",
        "req/s, SDK c=32 (process) / raw c=32",
        "sdk-c32-process",
        "raw-c32",
        "rps",
        1.3,
        False,
    ),
    Target(
        "rps_c32_vs_wpv3",
        "req/s, SDK c=32 / wechatpayv3 async c=32",
        "sdk-c32-auto",
        "wpv3-async-c32",
        "rps",
        6.0,
        False,
    ),
    Target("rps_c1_vs_wpv3", "req/s, SDK c=1 / wechatpayv3 async c=1", "sdk-c1", "wpv3-async-c1", "rps", 2.2, False),
)
FIGURES: dict[str, Callable[[Run], float]] = {"cpu": cpu_us, "rps": rps}

CHAIN_TARGETS: dict[str, tuple[str, float]] = {
    "hop_cached": ("chain building: one cached attribute hop", 1000.0),
    "chain_6_hops": ("chain building: 6-hop chain, per hop", 1000.0),
    "expand": ("template expansion", 5000.0),
}
CHAIN_CASES: dict[str, str] = {
    "hop_cached": "chain.marketing (one hop, segment cached)",
    "chain_6_hops": "client.v3.marketing.busifavor.users._openid_.coupons, per hop",
    "item_access": 'client["v3/.../{openid}/coupons"]',
    "verb_access": "chain.marketing.get (hop + verb), per access",
    "expand": "expand(template, {openid}) (template expansion)",
    "prepare": "client.prepare(GET, template, openid, query) (informative)",
    "make_nonce": "make_nonce() (informative)",
}

SOAK_RSS_LIMIT = 2 * 2**20  # bytes of RSS growth after warm-up that still count as flat
SOAK_OBJECT_LIMIT = 500  # live gc-tracked objects of growth that still count as flat
