"""What-if patches: proposed SDK changes applied in the worker process only, to measure them before anyone
edits ``wxpay_chain/``. ``python -m benchmarks.run --whatif nonce,hops`` runs the suite with them; the
table then says WHAT-IF on every patched row. Nothing here changes a file of the SDK.

Each patch is a small, faithful sketch of the change proposed in benchmarks/README.md ("Findings").
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def _nonce() -> None:
    """make_nonce: 32 calls of secrets.choice (about 30 us) -> one token_hex call (under 1 us)."""
    from wxpay_chain import _client, _crypto

    client_module: Any = _client

    def make_nonce(length: int = 32) -> str:
        return secrets.token_hex((length + 1) // 2)[:length]

    _crypto.make_nonce = make_nonce
    client_module.make_nonce = make_nonce  # the default of AsyncClient(nonce_factory=...) is bound at import
    init = _client.AsyncClient.__init__
    defaults = dict(init.__kwdefaults__ or {})
    defaults["nonce_factory"] = make_nonce
    init.__kwdefaults__ = defaults


def _hops() -> None:
    """Chain.__getattr__: cache (template, name) -> child template, build the child without __init__."""
    from wxpay_chain import _chain, _client
    from wxpay_chain._uri import normalize_segment

    chain_cls: Any = _chain.Chain
    is_probe = _chain._is_probe
    join = _chain._join
    new = object.__new__
    set_client = chain_cls._client.__set__  # slot descriptors: skip __init__ and the immutability guard
    set_template = chain_cls._template.__set__
    hops: dict[tuple[str, str], str] = {}

    def chain_getattr(self: Any, name: str) -> Any:
        key = (self._template, name)
        template = hops.get(key)
        if template is None:
            if is_probe(name):
                raise AttributeError(name)
            template = join(self._template, normalize_segment(name))
            if len(hops) < 4096:
                hops[key] = template
        child = new(chain_cls)
        set_client(child, self._client)
        set_template(child, template)
        return child

    roots: dict[str, str] = {}

    def client_getattr(self: Any, name: str) -> Any:
        template = roots.get(name)
        if template is None:
            if is_probe(name) or (name.startswith("_") and not name.endswith("_")):
                raise AttributeError(name)
            template = normalize_segment(name)
            if len(roots) < 4096:
                roots[name] = template
        child = new(chain_cls)
        set_client(child, self)
        set_template(child, template)
        return child

    chain_cls.__getattr__ = chain_getattr
    client_module: Any = _client
    client_module.AsyncClient.__getattr__ = client_getattr
    client_module.Client.__getattr__ = client_getattr


def _offload_rsa(workers: int) -> Callable[[], None]:
    """_sign_now: build the message and header on the loop thread; offload only ``key.sign`` (no GIL)."""

    def patch() -> None:
        from wxpay_chain import _client
        from wxpay_chain._crypto import _SHA256, _PKCS1v15
        from wxpay_chain._models import Headers, Request
        from wxpay_chain._signing import authorization_header, request_message

        async def _sign_now(self: Any, prepared: Any, origin: str) -> Any:
            if not (self._offload == "always" or (self._offload == "auto" and self._in_flight > 1)):
                return self.sign(prepared, origin)
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wxpay-chain-sign")
            signer = self._signer
            timestamp = int(self._clock())
            nonce = self._nonce()
            message = request_message(prepared.method, prepared.target, timestamp, nonce, prepared.body)
            loop = asyncio.get_running_loop()
            raw = await loop.run_in_executor(self._executor, signer.key.sign, message, _PKCS1v15, _SHA256)
            signature = base64.b64encode(raw).decode("ascii")
            id_field = "brand_id" if signer.mode == "brand" else "mchid"
            authorization = authorization_header(
                signer.scheme, id_field, signer.identity, nonce, timestamp, signer.serial, signature
            )
            return Request(
                method=prepared.method,
                url=(origin or prepared.origin) + prepared.target,
                target=prepared.target,
                template=prepared.template,
                headers=Headers((*prepared.headers, ("Authorization", authorization))),
                body=prepared.body,
                timeout=prepared.timeout,
            )

        client_module: Any = _client
        client_module.AsyncClient._sign_now = _sign_now

    return patch


_BATCH_WORKERS = 1


class _BatchSigner:
    """One signing thread fed in batches: the messages queued during one pass of the event loop go to the
    thread together, so the loop wakes once per batch instead of once per call, and the thread never idles
    while messages wait."""

    def __init__(self, key: Any, padding: Any, algorithm: Any) -> None:
        self._key = key
        self._padding = padding
        self._algorithm = algorithm
        self._pending: list[tuple[bytes, asyncio.Future[bytes]]] = []
        self._scheduled = False
        self._executor = ThreadPoolExecutor(max_workers=_BATCH_WORKERS, thread_name_prefix="wxpay-chain-sign")
        self._loop: asyncio.AbstractEventLoop | None = None

    def sign(self, message: bytes) -> asyncio.Future[bytes]:
        loop = self._loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        self._pending.append((message, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)  # after the callbacks already queued: they may add to this batch
        return future

    def _flush(self) -> None:
        self._scheduled = False
        batch, self._pending = self._pending, []
        self._executor.submit(self._sign_batch, batch)

    def _sign_batch(self, batch: list[tuple[bytes, asyncio.Future[bytes]]]) -> None:  # signing thread
        key, pad, alg = self._key, self._padding, self._algorithm
        results: list[bytes | BaseException] = []
        for message, _ in batch:
            try:
                results.append(key.sign(message, pad, alg))
            except Exception as exc:  # delivered to the caller
                results.append(exc)
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._deliver, batch, results)

    def _deliver(self, batch: list[tuple[bytes, asyncio.Future[bytes]]], results: list[bytes | BaseException]) -> None:
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)


def _batch_sign() -> None:
    """_sign_now: message and header on the loop thread; RSA in batches on one signing thread."""
    from wxpay_chain import _client
    from wxpay_chain._crypto import _SHA256, _PKCS1v15
    from wxpay_chain._models import Headers, Request
    from wxpay_chain._signing import authorization_header, request_message

    signers: dict[int, _BatchSigner] = {}

    async def _sign_now(self: Any, prepared: Any, origin: str) -> Any:
        if not (self._offload == "always" or (self._offload == "auto" and self._in_flight > 1)):
            return self.sign(prepared, origin)
        signer = self._signer
        batcher = signers.get(id(self))
        if batcher is None:
            batcher = signers[id(self)] = _BatchSigner(signer.key, _PKCS1v15, _SHA256)
        timestamp = int(self._clock())
        nonce = self._nonce()
        message = request_message(prepared.method, prepared.target, timestamp, nonce, prepared.body)
        signature = base64.b64encode(await batcher.sign(message)).decode("ascii")
        id_field = "brand_id" if signer.mode == "brand" else "mchid"
        authorization = authorization_header(
            signer.scheme, id_field, signer.identity, nonce, timestamp, signer.serial, signature
        )
        return Request(
            method=prepared.method,
            url=(origin or prepared.origin) + prepared.target,
            target=prepared.target,
            template=prepared.template,
            headers=Headers((*prepared.headers, ("Authorization", authorization))),
            body=prepared.body,
            timeout=prepared.timeout,
        )

    client_module: Any = _client
    client_module.AsyncClient._sign_now = _sign_now


def _quote_fast() -> None:
    """_uri: skip urllib's quote() for text that is all RFC 3986 unreserved characters (the usual case)."""
    import re

    from wxpay_chain import _uri

    uri_module: Any = _uri
    unreserved = re.compile(r"[A-Za-z0-9\-._~]*").fullmatch
    original = uri_module.quote

    def quote(text: str, safe: str = "/") -> str:
        if unreserved(text):
            return text
        result: str = original(text, safe=safe)
        return result

    uri_module.quote = quote


def _no_validate() -> None:
    """Ablation, not a proposal: no typed-model lookup or validation (shows what validation costs)."""
    from wxpay_chain import _client

    client_module: Any = _client
    client_module._endpoint_spec = lambda method, template: None


def _no_record() -> None:
    """Ablation, not a proposal: no per-attempt log call, perf_counter pair or hook check."""
    from wxpay_chain import _client

    client_module: Any = _client
    client_module.AsyncClient._record = lambda self, *args: None


def _pool(workers: int) -> Callable[[], None]:
    """Only the executor size changes (the SDK uses 4 workers)."""

    def patch() -> None:
        from wxpay_chain import _client

        client_module: Any = _client
        original = client_module.ThreadPoolExecutor

        def sized(*args: Any, **kwargs: Any) -> ThreadPoolExecutor:
            kwargs["max_workers"] = workers
            result: ThreadPoolExecutor = original(*args, **kwargs)
            return result

        client_module.ThreadPoolExecutor = sized

    return patch


PATCHES: dict[str, Callable[[], None]] = {
    "nonce": _nonce,
    "hops": _hops,
    "offload_rsa": _offload_rsa(1),
    "offload_rsa2": _offload_rsa(2),
    "batch_sign": _batch_sign,
    "quote_fast": _quote_fast,
    "no_validate": _no_validate,
    "no_record": _no_record,
    "pool1": _pool(1),
    "pool2": _pool(2),
}


def apply(names: list[str]) -> None:
    unknown = [name for name in names if name not in PATCHES]
    if unknown:
        raise SystemExit(f"unknown what-if patch(es): {', '.join(unknown)}; known: {', '.join(PATCHES)}")
    for name in names:
        PATCHES[name]()
