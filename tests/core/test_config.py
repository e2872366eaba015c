"""A client's configuration is checked once, frozen, and derived by with_options() (issue 16)."""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, ConfigurationError, RetryPolicy, Timeout
from wxpay_chain._config import ClientConfig
from wxpay_chain._crypto import make_nonce

from .conftest import MCHID, PUB_KEY_ID, SERIAL
from .wire import WirePeer, pem_private, pem_public

APIV3_KEY = "0123456789abcdefghijABCDEFGHIJ01"


def build(merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, **overrides: object) -> ClientConfig:
    options: dict[str, object] = {
        "mchid": MCHID,
        "brand_id": None,
        "serial": SERIAL,
        "private_key": pem_private(merchant_key),
        "platform_keys": {PUB_KEY_ID: pem_public(platform_key)},
        "base_url": "https://api.mch.weixin.qq.com/",
        "timeout": Timeout(),
        "passphrase": None,
        "pool_limit": 100,
        "clock": time.time,
        "nonce_factory": make_nonce,
        "retry": None,
        "backup_base_url": None,
        "offload_crypto": "auto",
        "on_request": None,
        "on_response": None,
        "apiv3_key": APIV3_KEY,
        "certificate_refresh": 3600.0,
        "max_response_bytes": 1024,
        **overrides,
    }
    return ClientConfig.build(**options)  # type: ignore[arg-type]


def test_the_config_is_frozen_and_shows_no_secret(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    config = build(merchant_key, platform_key)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.retry = RetryPolicy()  # type: ignore[misc]
    shown = repr(config)
    assert APIV3_KEY not in shown and "PRIVATE" not in shown and MCHID in shown


def test_derive_checks_what_it_changes_and_keeps_the_rest(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    config = build(merchant_key, platform_key)
    derived = config.derive(timeout=5, retry=2, base_url="http://127.0.0.1:8080/gw")
    assert derived.defaults.timeout == Timeout(total=5.0, connect=5.0) and derived.retry.attempts == 2
    assert derived.defaults.origin_prefix == ("http://127.0.0.1:8080", "/gw/")
    assert derived.signer is config.signer and derived.keys is config.keys and config.retry.attempts == 3
    for bad in ({"retry": True}, {"retry": "3"}, {"timeout": float("nan")}, {"base_url": "ftp://x/"}):
        with pytest.raises(ConfigurationError):
            config.derive(**bad)  # type: ignore[arg-type]


def test_with_options_goes_through_the_same_checks(make_client: Callable[..., AsyncClient]) -> None:
    client = make_client()
    for bad in ({"retry": True}, {"retry": 0}, {"timeout": -1}, {"base_url": "http://u:p@h/"}):
        with pytest.raises(ConfigurationError):
            client.with_options(**bad)


def test_with_options_none_means_what_it_means_to_the_constructor(make_client: Callable[..., AsyncClient]) -> None:
    # with_options(timeout=None) kept the 30 s default: None stood for "left out", so "no limit" was lost.
    def hook(request: object) -> None:
        pass

    client = make_client(timeout=7, retry=2, on_request=hook, on_response=hook)
    same = client.with_options()
    assert same._defaults.timeout == Timeout(total=7.0, connect=7.0) and same._config.retry.attempts == 2
    assert same._config.on_request is hook and same._config.on_response is hook
    cleared = client.with_options(timeout=None, retry=None, on_request=None, on_response=None)
    assert cleared._defaults.timeout == Timeout(total=None, connect=None)
    assert cleared._config.retry == RetryPolicy() and cleared._config.on_request is None
    assert cleared._config.on_response is None
    assert client._defaults.timeout == Timeout(total=7.0, connect=7.0) and client._config.on_request is hook
    for setting in ("base_url", "validate"):  # None is no value of theirs, here as to the constructor
        with pytest.raises(ConfigurationError, match=setting):
            client.with_options(**{setting: None})


def test_a_blocking_clients_copy_keeps_its_subclass(make_client: Callable[..., AsyncClient]) -> None:
    from wxpay_chain import Client

    class Shop(Client):
        def coupons(self) -> str:
            return "coupons"

    options = make_client()._config
    assert options is not None
    shop = Shop(
        mchid=MCHID, serial=SERIAL, private_key=options.signer.key, platform_keys=dict(options.keys), timeout=3
    )
    try:
        copy = shop.with_options(timeout=None)
        assert type(copy) is Shop and copy.coupons() == "coupons"
        assert copy._async._defaults.timeout == Timeout(total=None, connect=None)
    finally:
        shop.close()


# -- every setting of the wrong kind is a ConfigurationError naming it, at construction ------------------


@pytest.mark.parametrize("pool_limit", [-1, 0, "10", 2.5, float("nan"), [], True, None])
def test_pool_limit_is_a_whole_number_of_connections(
    make_client: Callable[..., AsyncClient], pool_limit: object
) -> None:
    # -1 built a client whose every call waited out its timeout; "10" failed at the first call with a TypeError.
    with pytest.raises(ConfigurationError, match="pool_limit must be a whole number of connections, 1 or more"):
        make_client(pool_limit=pool_limit)
    assert make_client(pool_limit=1)._config.pool_limit == 1


def test_a_passphrase_given_as_a_number_says_to_pass_it_as_text(make_client: Callable[..., AsyncClient]) -> None:
    # WeChat Pay locks the .p12 with the merchant id, so 1900000001 unquoted is the likely slip.
    for passphrase in (1900000001, bytearray(b"1900000001")):
        with pytest.raises(ConfigurationError, match=r'passphrase must be text.*"1900000001"') as raised:
            make_client(passphrase=passphrase)
        assert "1900000001" not in str(raised.value).replace('"1900000001"', "")  # the example only, not the value


@pytest.mark.parametrize("platform_keys", [PUB_KEY_ID, [(PUB_KEY_ID, "pem")], "", 0, [], False])
def test_platform_keys_that_are_not_a_mapping_are_refused(
    make_client: Callable[..., AsyncClient], platform_keys: object
) -> None:
    # A str or a list of pairs escaped as AttributeError; "", 0, [] and False passed for "no keys" and, with
    # apiv3_key, built a client that downloads certificates the caller never asked for.
    with pytest.raises(ConfigurationError, match=r"platform_keys must be a dict \{Wechatpay-Serial: key\}"):
        make_client(platform_keys=platform_keys, apiv3_key=APIV3_KEY)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("clock", "time"), ("clock", None), ("nonce_factory", None), ("nonce_factory", "abc"), ("on_request", 5),
     ("on_response", "log")],
)
def test_the_functions_a_client_calls_are_checked_when_it_is_built(
    make_client: Callable[..., AsyncClient], setting: str, value: object
) -> None:
    with pytest.raises(ConfigurationError, match=f"^{setting} must be a function"):
        make_client(**{setting: value})
    if setting.startswith("on_"):
        with pytest.raises(ConfigurationError, match=f"^{setting} must be a function"):
            make_client().with_options(**{setting: value})


def test_a_session_that_is_not_an_aiohttp_session_is_refused(make_client: Callable[..., AsyncClient]) -> None:
    with pytest.raises(ConfigurationError, match=r"session must be an aiohttp\.ClientSession, not str"):
        make_client(session="http://127.0.0.1/")


def test_the_blocking_client_checks_the_same_settings(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    from wxpay_chain import Client

    options = {"mchid": MCHID, "serial": SERIAL, "private_key": merchant_key}
    keys = {PUB_KEY_ID: pem_public(platform_key)}
    for bad, named in [
        ({"pool_limit": "10"}, "pool_limit"),
        ({"passphrase": 1900000001}, "passphrase"),
        ({"platform_keys": PUB_KEY_ID}, "platform_keys"),
        ({"clock": "time"}, "clock"),
        ({"nonce_factory": None}, "nonce_factory"),
        ({"on_request": 5}, "on_request"),
    ]:
        with pytest.raises(ConfigurationError, match=f"^{named} must be"):
            Client(**{"platform_keys": keys, **options, **bad})
    with Client(**options, platform_keys=keys) as client, pytest.raises(ConfigurationError, match=r"^on_response"):
        client.with_options(on_response=5)


@pytest.mark.parametrize("nonce", ["", "x" * 33, "a b", "a\r\nb", "中文", 12345, None, b"abc"])
async def test_a_nonce_that_is_not_1_to_32_letters_and_digits_is_never_signed_or_sent(
    make_client: Callable[..., AsyncClient], peer: WirePeer, nonce: object
) -> None:
    transport = peer.transport()
    async with make_client(transport=transport, nonce_factory=lambda: nonce) as client:
        with pytest.raises(ConfigurationError, match=r"nonce_factory returned .*: a nonce is 1-32 characters"):
            await client.v3.things.get()
        with pytest.raises(ConfigurationError, match="nonce_factory returned"):
            client.sign(client.prepare("GET", "v3/things"))
    assert peer.seen == []


async def test_a_nonce_factory_of_ones_own_within_the_rules_is_used_as_it_is(
    make_client: Callable[..., AsyncClient], peer: WirePeer
) -> None:
    async with make_client(transport=peer.transport(), nonce_factory=lambda: "Z" * 32) as client:
        await client.v3.things.get()
    assert peer.seen[-1].params["nonce_str"] == "Z" * 32 and peer.seen[-1].signature_ok


def test_the_default_nonce_factory_is_not_wrapped(make_client: Callable[..., AsyncClient]) -> None:
    # The check costs a factory of one's own only: every call of the default one stays make_nonce itself.
    assert make_client()._config.nonce_factory is make_nonce


def test_a_bad_backup_base_url_is_named_as_such(make_client: Callable[..., AsyncClient]) -> None:
    for url, why in [("http:// x/", "must be plain ASCII"), ("ftp://x/", "must be an http"), (5, "must be a str")]:
        with pytest.raises(ConfigurationError, match=f"^backup_base_url {why}"):
            make_client(backup_base_url=url)


def test_from_env_takes_the_constructors_parameters_with_their_types() -> None:
    # from_env(**overrides) was typed Any: from_env(timout=10) passed the type checkers. Its TypedDicts,
    # for type checkers only, must name every parameter the constructors take, with the same type.
    import ast
    import inspect
    from pathlib import Path

    import wxpay_chain._typed
    from wxpay_chain import Client

    stub = Path(wxpay_chain._typed.__file__).with_name("_options.pyi")
    fields: dict[str, dict[str, str]] = {}
    for node in ast.parse(stub.read_text("utf-8")).body:
        if isinstance(node, ast.ClassDef):
            bases = [base.id for base in node.bases if isinstance(base, ast.Name)]
            own = {
                n.target.id: ast.unparse(n.annotation)
                for n in node.body
                if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
            }
            fields[node.name] = {k: v for base in bases for k, v in fields.get(base, {}).items()} | own
    for cls, typed in ((AsyncClient, "AsyncClientOptions"), (Client, "ClientOptions")):
        parameters = inspect.signature(cls.__init__).parameters.values()
        expected = {p.name: p.annotation for p in parameters if p.name != "self" and p.annotation != "None"}
        assert fields[typed] == expected, cls.__name__
