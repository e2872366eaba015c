"""Authorizing a prepared call: a fresh timestamp and nonce, the RSA signature, the Authorization header.

The signature is made inline, or on a signing worker (a thread, or a child process) while other calls
are in flight: ``offload_crypto`` decides. The canonical message and the header are built here, on the
event loop; only the RSA operation crosses over.
"""

from __future__ import annotations

from collections.abc import Callable

from ._config import ClientConfig
from ._crypto import rsa_sign
from ._http import Request
from ._request import PreparedRequest, request_for
from ._signing import Signer, request_message
from ._signing_process import SigningProcess, check_platform
from ._signing_thread import SigningThread

__all__ = ["BEHIND", "Authorizer"]

# How many signatures the signing thread may owe before the event loop signs the next one itself. One
# thread caps signing at one core; signing here too, once it falls behind, puts the other core to work.
# Measured (benchmarks/): at 8 and 32 calls in flight 3 beat 2 and 4, and left alone the thread gave
# 1.14-1.22 x raw aiohttp where this gives 1.36-1.38 x.
BEHIND = 3


class Authorizer:
    """Turns a PreparedRequest into the signed Request that goes on the wire; owns the signing worker."""

    def __init__(self, config: ClientConfig) -> None:
        self._signer: Signer = config.signer
        self._clock: Callable[[], float] = config.clock
        self._nonce: Callable[[], str] = config.nonce_factory
        self._always = config.offload == "always"
        self._worker: SigningThread | SigningProcess | None = None
        if config.offload == "process":
            check_platform()
            self._worker = SigningProcess(config.signer.key)
        elif config.offload != "never":
            self._worker = SigningThread(config.signer.key)

    def sign(self, prepared: PreparedRequest, origin: str | None = None) -> Request:
        """Sign now, inline."""
        timestamp = int(self._clock())
        authorization = self._signer.authorization(
            prepared.method, prepared.target, prepared.signed_body, timestamp, self._nonce()
        )
        return request_for(prepared, origin or prepared.origin, (("Authorization", authorization),))

    async def authorize(self, prepared: PreparedRequest, origin: str, overlapping: bool) -> Request:
        """Sign on the worker while other calls overlap, inline for a lone call (where a hop to the worker
        only adds latency) and when the worker is BEHIND (both cores sign then); always on the worker
        with ``offload_crypto="always"``."""
        worker, signer = self._worker, self._signer
        timestamp, nonce = int(self._clock()), self._nonce()
        message = request_message(prepared.method, prepared.target, timestamp, nonce, prepared.signed_body)
        if worker is None or (not self._always and (not overlapping or worker.backlog() >= BEHIND)):
            signature = rsa_sign(signer.key, message)
        else:
            signature = await worker.sign(message)
        return request_for(prepared, origin, (("Authorization", signer.header(message, nonce, timestamp, signature)),))

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()

    def worker_closer(self) -> Callable[[], None] | None:
        """What stops the signing worker, holding nothing but the worker (and so no code of the caller's):
        for a finalizer, which must not keep a client alive."""
        return None if self._worker is None else self._worker.close
