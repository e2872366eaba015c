"""A secret holding text UTF-8 cannot encode (a lone surrogate: what Python makes of a byte the environment
could not decode) is a ConfigurationError that never quotes it. The UnicodeEncodeError it raised before held
the whole secret in its repr, and an application logging the error with %r printed it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, ConfigurationError, InvalidRequestError
from wxpay_chain._proxy import parse_proxy

from .conftest import MCHID, PUB_KEY_ID, SERIAL
from .wire import pem_public

APIV3_KEY = "Zq8Xv3Lm0Rt5Ws2Yp7Kd4Hg9Bn6Jc1F\udcff"  # 31 letters and one undecodable byte
PASSPHRASE = "s3cret-Passphrase\udcff"


def shown(error: BaseException) -> str:
    """Everything of an error a log line or tracker may print, its chain included."""
    parts, seen = [], error
    while seen is not None:
        parts += [str(seen), repr(seen), repr(vars(seen)) if hasattr(seen, "__dict__") else ""]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


def test_an_apiv3_key_with_an_undecodable_byte(make_client: Callable[..., AsyncClient]) -> None:
    with pytest.raises(ConfigurationError, match="apiv3_key holds text UTF-8 cannot encode") as caught:
        make_client(apiv3_key=APIV3_KEY)
    assert APIV3_KEY[:20] not in shown(caught.value) and caught.value.__context__ is None


def test_from_env_names_the_variable_and_not_its_value(merchant_key: rsa.RSAPrivateKey) -> None:
    pem = merchant_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    environ = {
        "WXPAY_MCHID": MCHID,
        "WXPAY_SERIAL": SERIAL,
        "WXPAY_PRIVATE_KEY": pem,
        "WXPAY_PUBLIC_KEY_ID": PUB_KEY_ID,
        "WXPAY_PUBLIC_KEY": pem_public(merchant_key),
        "WXPAY_APIV3_KEY": APIV3_KEY,
    }
    with pytest.raises(ConfigurationError, match="WXPAY_APIV3_KEY") as caught:
        AsyncClient.from_env(environ)
    assert APIV3_KEY[:20] not in shown(caught.value)


def test_a_key_passphrase_with_an_undecodable_byte(
    make_client: Callable[..., AsyncClient], merchant_key: rsa.RSAPrivateKey
) -> None:
    encrypted = merchant_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret-Passphrase"),
    )
    with pytest.raises(ConfigurationError, match="passphrase holds text UTF-8 cannot encode") as caught:
        make_client(private_key=encrypted, passphrase=PASSPHRASE)
    assert "s3cret-Passphrase" not in shown(caught.value)


async def test_encrypting_text_utf8_cannot_encode_says_so(make_client: Callable[..., AsyncClient]) -> None:
    async with make_client() as client:
        with pytest.raises(InvalidRequestError, match="not valid text") as caught:
            client.encrypt("张三\udcff")
    assert "too long" not in str(caught.value) and caught.value.__context__ is None


def test_a_proxy_password_the_url_parser_chokes_on_rides_on_no_error() -> None:
    # An unescaped '#' ends the authority early: the port the parser then reads is part of the password.
    with pytest.raises(ConfigurationError, match="not a valid URL") as caught:
        parse_proxy("http://egress:Xy7#rest@proxy.internal:3128")
    assert "Xy7" not in shown(caught.value) and caught.value.__context__ is None
