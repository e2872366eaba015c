"""Client settings from the environment (``AsyncClient.from_env()``) or a JSON config file (the CLI).

Each source value is checked here, under the name the user set it by (``WXPAY_PRIVATE_KEY``, or
``config.json: private_key``), so an error says which variable to fix; no message repeats a value, since
these are keys, and error messages end up in logs. Keyword overrides win over the source, name by name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric import rsa

from ._apiv2 import check_apiv2_key
from ._config import check_id, check_serial
from ._errors import ConfigurationError, not_json
from ._request import parse_base_url
from ._signing import PUB_KEY_ID_PREFIX, KeyStore
from ._tls import load_merchant_key
from ._verifier import check_apiv3_key

__all__ = ["ENV_VARS", "AskKey", "options_from_config", "options_from_env"]

AskKey = Callable[[], str]

#: Each setting and the variable it is read from.
ENV_VARS = {
    "mchid": "WXPAY_MCHID",
    "brand_id": "WXPAY_BRAND_ID",
    "serial": "WXPAY_SERIAL",
    "private_key": "WXPAY_PRIVATE_KEY",
    "public_key_id": "WXPAY_PUBLIC_KEY_ID",
    "public_key": "WXPAY_PUBLIC_KEY",
    "platform_keys": "WXPAY_PLATFORM_KEYS",
    "apiv3_key": "WXPAY_APIV3_KEY",
    "apiv2_key": "WXPAY_APIV2_KEY",
    "base_url": "WXPAY_BASE_URL",
}

T = TypeVar("T")


class _Source:
    """Text settings by field name, and how to name each one in an error."""

    def __init__(self, values: Mapping[str, str], label: Callable[[str], str], hint: str) -> None:
        # An empty variable counts as unset: `WXPAY_BRAND_ID=` in an env file means "not this one".
        self.values = {k: v for k, v in values.items() if isinstance(v, str) and v.strip()}
        self.label = label
        self.hint = hint

    def get(self, field: str) -> str | None:
        return self.values.get(field)

    def need(self, field: str, what: str) -> str:
        value = self.get(field)
        if value is None:
            raise ConfigurationError(f"{self.label(field)} is not set: it must hold {what}{self.hint}")
        return value

    def check(self, field: str, param: str, load: Callable[[], T]) -> T:
        """``load()``, with a ConfigurationError renamed from the parameter to this source's name."""
        try:
            return load()
        except ConfigurationError as exc:
            message = str(exc)
        # Raised outside the handler: the original error stays out of the traceback.
        if message.startswith(param):
            message = message[len(param) :].lstrip(":").lstrip()
        raise ConfigurationError(f"{self.label(field)}: {message}")


def options_from_env(
    environ: Mapping[str, str] | None, overrides: Mapping[str, Any], ask_apiv3_key: AskKey | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``AsyncClient``/``Client`` from the WXPAY_* variables and ``overrides``.

    ``ask_apiv3_key`` is called when nothing else could verify answers (the CLI asks at a terminal)."""
    env = os.environ if environ is None else environ
    names = set(ENV_VARS.values())
    stray = sorted(name for name in env if name.startswith("WXPAY_") and name not in names)
    # A misspelt variable name (not its value) is the most useful hint when a setting seems missing.
    hint = f" (set but unknown here: {', '.join(stray)})" if stray else ""
    values = {field: env[var] for field, var in ENV_VARS.items() if var in env}
    return _options(_Source(values, ENV_VARS.__getitem__, hint), overrides, ask_apiv3_key)


def options_from_config(
    path: str | os.PathLike[str],
    overrides: Mapping[str, Any],
    brand: bool = False,
    ask_apiv3_key: AskKey | None = None,
) -> dict[str, Any]:
    """Keyword arguments from a JSON config file: the sandbox's config.json, or one with merchant keys only.

    Its keys are the setting names (``mchid``, ``serial``, ``private_key``, ``pub_key_id``/``pub_key``,
    ``platform_keys``, ``apiv3_key``, ``apiv2_key``, ``base_url``; the sandbox's ``platform_serial`` and
    ``platform_certificate``, and ``brand_id``/``brand_serial``/``brand_private_key`` read with
    ``brand=True``). Key paths are relative to the file's folder.
    """
    config = Path(path)
    try:
        raw = json.loads(config.read_text("utf-8"))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigurationError(f"cannot read the config file {str(config)!r}: {reason}") from None
    except ValueError as exc:  # a JSONDecodeError or a UnicodeDecodeError
        raise ConfigurationError(f"the config file {str(config)!r} {not_json(exc)}") from None
    if not isinstance(raw, dict):
        raise ConfigurationError(f"the config file {str(config)!r} must hold a JSON object of settings")
    folder = config.resolve().parent
    identity = "brand_id" if brand else "mchid"
    keys = {
        identity: identity,
        "serial": "brand_serial" if brand else "serial",
        "private_key": "brand_private_key" if brand else "private_key",
        "public_key_id": "pub_key_id",
        "public_key": "pub_key",
        "platform_keys": "platform_keys",
        "apiv3_key": "apiv3_key",
        "apiv2_key": "apiv2_key",
        "base_url": "base_url",
    }

    def take(key: str, *, file: bool = False) -> str | None:
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"{config.name}: {key} must be a string")
        return _relative(value, folder) if file and value is not None else value

    files = ("private_key", "public_key")
    values = {field: take(key, file=field in files) for field, key in keys.items() if field != "platform_keys"}
    platform: dict[str, str] = {}
    listed = raw.get("platform_keys")
    if listed is not None:
        if not isinstance(listed, dict) or not all(isinstance(v, str) for v in listed.values()):
            raise ConfigurationError(f"{config.name}: platform_keys must be an object of {{serial: key}} strings")
        platform.update({str(k): _relative(v, folder) for k, v in listed.items()})
    certificate = take("platform_certificate", file=True)
    if not brand and certificate is not None and isinstance(raw.get("platform_serial"), str):
        platform[raw["platform_serial"]] = certificate  # the sandbox's config.json
    if platform:
        values["platform_keys"] = json.dumps(platform)

    def label(field: str) -> str:
        return f"{config.name}: {keys.get(field, field)}"

    # A misspelt key is the most useful hint when a setting seems missing, as for the WXPAY_* variables.
    stray = sorted(str(key) for key in raw if key not in _CONFIG_FILE_KEYS)
    hint = f" (in the file but unknown here: {', '.join(stray)})" if stray else ""
    return _options(_Source({k: v for k, v in values.items() if v is not None}, label, hint), overrides, ask_apiv3_key)


# Every key a config file may hold: the settings read above, and the rest of the sandbox's config.json.
_CONFIG_FILE_KEYS = frozenset(
    {
        "mchid", "serial", "private_key", "brand_id", "brand_serial", "brand_private_key", "pub_key_id", "pub_key",
        "platform_keys", "platform_serial", "platform_certificate", "apiv3_key", "apiv2_key", "base_url",
        "https_base_url", "client_certificate", "ca_certificate",
    }
)


def _relative(value: str, folder: Path) -> str:
    # A path in the file is relative to the file, wherever the command runs; key text is left alone.
    text = value.strip()
    if text.startswith(("-----BEGIN", "file://")) or "\n" in text or Path(text).is_absolute():
        return value
    candidate = folder / text
    return str(candidate) if candidate.is_file() else value


def _options(source: _Source, overrides: Mapping[str, Any], ask_apiv3_key: AskKey | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if "mchid" not in overrides and "brand_id" not in overrides:
        mchid, brand_id = source.get("mchid"), source.get("brand_id")
        if (mchid is None) == (brand_id is None):
            either = f"{source.label('mchid')} (merchant API) or {source.label('brand_id')} (brand API)"
            if mchid is None:
                raise ConfigurationError(f"Set {either}{source.hint}")
            raise ConfigurationError(f"Set one of {either}, not both")
        options["mchid" if mchid is not None else "brand_id"] = (mchid or brand_id or "").strip()
    brand = overrides.get("brand_id", options.get("brand_id")) is not None
    if "serial" not in overrides:
        options["serial"] = source.need("serial", "the API certificate serial number").strip()
    if "private_key" not in overrides:
        text = source.need("private_key", "the private key (PEM text, one-line base64, a path or a file:// URL)")
        passphrase = overrides.get("passphrase")
        with_cert = overrides.get("client_cert") is not None  # a .p12's passphrase, the key file plain
        options["private_key"] = source.check(
            "private_key", "private_key", lambda: load_merchant_key(text, passphrase, with_cert)
        )
    if "platform_keys" not in overrides:
        keys = _platform_keys(source)
        if keys:
            options["platform_keys"] = keys
    apiv3_key, apiv2_key = source.get("apiv3_key"), source.get("apiv2_key")
    if "apiv3_key" not in overrides and apiv3_key is not None:
        options["apiv3_key"] = source.check("apiv3_key", "apiv3_key", lambda: check_apiv3_key(apiv3_key))
    if "apiv2_key" not in overrides and apiv2_key is not None:
        options["apiv2_key"] = source.check("apiv2_key", "apiv2_key", lambda: check_apiv2_key(apiv2_key))
    url = source.get("base_url")
    if "base_url" not in overrides and url is not None:
        source.check("base_url", "base_url", lambda: parse_base_url(url.strip()))
        options["base_url"] = url.strip()
    for field in ("mchid", "brand_id", "serial"):  # named by their variable here, not by the parameter
        if field in options:
            value = options[field]
            check = partial(check_serial, value) if field == "serial" else partial(check_id, field, value)
            source.check(field, field, check)
    merged = {**options, **overrides}
    _check_verifiable(source, merged, brand, ask_apiv3_key)
    return merged


def _platform_keys(source: _Source) -> dict[str, rsa.RSAPublicKey]:
    keys: dict[str, rsa.RSAPublicKey] = {}
    key_id, key = source.get("public_key_id"), source.get("public_key")
    if (key_id is None) != (key is None):
        pair = f"{source.label('public_key_id')} and {source.label('public_key')}"
        raise ConfigurationError(f"Set both {pair} (WeChat Pay's PUB_KEY_ID_... and its pub_key.pem), or neither")
    if key_id is not None and key is not None:
        if not key_id.strip().startswith(PUB_KEY_ID_PREFIX):  # and so never a secret set in the wrong variable
            raise ConfigurationError(
                f"{source.label('public_key_id')} must be WeChat Pay's PUB_KEY_ID_...; name a platform "
                f"certificate in {source.label('platform_keys')} instead"
            )
        keys[key_id.strip()] = _load_public(source, "public_key", key_id.strip(), key)
    listed = source.get("platform_keys")
    if listed is not None:
        shape = 'a JSON object {"serial": "key as PEM, base64, a path or a file:// URL", ...}'
        try:
            parsed = json.loads(listed)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise ConfigurationError(f"{source.label('platform_keys')} must be {shape}")
        for n, (serial, text) in enumerate(parsed.items(), 1):
            keys[serial] = _load_public(source, "platform_keys", serial, text, f" (entry {n} of {len(parsed)})")
    return keys


def _load_public(source: _Source, field: str, serial: str, text: str, where: str = "") -> rsa.RSAPublicKey:
    # The key store's own checks (a certificate under its serial, a PUB_KEY_ID holding a public key),
    # reported under the variable's name; the serial is not repeated either. The loaded key is what the
    # client gets, so it is not parsed a second time.
    try:
        return KeyStore.load({serial: text})[serial]
    except ConfigurationError as exc:
        message = str(exc).split(": ", 1)[-1]
    raise ConfigurationError(f"{source.label(field)}{where}: {message}")


def _check_verifiable(source: _Source, options: dict[str, Any], brand: bool, ask_apiv3_key: AskKey | None) -> None:
    keys = options.get("platform_keys")
    pair = f"{source.label('public_key_id')} and {source.label('public_key')}"
    if brand and not any(str(k).startswith(PUB_KEY_ID_PREFIX) for k in keys or {}):
        raise ConfigurationError(f"The brand API verifies with WeChat Pay public keys only: set {pair}")
    if not keys and options.get("apiv3_key") is None:
        if ask_apiv3_key is not None:
            options["apiv3_key"] = ask_apiv3_key()  # checked by the client, as any apiv3_key= is
            return
        raise ConfigurationError(
            f"Answers cannot be verified without keys: set {pair} (or {source.label('platform_keys')}), "
            f"or {source.label('apiv3_key')} to download platform certificates automatically{source.hint}"
        )

