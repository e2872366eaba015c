"""A client's configuration: everything it is built from, checked once, in one place, and frozen.

``AsyncClient(...)`` and ``Client(...)`` build one with :meth:`ClientConfig.build`; ``with_options()``
derives another with :meth:`ClientConfig.derive` and shares everything that is not configuration (the
transport, the signing worker, the verifier) with the original.
"""

from __future__ import annotations

import enum
import re
import ssl
from collections.abc import Callable, Mapping
from typing import Literal

import attrs

from ._apiv2 import check_apiv2_key
from ._crypto import KeySource, PublicKeySource, make_nonce
from ._errors import ConfigurationError
from ._http import Attempt, Request, Timeout
from ._proxy import ProxySetting, parse_proxy
from ._request import RequestDefaults, V2Settings, client_timeout, parse_base_url
from ._retry import RetryPolicy, finite_seconds
from ._signing import KeyStore, Signer, is_certificate_serial
from ._tls import ClientCertificate, ClientCertSource, load_client_certificate, load_merchant_key
from ._typed._check import VALIDATE_MODES, Validate
from ._verifier import check_apiv3_key

__all__ = ["OFFLOAD_MODES", "UNCHANGED", "ClientConfig", "Offload", "Unchanged"]

Offload = Literal["auto", "always", "never", "process"]
OFFLOAD_MODES: tuple[Offload, ...] = ("auto", "always", "never", "process")


def _retry_policy(value: object) -> RetryPolicy:
    if isinstance(value, bool) or not isinstance(value, (RetryPolicy, int, type(None))):
        raise ConfigurationError("retry must be a RetryPolicy, a number of attempts, or None for the default")
    return RetryPolicy(attempts=value) if isinstance(value, int) else value or RetryPolicy()


def check_id(name: str, identity: object) -> str:
    """A ``mchid`` or ``brand_id`` as WeChat Pay issues them: digits. It goes into every Authorization
    header, so a secret pasted here must be refused, and the error never repeats it."""
    if not isinstance(identity, str) or not (0 < len(identity) <= 32 and identity.isascii() and identity.isdigit()):
        raise ConfigurationError(f"{name} must be the {name} WeChat Pay gave you: its digits, as a str")
    return identity


def check_serial(serial: object) -> str:
    """The API certificate's serial (stripped); refused, never repeated, when it is anything else."""
    if not isinstance(serial, str) or not is_certificate_serial(serial.strip()):
        raise ConfigurationError(
            "serial must be the API certificate's serial number: up to 40 hex digits (openssl x509 -noout -serial)"
        )
    return serial.strip()


class Unchanged(enum.Enum):
    """``with_options()``'s default for a setting left out: it stays as the client has it. (None cannot
    say that: ``timeout=None`` means no limit, ``retry=None`` the default policy, ``on_request=None`` no hook.)"""

    UNCHANGED = "unchanged"

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = Unchanged.UNCHANGED


@attrs.frozen
class ClientConfig:
    """Identity and keys, URLs and timeouts, retry, signing and hooks of one client. Never holds a secret
    in its repr: the signer's key and the APIv3 key are hidden."""

    signer: Signer
    keys: KeyStore
    apiv3_key: str | bytes | None = attrs.field(repr=False)
    apiv2_key: str | None = attrs.field(repr=False)
    client_cert: ClientCertificate | None = attrs.field(repr=False)
    ssl_context: ssl.SSLContext | None
    proxy: ProxySetting | None  # its repr masks the credentials
    trust_env: bool
    log_bodies: bool
    certificate_refresh: float
    defaults: RequestDefaults
    retry: RetryPolicy
    backup_origin: str | None
    offload: Offload
    on_request: Callable[[Request], None] | None
    on_response: Callable[[Attempt], None] | None
    clock: Callable[[], float]
    nonce_factory: Callable[[], str]
    pool_limit: int
    max_response_bytes: int

    @classmethod
    def build(
        cls,
        *,
        mchid: str | None,
        brand_id: str | None,
        serial: str,
        private_key: KeySource,
        platform_keys: Mapping[str, PublicKeySource] | None,
        base_url: str,
        timeout: float | Timeout | None,
        passphrase: str | bytes | None,
        pool_limit: int,
        clock: Callable[[], float],
        nonce_factory: Callable[[], str],
        retry: RetryPolicy | int | None,
        backup_base_url: str | None,
        offload_crypto: Offload,
        on_request: Callable[[Request], None] | None,
        on_response: Callable[[Attempt], None] | None,
        apiv3_key: str | bytes | None,
        certificate_refresh: float,
        max_response_bytes: int,
        apiv2_key: str | None = None,
        client_cert: ClientCertSource | None = None,
        ssl_context: ssl.SSLContext | None = None,
        proxy: str | None = None,
        trust_env: bool = False,
        log_bodies: bool = False,
        validate: Validate = "strict",
    ) -> ClientConfig:
        """Every check of a client's settings; ConfigurationError names the setting and what to do."""
        if (mchid is None) == (brand_id is None):
            raise ConfigurationError("Pass exactly one of mchid= (merchant API) or brand_id= (brand API)")
        identity = mchid if mchid is not None else brand_id
        mode: Literal["merchant", "brand"] = "merchant" if mchid is not None else "brand"
        identity, serial = check_id("mchid" if mode == "merchant" else "brand_id", identity), check_serial(serial)
        if passphrase is not None and not isinstance(passphrase, (str, bytes)):  # never repeated: it is a secret
            raise ConfigurationError(
                f'passphrase must be text, not {type(passphrase).__name__}: e.g. "1900000001" (a .p12 from '
                "WeChat Pay is locked with the merchant id)"
            )
        key = load_merchant_key(private_key, passphrase, client_cert is not None)
        keys = KeyStore.load(platform_keys)
        if apiv3_key is not None:
            apiv3_key = check_apiv3_key(apiv3_key)
        if apiv2_key is not None:
            apiv2_key = check_apiv2_key(apiv2_key)
        for secret in (apiv3_key, apiv2_key):  # a hex key passes for a serial: only the keys themselves tell
            text = secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret
            if text is not None and (text in (identity, serial) or text.upper() in keys):
                raise ConfigurationError(
                    "serial or platform_keys holds the APIv3 or APIv2 key: pass each key in its own setting"
                )
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise ConfigurationError("ssl_context must be an ssl.SSLContext: ssl.create_default_context(cafile=...)")
        cert = None if client_cert is None else load_client_certificate(client_cert, key, passphrase)
        if not keys and apiv3_key is None:
            raise ConfigurationError(
                "Answers cannot be verified without keys: pass platform_keys={PUB_KEY_ID or certificate serial: "
                "key}, or apiv3_key= to download platform certificates automatically"
            )
        pub_key_ids = keys.pub_key_ids
        if mode == "brand" and not pub_key_ids:
            raise ConfigurationError(
                "The brand API verifies with WeChat Pay public keys only: add your brand's "
                "PUB_KEY_ID_... and its pub_key.pem to platform_keys"
            )
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int) or max_response_bytes < 1:
            raise ConfigurationError("max_response_bytes must be a positive number of bytes (default 16 MiB)")
        if isinstance(pool_limit, bool) or not isinstance(pool_limit, int) or pool_limit < 1:
            raise ConfigurationError(  # aiohttp reads 0 as "no limit": refused, as a pool of 0 reads as none
                "pool_limit must be a whole number of connections, 1 or more (default 100; for no cap pass a large one)"
            )
        _callbacks(clock=clock, nonce_factory=nonce_factory, on_request=on_request, on_response=on_response)
        nonces = _checked(nonce_factory)
        _validate(validate)
        if not finite_seconds(certificate_refresh):
            raise ConfigurationError("certificate_refresh must be a number of seconds, 0 or more (default 12 hours)")
        if offload_crypto not in OFFLOAD_MODES:
            raise ConfigurationError('offload_crypto must be "auto", "always", "never" or "process"')
        if not isinstance(trust_env, bool) or not isinstance(log_bodies, bool):
            raise ConfigurationError("trust_env and log_bodies must be True or False")
        return cls(
            signer=Signer(mode=mode, identity=identity, serial=serial, key=key, log_bodies=log_bodies),
            keys=keys,
            apiv3_key=apiv3_key,
            apiv2_key=apiv2_key,
            client_cert=cert,
            ssl_context=ssl_context,
            proxy=parse_proxy(proxy),
            trust_env=trust_env,
            log_bodies=log_bodies,
            certificate_refresh=certificate_refresh,
            defaults=RequestDefaults(
                mode=mode,
                pub_key_id=pub_key_ids[0] if pub_key_ids else None,
                origin_prefix=parse_base_url(base_url),
                timeout=client_timeout(timeout),
                apiv2=V2Settings(
                    mch_id=mchid, key=apiv2_key, certificate=cert is not None, nonce=nonces
                ),
                validate=validate,
            ),
            retry=_retry_policy(retry),
            backup_origin=_backup_origin(backup_base_url, base_url),
            offload=offload_crypto,
            on_request=on_request,
            on_response=on_response,
            clock=clock,
            nonce_factory=nonces,
            pool_limit=pool_limit,
            max_response_bytes=max_response_bytes,
        )

    def derive(
        self,
        *,
        timeout: float | Timeout | Unchanged | None = UNCHANGED,
        base_url: str | Unchanged = UNCHANGED,
        retry: RetryPolicy | int | Unchanged | None = UNCHANGED,
        on_request: Callable[[Request], None] | Unchanged | None = UNCHANGED,
        on_response: Callable[[Attempt], None] | Unchanged | None = UNCHANGED,
        validate: Validate | Unchanged = UNCHANGED,
    ) -> ClientConfig:
        """This configuration with other defaults for calls (``with_options()``), checked like build(): a
        setting given means what it means there (``timeout=None``: no limit), one left out stays."""
        on_request = self.on_request if on_request is UNCHANGED else on_request
        on_response = self.on_response if on_response is UNCHANGED else on_response
        _callbacks(on_request=on_request, on_response=on_response)
        defaults = self.defaults
        if validate is not UNCHANGED:
            defaults = attrs.evolve(defaults, validate=_validate(validate))
        if timeout is not UNCHANGED:
            defaults = attrs.evolve(defaults, timeout=client_timeout(timeout))
        backup = self.backup_origin
        if base_url is not UNCHANGED:
            defaults = attrs.evolve(defaults, origin_prefix=parse_base_url(base_url))
            if defaults.origin_prefix != self.defaults.origin_prefix:
                backup = None  # the backup stood in for the old base URL, not for this one
        return attrs.evolve(
            self,
            defaults=defaults,
            backup_origin=backup,
            retry=self.retry if retry is UNCHANGED else _retry_policy(retry),
            on_request=on_request,
            on_response=on_response,
        )


def _backup_origin(backup_base_url: str | None, base_url: str) -> str | None:
    """The origin connection failures fail over to. An attempt keeps the path it was signed for, so the
    backup must serve the same path as the base URL."""
    if not backup_base_url:
        return None
    origin, prefix = parse_base_url(backup_base_url, name="backup_base_url")
    if prefix != parse_base_url(base_url)[1]:
        raise ConfigurationError(
            f"backup_base_url has the path {prefix!r} and base_url {parse_base_url(base_url)[1]!r}: a failed-over "
            "attempt keeps the path it was signed for, so give both the same path"
        )
    return origin


def _validate(validate: object) -> Validate:
    if validate not in VALIDATE_MODES:
        raise ConfigurationError('validate must be "strict" (default), "types" or "off"')
    return validate


_CALLS = {
    "clock": "returning the time in seconds since the epoch, e.g. time.time",
    "nonce_factory": "returning 1-32 characters of [0-9A-Za-z], e.g. wxpay_chain.crypto.make_nonce",
    "on_request": "called with each Request, or None",
    "on_response": "called with each Attempt, or None",
}
_NONCE = re.compile(r"[0-9A-Za-z]{1,32}").fullmatch


def _callbacks(**given: object) -> None:
    """The functions a client calls back, checked when it is built rather than found out on every call."""
    for name, value in given.items():
        if not callable(value) and (value is not None or name in ("clock", "nonce_factory")):
            raise ConfigurationError(f"{name} must be a function {_CALLS[name]}, not {type(value).__name__}")


def _checked(nonce_factory: Callable[[], str]) -> Callable[[], str]:
    """The nonce factory, each of its nonces checked before it is signed and sent as it is: a cost only a
    factory of one's own pays (make_nonce's are 32 hex digits)."""
    if nonce_factory is make_nonce:
        return nonce_factory

    def nonce() -> str:
        value = nonce_factory()
        if not isinstance(value, str) or not _NONCE(value):
            shown = repr(value)[:40] if isinstance(value, str) else f"a {type(value).__name__}"
            raise ConfigurationError(f"nonce_factory returned {shown}: a nonce is 1-32 characters of [0-9A-Za-z]")
        return value

    return nonce
