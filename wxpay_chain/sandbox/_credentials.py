"""What a client needs to talk to a running sandbox, and the config.json that carries it to other processes."""

from __future__ import annotations

import json
import os
import ssl
from pathlib import Path
from typing import Any

import attrs

from ._keys import KeySet, write_file
from ._tls import apiv2_key_of, tls_for

CONFIG_KEYS = (
    "base_url",
    "mchid",
    "serial",
    "private_key",
    "brand_id",
    "brand_serial",
    "brand_private_key",
    "pub_key_id",
    "pub_key",
    "platform_serial",
    "platform_certificate",
    "apiv3_key",
    "https_base_url",
    "apiv2_key",
    "client_certificate",
    "ca_certificate",
)

_PEM_FILES = {
    "private_key": "apiclient_key.pem",
    "brand_private_key": "brand_apiclient_key.pem",
    "pub_key": "pub_key.pem",
    "platform_certificate": "platform_cert.pem",
    "client_certificate": "apiclient_cert.pem",
    "ca_certificate": "sandbox_ca.pem",
}


@attrs.frozen
class SandboxCredentials:
    """Merchant, brand and platform credentials of one sandbox (PEM strings; secrets hidden from repr)."""

    base_url: str
    mchid: str
    serial: str
    private_key: str = attrs.field(repr=False)
    brand_id: str
    brand_serial: str
    brand_private_key: str = attrs.field(repr=False)
    pub_key_id: str
    pub_key: str
    platform_serial: str
    platform_certificate: str
    apiv3_key: str = attrs.field(repr=False)
    # APIv2: the HTTPS URL (empty until the sandbox runs), the APIv2 key, apiclient_cert.pem, the CA.
    https_base_url: str = ""
    apiv2_key: str = attrs.field(default="", repr=False)
    client_certificate: str = ""
    ca_certificate: str = ""

    @classmethod
    def from_keys(cls, keys: KeySet, base_url: str, https_base_url: str = "") -> SandboxCredentials:
        tls = tls_for(keys)
        return cls(
            base_url=base_url,
            mchid=keys.mchid,
            serial=keys.merchant_serial,
            private_key=keys.merchant_private_key,
            brand_id=keys.brand_id,
            brand_serial=keys.brand_serial,
            brand_private_key=keys.brand_private_key,
            pub_key_id=keys.pub_key_id,
            pub_key=keys.platform_public_key,
            platform_serial=keys.platform_serial,
            platform_certificate=keys.platform_certificate,
            apiv3_key=keys.apiv3_key,
            https_base_url=https_base_url,
            apiv2_key=apiv2_key_of(keys),
            client_certificate=tls.client_certificate,
            ca_certificate=tls.ca_certificate,
        )

    def merchant_options(self) -> dict[str, Any]:
        """Keyword arguments for a merchant ``AsyncClient``/``Client``, verifying in both modes and
        decrypting notifications (the APIv3 key; the platform keys given keep it from downloading any)."""
        return {
            "mchid": self.mchid,
            "serial": self.serial,
            "private_key": self.private_key,
            "platform_keys": {self.pub_key_id: self.pub_key, self.platform_serial: self.platform_certificate},
            "apiv3_key": self.apiv3_key,
            "base_url": self.base_url,
            **({"apiv2_key": self.apiv2_key} if self.apiv2_key else {}),
        }

    def tls_options(self) -> dict[str, Any]:
        """``base_url``, ``ssl_context`` and ``client_cert`` for the sandbox's HTTPS listener (APIv2 security
        calls present apiclient_cert.pem): ``sb.client(**sb.credentials.tls_options())``."""
        if not self.https_base_url:
            raise RuntimeError("the sandbox is not running, so it has no HTTPS URL yet")
        trust = ssl.create_default_context(cadata=self.ca_certificate)
        return {"base_url": self.https_base_url, "ssl_context": trust, "client_cert": self.client_certificate}

    def brand_options(self) -> dict[str, Any]:
        """Keyword arguments for a brand client (the brand API verifies with the public key only)."""
        return {
            "brand_id": self.brand_id,
            "serial": self.brand_serial,
            "private_key": self.brand_private_key,
            "platform_keys": {self.pub_key_id: self.pub_key},
            "base_url": self.base_url,
        }

    def write_config(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``config.json`` (keys and certificate as paths of PEM files beside it); returns its path."""
        folder = Path(directory).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        values = attrs.asdict(self)
        for field, filename in _PEM_FILES.items():
            pem_path = folder / filename
            write_file(pem_path, values[field], private=field.endswith("private_key"))
            values[field] = str(pem_path)
        config = folder / "config.json"
        # The APIv3 key is in here, so the file is owner-only like the private keys.
        write_file(config, json.dumps({k: values[k] for k in CONFIG_KEYS}, indent=2) + "\n", private=True)
        return config

    @classmethod
    def read_config(cls, path: str | os.PathLike[str]) -> SandboxCredentials:
        """Load what :meth:`write_config` wrote (PEM file paths are read, relative to the config's folder)."""
        config = Path(path).resolve()
        values = json.loads(config.read_text("utf-8"))
        for field in _PEM_FILES:
            text = str(values.get(field, ""))
            if not text:  # a config written before APIv2 (issue 18)
                continue
            if not text.startswith("-----BEGIN"):
                values[field] = (config.parent / text).read_text("ascii")
        return cls(**{key: values[key] for key in CONFIG_KEYS if key in values})
