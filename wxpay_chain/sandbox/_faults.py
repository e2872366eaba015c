"""Scripted and random faults, matched per endpoint (method + path template) or globally.

Kinds and what the caller sees:

=================  ==========================================================================================
``reset``          the connection is closed without an answer
``delay``          the answer comes ``seconds`` late (the server awaits; nothing blocks)
``status``         a 429 (with Retry-After) / 500 / 502 / 503 ... answer instead of the real one
``truncate``       the real answer's headers promise more body than is sent, then the connection closes
``drop_signature`` the real answer without its Wechatpay-* signature headers (an APIv2 answer: its ``sign``)
``corrupt_signature``  the real answer with one byte of its signature flipped (an APIv2 answer: its ``sign``)
``stale_timestamp``    the real answer, validly signed, but with a Wechatpay-Timestamp ``seconds`` old
=================  ==========================================================================================

``when="before"`` applies the fault before the request is handled (nothing happens on the server);
``when="after"`` lets the handler run first (a coupon is issued), then applies the fault to its answer.
The last four kinds change the real answer, so they always run after the handler; an answer with no
signature (a file, an error) is left as it is by the three signature kinds, which change an APIv2 answer's
``sign`` (``stale_timestamp`` has no APIv2 counterpart). Such a fault is used up all the same. A ``delay``
before the handler holds the request before its body is read: a client that gives up meanwhile has sent
nothing the handler can use (a 400). ``delay(..., when="after")`` is the call done but answered too late.

Faults cover every route the sandbox serves, on both its listeners: APIv3, the uploads and file downloads
(bills, images), APIv2 and its coupon pages. A rule without a path matches every request (of its method);
a path names one route, spelt as the SDK's template (``v3/bill/tradebill``,
``v2/mmpaymkttransfers/send_coupon``) or as the path on the wire (``/v3/bill/tradebill``,
``/mmpaymkttransfers/send_coupon``): both spellings are one rule. A path no route serves is refused.
"""

from __future__ import annotations

import functools
import random
import threading
import typing
from collections import deque
from collections.abc import Iterable
from typing import Literal

import attrs

from ._params import placeholder_values

FaultKind = Literal["reset", "delay", "status", "truncate", "drop_signature", "corrupt_signature", "stale_timestamp"]
When = Literal["before", "after"]

_ANSWER_FAULTS = frozenset({"truncate", "drop_signature", "corrupt_signature", "stale_timestamp"})
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_KINDS: tuple[str, ...] = typing.get_args(FaultKind)
_WHEN: tuple[str, ...] = typing.get_args(When)


@attrs.frozen
class Fault:
    """One fault; build it with the class methods."""

    kind: FaultKind = attrs.field(validator=lambda _, field, value: _one_of(field.name, value, _KINDS))
    when: When = attrs.field(default="before", validator=lambda _, field, value: _one_of(field.name, value, _WHEN))
    status: int = 0
    retry_after: int | None = None
    seconds: float = 0.0

    @classmethod
    def reset(cls, *, when: When = "before") -> Fault:
        return cls("reset", when=when)

    @classmethod
    def delay(cls, seconds: float, *, when: When = "before") -> Fault:
        if seconds < 0:
            raise ValueError("a delay must not be negative")
        return cls("delay", when=when, seconds=seconds)

    @classmethod
    def http_status(cls, status: int, *, retry_after: int | None = None, when: When = "before") -> Fault:
        if not 400 <= status <= 599:
            raise ValueError("a status fault answers 4xx or 5xx")
        if status == 429 and retry_after is None:
            retry_after = 1
        return cls("status", when=when, status=status, retry_after=retry_after)

    @classmethod
    def truncate(cls) -> Fault:
        return cls("truncate", when="after")

    @classmethod
    def drop_signature(cls) -> Fault:
        return cls("drop_signature", when="after")

    @classmethod
    def corrupt_signature(cls) -> Fault:
        return cls("corrupt_signature", when="after")

    @classmethod
    def stale_timestamp(cls, seconds: float = 600.0) -> Fault:
        return cls("stale_timestamp", when="after", seconds=seconds)

    @property
    def runs_handler(self) -> bool:
        """Whether the request is still handled (and, say, a coupon issued) under this fault; for a ``delay``
        before the handler, only while the client waits it out."""
        return self.when == "after" or self.kind == "delay" or self.kind in _ANSWER_FAULTS


def _one_of(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:  # a typo ("afer") would otherwise match no step and be applied as nothing
        raise ValueError(f"a Fault's {name} is one of {', '.join(allowed)}, not {value!r}")


def wire_template(path: str, apiv2: Iterable[str] = ()) -> str:
    """``path`` as the sandbox routes it: a leading ``/``, and an APIv2 template without the SDK's ``v2/``."""
    wire = "/" + path.removeprefix("/")
    if wire.startswith("/v2/") and wire[3:] in apiv2:
        return wire[3:]
    return wire


def path_matches(template: str, path: str) -> bool:
    """Whether a request's raw path (no query) is one of ``template``, by the routes' own rule."""
    return placeholder_values(_segments(template), path.split("/")) is not None


@functools.lru_cache(maxsize=256)
def _segments(template: str) -> tuple[str, ...]:  # a rule's template, split once, not on every request
    return tuple(template.split("/"))


@attrs.frozen
class Target:
    """Which requests a rule applies to: None matches anything."""

    method: str | None = None
    path: str | None = None

    def matches(self, method: str, path: str | None) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or (path is not None and path_matches(self.path, path))


@attrs.frozen
class InjectedFault:
    """A fault that was applied, for inspection after a test."""

    request_id: str
    method: str
    raw_path: str
    fault: Fault


class _RandomRule:
    def __init__(self, target: Target, faults: tuple[Fault, ...], rate: float, seed: int) -> None:
        self.target = target
        self.faults = faults
        self.rate = rate
        self.rng = random.Random(seed)


class FaultInjector:
    """``sb.faults``: what goes wrong, and when. Safe to configure from another thread."""

    def __init__(self, known_templates: Iterable[str] = (), *, apiv2: Iterable[str] = (), keep: int = 1000) -> None:
        self._lock = threading.Lock()
        self._scripts: list[tuple[Target, deque[Fault]]] = []
        self._random: list[_RandomRule] = []
        self._known = frozenset(known_templates)
        self._apiv2 = frozenset(apiv2)  # the routes the SDK names with a "v2/" in front
        # Bounded: random rules fire on any traffic, authenticated or not.
        self._injected: deque[InjectedFault] = deque(maxlen=keep)

    @property
    def injected(self) -> list[InjectedFault]:
        """The last ``keep`` faults applied (``Sandbox(keep_requests=...)``), oldest first; a copy."""
        with self._lock:
            return list(self._injected)

    @property
    def templates(self) -> list[str]:
        """The route templates a rule's ``path`` may name (with or without the leading ``/``)."""
        return sorted(self._known)

    def _target(self, faults: tuple[object, ...], method: str | None, path: str | None) -> Target:
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"faults are Fault values (Fault.reset(), Fault.http_status(503)...), not {fault!r}")
        if method is not None and (not isinstance(method, str) or method.upper() not in _METHODS):
            raise ValueError(f"method must be one of {', '.join(sorted(_METHODS))}, not {method!r}")
        wire = wire_template(path, self._apiv2) if path is not None else None
        if wire is not None and self._known and wire not in self._known:
            served = next((t for t in sorted(self._known) if path_matches(t, wire)), None)
            hint = f"write it as its template, {served!r}" if served else "sb.faults.templates lists them"
            raise ValueError(f"unknown path template {path!r}: no route has it as its template; {hint}")
        return Target(method=method.upper() if method else None, path=wire)

    def script(self, *faults: Fault, method: str | None = None, path: str | None = None) -> None:
        """Queue faults for the next ``len(faults)`` matching requests, one each, in order."""
        target = self._target(faults, method, path)
        with self._lock:
            for existing, queue in self._scripts:
                if existing == target:
                    queue.extend(faults)
                    return
            self._scripts.append((target, deque(faults)))

    def random(
        self, *faults: Fault, rate: float, seed: int = 0, method: str | None = None, path: str | None = None
    ) -> None:
        """Apply one of ``faults`` (chosen by a seeded RNG) to a ``rate`` share of matching requests."""
        if not faults:
            raise ValueError("give at least one fault")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        rule = _RandomRule(self._target(faults, method, path), tuple(faults), rate, seed)
        with self._lock:
            self._random.append(rule)

    def clear(self) -> None:
        """Forget every scripted and random rule (the ``injected`` log stays)."""
        with self._lock:
            self._scripts.clear()
            self._random.clear()

    def pending(self) -> int:
        """How many scripted faults are still waiting for a request."""
        with self._lock:
            return sum(len(queue) for _, queue in self._scripts)

    def take(self, method: str, path: str | None) -> Fault | None:
        """The fault for a request (its raw path, no query), if any: scripted ones first, then random rules."""
        with self._lock:
            for target, queue in self._scripts:
                if queue and target.matches(method, path):
                    return queue.popleft()
            for rule in self._random:
                if rule.target.matches(method, path) and rule.rng.random() < rule.rate:
                    return rule.rng.choice(rule.faults)
        return None

    def record(self, request_id: str, method: str, raw_path: str, fault: Fault) -> None:
        with self._lock:
            self._injected.append(InjectedFault(request_id, method, raw_path, fault))
