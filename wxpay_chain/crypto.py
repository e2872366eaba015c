"""Public cryptographic helpers for WeChat Pay integrations.

AEAD_AES_256_GCM (notifications, platform certificates), RSA-OAEP with SHA-1 (sensitive fields), and
key loading in every form the client accepts.
"""

from __future__ import annotations

from ._crypto import (
    aes_gcm_decrypt,
    aes_gcm_encrypt,
    certificate_serial,
    load_private_key,
    load_public_key,
    make_nonce,
    rsa_oaep_decrypt,
    rsa_oaep_encrypt,
    rsa_sign,
    rsa_verify,
)

__all__ = [
    "aes_gcm_decrypt",
    "aes_gcm_encrypt",
    "certificate_serial",
    "load_private_key",
    "load_public_key",
    "make_nonce",
    "rsa_oaep_decrypt",
    "rsa_oaep_encrypt",
    "rsa_sign",
    "rsa_verify",
]
