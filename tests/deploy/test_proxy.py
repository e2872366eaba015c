"""proxy= and trust_env=: every request goes through a real forward proxy on 127.0.0.1 (certificate
downloads and TLS tunnels too), NO_PROXY is honoured, and the proxy's credentials are never shown."""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, Client, ConfigurationError, TransportError

from ..core.conftest import MCHID, SERIAL
from ..core.test_platform_keys import APIV3_KEY, CertPeer
from ..core.wire import WirePeer, pem_private
from ..tls import localhost_tls
from ._proxy import ForwardProxy

USER, PASSWORD = "wx-egress", "pä$$:w0rd/é"  # characters that must be percent-encoded in a URL
QUOTED = "http://wx-egress:p%C3%A4%24%24%3Aw0rd%2F%C3%A9@127.0.0.1:{port}"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def origin(base_url: str) -> str:
    return base_url.rstrip("/")


async def test_every_call_goes_through_the_proxy_with_its_credentials(
    make_client: Callable[..., AsyncClient], base_url: str, peer: WirePeer, proxy: ForwardProxy
) -> None:
    proxy.credentials = (USER, PASSWORD)
    async with make_client(base_url=base_url, proxy=QUOTED.format(port=proxy.port)) as client:
        assert (await client.v3.things._id_.get(id="a b", query={"x": "1"})).json() == {"ok": True}
        await client.v3.things.post(json={"name": "张三"})
    assert [(p.method, p.target) for p in proxy.seen] == [
        ("GET", f"{origin(base_url)}/v3/things/a%20b?x=1"),
        ("POST", f"{origin(base_url)}/v3/things"),
    ]
    assert {p.proxy_authorization for p in proxy.seen} == {basic(USER, PASSWORD)}
    # What the server received through the proxy is what was signed: the peer checks it from the raw request.
    assert [(s.raw_path, s.signature_ok) for s in peer.seen] == [("/v3/things/a%20b?x=1", True), ("/v3/things", True)]
    assert all("Proxy-Authorization" not in s.headers for s in peer.seen)  # for the proxy only


async def test_certificate_downloads_go_through_the_proxy_too(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, aiohttp_server: Any, proxy: ForwardProxy
) -> None:
    cert_peer = CertPeer(platform_key)
    server = await aiohttp_server(cert_peer.app(), host="127.0.0.1")
    base_url = str(server.make_url("/"))
    async with AsyncClient(
        mchid=MCHID,
        serial=SERIAL,
        private_key=pem_private(merchant_key),
        apiv3_key=APIV3_KEY,
        base_url=base_url,
        proxy=proxy.url,
    ) as client:
        await client.v3.things.get()  # automatic mode: the certificates are fetched before the first call
        await client.download_certificates()
    assert [p.target for p in proxy.seen] == [
        f"{origin(base_url)}/v3/certificates",
        f"{origin(base_url)}/v3/things",
        f"{origin(base_url)}/v3/certificates",
    ]
    assert cert_peer.downloads == 2


async def test_the_blocking_client_uses_the_proxy(
    make_client: Callable[..., AsyncClient],
    merchant_key: rsa.RSAPrivateKey,
    platform_key: rsa.RSAPrivateKey,
    base_url: str,
    proxy: ForwardProxy,
) -> None:
    from ..core.conftest import PUB_KEY_ID
    from ..core.wire import pem_public

    proxy.credentials = (USER, PASSWORD)
    with Client(
        mchid=MCHID,
        serial=SERIAL,
        private_key=pem_private(merchant_key),
        platform_keys={PUB_KEY_ID: pem_public(platform_key)},
        base_url=base_url,
        proxy=QUOTED.format(port=proxy.port),
    ) as client:
        # The blocking call waits on its own loop thread; this loop keeps serving the proxy and the peer.
        answer = await asyncio.to_thread(client.v3.things.get)
        copy = client.with_options(timeout=5)
        await asyncio.to_thread(copy.v3.things.get)
    assert answer.json() == {"ok": True}
    assert [p.target for p in proxy.seen] == [f"{origin(base_url)}/v3/things"] * 2
    assert {p.proxy_authorization for p in proxy.seen} == {basic(USER, PASSWORD)}


async def test_https_goes_through_a_connect_tunnel(
    make_client: Callable[..., AsyncClient], peer: WirePeer, proxy: ForwardProxy, aiohttp_server: Any
) -> None:
    server_tls, client_tls = localhost_tls()
    server = await aiohttp_server(peer.app(), host="127.0.0.1", ssl=server_tls)
    base_url = str(server.make_url("/"))
    assert base_url.startswith("https://")
    proxy.credentials = (USER, PASSWORD)
    async with make_client(base_url=base_url, proxy=QUOTED.format(port=proxy.port), ssl_context=client_tls) as client:
        await client.v3.things.get()
        await client.v3.things.get()
    # One tunnel, kept open and reused; the requests inside it are TLS the proxy cannot read.
    assert [(p.method, p.target) for p in proxy.seen] == [("CONNECT", f"127.0.0.1:{server.port}")]
    assert proxy.seen[0].proxy_authorization == basic(USER, PASSWORD)
    assert [(s.raw_path, s.signature_ok) for s in peer.seen] == [("/v3/things", True)] * 2


def clear_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


async def test_trust_env_reads_the_proxy_from_the_environment(
    make_client: Callable[..., AsyncClient],
    base_url: str,
    peer: WirePeer,
    proxy: ForwardProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clear_proxy_environment(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    async with make_client(base_url=base_url) as client:  # trust_env is off by default
        await client.v3.things.get()
    assert proxy.seen == [] and len(peer.seen) == 1
    async with make_client(base_url=base_url, trust_env=True) as client:
        await client.v3.things.get()
    assert [p.target for p in proxy.seen] == [f"{origin(base_url)}/v3/things"] and len(peer.seen) == 2


async def test_trust_env_honours_no_proxy(
    make_client: Callable[..., AsyncClient],
    base_url: str,
    peer: WirePeer,
    proxy: ForwardProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clear_proxy_environment(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    async with make_client(base_url=base_url, trust_env=True) as client:
        await client.v3.things.get()
    assert proxy.seen == [] and [s.signature_ok for s in peer.seen] == [True]


async def test_an_explicit_proxy_wins_over_the_environment(
    make_client: Callable[..., AsyncClient], base_url: str, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_proxy_environment(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    async with make_client(base_url=base_url, proxy=proxy.url, trust_env=True) as client:
        await client.v3.things.get()
    assert len(proxy.seen) == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_proxy_credentials_are_never_in_logs_reprs_or_errors(
    make_client: Callable[..., AsyncClient], base_url: str, proxy: ForwardProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    proxy.credentials = (USER, PASSWORD)
    quoted_password = QUOTED.split(":")[2].split("@")[0]
    shown: list[str] = []
    async with make_client(base_url=base_url, proxy=QUOTED.format(port=proxy.port), retry=1) as client:
        await client.v3.things.get()
        shown += [repr(client), repr(client._config), str(client._config)]
    # A wrong password: the proxy refuses (407), and the request went no further.
    async with make_client(base_url=base_url, proxy=proxy.url_with(USER, "wrong-" + quoted_password), retry=1) as c:
        with pytest.raises(TransportError, match=r"the proxy refused the request.*nothing was sent") as refused:
            await c.v3.things.post(json={"send_request_no": "1"})
        assert refused.value.connect_failed and "may have" not in str(refused.value)
        shown += [str(refused.value), repr(refused.value)]
    assert proxy.seen[-1].proxy_authorization == basic(USER, "wrong-" + PASSWORD)
    # A proxy that is not there: TransportError, after the retries.
    dead = QUOTED.replace("{port}", str(free_port()))
    async with make_client(base_url=base_url, proxy=dead, retry=2) as c:
        with pytest.raises(TransportError) as unreachable:
            await c.v3.things.get()
        shown += [str(unreachable.value), repr(unreachable.value), repr(unreachable.value.__cause__)]
    # A bad setting: the ConfigurationError does not quote it.
    for bad in (QUOTED.format(port=proxy.port).replace("http:", "socks5:"), QUOTED.format(port=proxy.port) + "/path"):
        with pytest.raises(ConfigurationError) as config_error:
            make_client(base_url=base_url, proxy=bad)
        shown.append(str(config_error.value))
    text = "\n".join([*shown, caplog.text, *(f"{r.getMessage()} {r.args!r}" for r in caplog.records)])
    for secret in (PASSWORD, quoted_password, "p%C3%A4", basic(USER, PASSWORD).split()[1]):
        assert secret not in text
    assert "***@127.0.0.1" in repr(client._config)  # what it shows instead


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (3128, "a URL str"),
        ("", "a URL str"),
        ("https://proxy:3128", "http://"),
        ("socks5://proxy:1080", "http://"),
        ("proxy.internal:3128", "http://"),
        ("http://proxy:3128/some/path", "only scheme"),
        ("http://proxy:3128?x=1", "only scheme"),
        ("http://:3128", "not a valid URL"),
        ("http:///", "no host"),
    ],
)
def test_a_bad_proxy_setting_is_a_configuration_error(
    make_client: Callable[..., AsyncClient], value: object, match: str
) -> None:
    with pytest.raises(ConfigurationError, match=match):
        make_client(proxy=value)


def test_trust_env_and_log_bodies_take_only_booleans(make_client: Callable[..., AsyncClient]) -> None:
    with pytest.raises(ConfigurationError, match="trust_env and log_bodies"):
        make_client(trust_env="yes")
    with pytest.raises(ConfigurationError, match="trust_env and log_bodies"):
        make_client(log_bodies=1)


async def test_trust_env_works_with_a_session_of_ones_own(
    make_client: Callable[..., AsyncClient],
    base_url: str,
    proxy: ForwardProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clear_proxy_environment(monkeypatch)
    monkeypatch.setenv("http_proxy", proxy.url)  # the lower-case spelling too
    # A session that does not trust the environment itself.
    async with aiohttp.ClientSession() as session, make_client(base_url=base_url, session=session, trust_env=True) as c:
        await c.v3.things.get()
    assert [p.target for p in proxy.seen] == [f"{origin(base_url)}/v3/things"]


async def test_credentials_from_the_environment_are_masked_and_a_bad_variable_is_named(
    make_client: Callable[..., AsyncClient],
    base_url: str,
    proxy: ForwardProxy,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    clear_proxy_environment(monkeypatch)
    proxy.credentials = (USER, PASSWORD)
    monkeypatch.setenv("HTTP_PROXY", QUOTED.format(port=proxy.port))
    async with make_client(base_url=base_url, trust_env=True) as client:
        await client.v3.things.get()
    assert proxy.seen[0].proxy_authorization == basic(USER, PASSWORD)
    assert PASSWORD not in caplog.text and "p%C3%A4" not in caplog.text
    monkeypatch.setenv("HTTP_PROXY", "socks5://u:hidden@127.0.0.1:1080")
    async with make_client(base_url=base_url, trust_env=True) as client:
        with pytest.raises(ConfigurationError, match="HTTP_PROXY must use http://") as info:
            await client.v3.things.get()
    assert "hidden" not in str(info.value)


def test_with_options_copies_keep_the_proxy(make_client: Callable[..., AsyncClient]) -> None:
    client = make_client(proxy="http://u:secret@proxy.internal:3128", trust_env=True)
    copy = client.with_options(timeout=3)
    assert copy._transport is client._transport  # one pool, one proxy setting
    assert copy._config.proxy == client._config.proxy and copy._config.trust_env
    assert repr(client._config.proxy) == "ProxySetting('http://***@proxy.internal:3128')"


def test_a_transport_of_ones_own_takes_no_proxy_or_tls_settings(make_client: Callable[..., AsyncClient]) -> None:
    import ssl

    from wxpay_chain import MemoryTransport

    tls = ssl.create_default_context()
    for setting in ({"proxy": "http://proxy.internal:3128"}, {"trust_env": True}, {"ssl_context": tls}):
        with pytest.raises(ConfigurationError, match="transport=") as refused:
            make_client(transport=MemoryTransport(lambda request: None), **setting)
        assert f"{next(iter(setting))}=" in str(refused.value)


async def test_trust_env_tunnels_https_through_https_proxy(
    make_client: Callable[..., AsyncClient],
    peer: WirePeer,
    proxy: ForwardProxy,
    aiohttp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server_tls, client_tls = localhost_tls()
    server = await aiohttp_server(peer.app(), host="127.0.0.1", ssl=server_tls)
    clear_proxy_environment(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    async with make_client(base_url=str(server.make_url("/")), trust_env=True, ssl_context=client_tls) as client:
        await client.v3.things.get()
    assert [(p.method, p.target) for p in proxy.seen] == [("CONNECT", f"127.0.0.1:{server.port}")]
    assert [s.signature_ok for s in peer.seen] == [True]


async def test_a_tunnel_the_proxy_refuses_sent_nothing_and_keeps_its_credentials_out_of_the_error(
    make_client: Callable[..., AsyncClient], peer: WirePeer, proxy: ForwardProxy, aiohttp_server: Any
) -> None:
    server_tls, client_tls = localhost_tls()
    server = await aiohttp_server(peer.app(), host="127.0.0.1", ssl=server_tls)
    proxy.credentials = (USER, PASSWORD)
    wrong = proxy.url_with(USER, "wrong")
    async with make_client(base_url=str(server.make_url("/")), proxy=wrong, ssl_context=client_tls, retry=2) as c:
        with pytest.raises(TransportError) as refused:
            await c.v3.marketing.things.post(json={"send_request_no": "1"})
    error = refused.value
    # A CONNECT answered 407 made no tunnel: nothing reached WeChat Pay, so a POST is not in doubt and is retried.
    assert error.connect_failed and "407" in str(error) and "nothing was sent" in str(error)
    assert "may have" not in str(error) and len(error.attempts) == 2
    assert [p.method for p in proxy.seen] == ["CONNECT", "CONNECT"] and peer.seen == []
    # aiohttp's error holds the CONNECT's Proxy-Authorization header: it is not chained.
    assert error.__cause__ is None and error.__context__ is None


async def test_behind_a_proxy_an_unreachable_primary_fails_over_to_the_backup(
    make_client: Callable[..., AsyncClient], peer: WirePeer, proxy: ForwardProxy, aiohttp_server: Any
) -> None:
    server_tls, client_tls = localhost_tls()
    server = await aiohttp_server(peer.app(), host="127.0.0.1", ssl=server_tls)
    dead = f"https://127.0.0.1:{free_port()}/"
    backup = str(server.make_url("/"))
    async with make_client(base_url=dead, backup_base_url=backup, proxy=proxy.url, ssl_context=client_tls) as c:
        assert (await c.v3.things.get()).json() == {"ok": True}
    # The proxy could not reach the primary (502 to its CONNECT): a connection failure, so the backup stands in.
    assert [p.target for p in proxy.seen] == [dead[8:-1], f"127.0.0.1:{server.port}"]


def test_a_proxy_without_its_scheme_never_shows_the_user_name(make_client: Callable[..., AsyncClient]) -> None:
    # As curl would take it: user:password@host:port. What URL parsing reads as the scheme is the user name.
    with pytest.raises(ConfigurationError, match="no http:// in front") as bad:
        make_client(proxy="egress:s3cret@proxy.internal:3128")
    assert "egress" not in str(bad.value) and "s3cret" not in str(bad.value)
