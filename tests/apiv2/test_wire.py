"""APIv2 calls against a 127.0.0.1 HTTPS server that checks client certificates and recomputes the sign."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from wxpay_chain import (
    ApiError,
    AsyncClient,
    Attempt,
    Client,
    ConfigurationError,
    InvalidRequestError,
    RetryPolicy,
    SignatureError,
    TLSError,
    TransportError,
)
from wxpay_chain.models import SendCouponRequest, SendCouponResult

from .peer import APIV2_KEY, MCHID, Pki, V2Peer, hand_sign, pem, signed_success

COUPON = {
    "coupon_stock_id": "1757",
    "openid_count": 1,
    "partner_trade_no": "1000009820141203515766",
    "openid": "onqOjjrXT-776SpHnfexGm1_P7iE",
    "appid": "wx5edab3bdfba3dc1c",
}
REDPACK = {
    "mch_billno": "1",
    "wxappid": "wx5edab3bdfba3dc1c",
    "send_name": "shop",
    "re_openid": "onqOjjrXT-776SpHnfexGm1_P7iE",
    "total_amount": 100,
    "total_num": 1,
    "wishing": "thanks",
    "client_ip": "127.0.0.1",
    "act_name": "launch",
    "remark": "-",
}


async def test_a_security_call_presents_the_merchant_certificate_and_a_sign_the_server_recomputes(
    make_client: Callable[..., AsyncClient], v2peer: V2Peer, merchant_key: rsa.RSAPrivateKey
) -> None:
    async with make_client(nonce_factory=lambda: "5K8264ILTKCH16CQ2502SI8ZNMTM67VS") as client:
        response = await client.v2.mmpaymkttransfers.send_coupon.post(xml={**COUPON, "device_info": ""}, security=True)
    seen = v2peer.seen[0]
    assert seen.path == "/mmpaymkttransfers/send_coupon"
    assert seen.headers["Content-Type"] == "text/xml" and "Authorization" not in seen.headers
    assert seen.sign_ok and len(seen.fields["sign"]) == 32  # MD5 by default; device_info="" left out
    assert seen.fields["mch_id"] == MCHID and seen.fields["nonce_str"] == "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
    assert seen.body.startswith(b"<xml>") and seen.body.endswith(b"</xml>")
    assert seen.peer_cn == MCHID and seen.peer_public is not None
    assert seen.peer_public.public_numbers() == merchant_key.public_key().public_numbers()
    assert response.xml()["return_code"] == "SUCCESS"


async def test_hmac_when_asked_mchid_kept_and_no_certificate_without_security(
    make_client: Callable[..., AsyncClient], v2peer: V2Peer
) -> None:
    async with make_client() as client:
        await client.v2.mmpaymkttransfers.query_coupon_stock.post(
            xml={"coupon_stock_id": "1757", "appid": "wx1", "sign_type": "HMAC-SHA256", "mchid": "1230000109"}
        )
    seen = v2peer.seen[0]
    assert seen.sign_ok and len(seen.fields["sign"]) == 64
    assert "mch_id" not in seen.fields and seen.fields["mchid"] == "1230000109"
    assert seen.peer_cn is None  # security=False: the plain connection presents nothing


@pytest.mark.parametrize("form", ["path", "file_url", "pem_bytes", "p12", "p12_path"])
async def test_every_form_of_client_cert_is_presented(
    form: str,
    make_client: Callable[..., AsyncClient],
    v2peer: V2Peer,
    pki: Pki,
    merchant_key: rsa.RSAPrivateKey,
    tmp_path: Path,
) -> None:
    cert_path = tmp_path / "apiclient_cert.pem"
    cert_path.write_bytes(pem(pki.client))
    p12 = pkcs12.serialize_key_and_certificates(
        b"apiclient", merchant_key, pki.client, None, serialization.BestAvailableEncryption(MCHID.encode())
    )
    (tmp_path / "apiclient_cert.p12").write_bytes(p12)
    source: Any = {
        "path": str(cert_path),
        "file_url": cert_path.as_uri(),
        "pem_bytes": pem(pki.client),
        "p12": p12,
        "p12_path": tmp_path / "apiclient_cert.p12",
    }[form]
    # The passphrase unlocks the .p12 (WeChat Pay sets it to the mchid); apiclient_key.pem stays plain.
    extra = {"passphrase": MCHID} if form.startswith("p12") else {}
    async with make_client(client_cert=source, **extra) as client:
        await client.v2.mmpaymkttransfers.send_coupon.post(xml=COUPON, security=True)
    assert v2peer.seen[0].peer_cn == MCHID


def test_a_security_connection_keeps_the_trust_settings_of_ssl_context(
    pki: Pki, merchant_key: rsa.RSAPrivateKey
) -> None:
    import ssl

    from wxpay_chain._tls import load_client_certificate, security_context

    trust = pki.trust()
    trust.verify_flags |= ssl.VERIFY_X509_STRICT
    trust.options |= ssl.OP_NO_TICKET
    trust.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    trust.minimum_version = ssl.TLSVersion.TLSv1_2
    made = security_context(load_client_certificate(pem(pki.client), merchant_key, None), trust)
    assert made.verify_flags == trust.verify_flags and made.options == trust.options
    assert made.minimum_version == trust.minimum_version and made.check_hostname
    assert made.verify_mode == ssl.CERT_REQUIRED
    below_13 = [c["name"] for c in made.get_ciphers() if c["protocol"] != "TLSv1.3"]
    assert below_13 == ["ECDHE-RSA-AES128-GCM-SHA256"]
    assert made.get_ca_certs(binary_form=True) == trust.get_ca_certs(binary_form=True)


def public_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_from_env_takes_the_p12_passphrase_beside_a_plain_key_file(
    options: dict[str, Any], pki: Pki, merchant_key: rsa.RSAPrivateKey
) -> None:
    p12 = pkcs12.serialize_key_and_certificates(
        b"apiclient", merchant_key, pki.client, None, serialization.BestAvailableEncryption(MCHID.encode())
    )
    env = {
        "WXPAY_MCHID": MCHID,
        "WXPAY_SERIAL": options["serial"],
        "WXPAY_PRIVATE_KEY": options["private_key"],  # apiclient_key.pem, not encrypted
        "WXPAY_PLATFORM_KEYS": json.dumps({k: public_pem(v) for k, v in options["platform_keys"].items()}),
    }
    client = AsyncClient.from_env(env, client_cert=p12, passphrase=MCHID)  # as the constructor takes them
    assert client.sign_jsapi(appid="wx1", prepay_id="p")["signType"] == "RSA"
    with pytest.raises(ConfigurationError, match="WXPAY_PRIVATE_KEY"):  # without a certificate: a plain key
        AsyncClient.from_env(env, passphrase=MCHID)


def test_a_wrong_certificate_or_passphrase_is_a_configuration_error(
    options: dict[str, Any], pki: Pki, merchant_key: rsa.RSAPrivateKey
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    foreign = Pki.make(other).client
    with pytest.raises(ConfigurationError, match="does not belong to the private key"):
        AsyncClient(**{**options, "client_cert": pem(foreign)})
    p12 = pkcs12.serialize_key_and_certificates(
        b"x", merchant_key, pki.client, None, serialization.BestAvailableEncryption(b"right-passphrase")
    )
    with pytest.raises(ConfigurationError, match="passphrase") as caught:
        AsyncClient(**{**options, "client_cert": p12, "passphrase": "wrong-passphrase"})
    assert "wrong-passphrase" not in str(caught.value) and "right-passphrase" not in str(caught.value)
    with pytest.raises(ConfigurationError, match="client_cert"):
        AsyncClient(**{**options, "client_cert": options["private_key"]})
    # A .p12 of another key and its certificate: TLS would present that one while requests are signed
    # with the merchant key.
    p12_foreign = pkcs12.serialize_key_and_certificates(b"x", other, foreign, None, serialization.NoEncryption())
    with pytest.raises(ConfigurationError, match="does not belong to the private key"):
        AsyncClient(**{**options, "client_cert": p12_foreign})


async def test_a_security_call_without_a_certificate_fails_before_anything_is_sent(
    make_client: Callable[..., AsyncClient], v2peer: V2Peer
) -> None:
    async with make_client(client_cert=None) as client:
        with pytest.raises(ConfigurationError, match="client_cert="):
            await client.v2.mmpaymkttransfers.send_coupon.post(xml=COUPON, security=True)
    assert v2peer.seen == []


async def test_ssl_context_sets_the_trust_of_every_connection(
    options: dict[str, Any], https_url: str, v2peer: V2Peer
) -> None:
    async with AsyncClient(**options, base_url=https_url, retry=1) as client:  # the system CAs only
        with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.v2.mmpaymkttransfers.send_coupon.post(xml=COUPON, security=True)
        with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.v2.mmpaymkttransfers.query_coupon_stock.post(xml={"coupon_stock_id": "1", "appid": "wx"})
    assert v2peer.seen == []


async def test_a_failed_handshake_is_a_tls_error_tried_once_even_with_retries_allowed(
    options: dict[str, Any], https_url: str, v2peer: V2Peer
) -> None:
    attempts: list[Attempt] = []
    # An APIv3 call would be retried on a connection failure; a handshake that failed fails again.
    async with AsyncClient(**options, base_url=https_url, retry=3, on_response=attempts.append) as client:
        with pytest.raises(TLSError, match="CERTIFICATE_VERIFY_FAILED") as caught:
            await client.v3.marketing.favor.stocks.get(query={"offset": 0, "limit": 10, "stock_creator_mchid": "1"})
    assert len(attempts) == 1 and caught.value.attempts == ("#1 TLSError",)
    assert v2peer.seen == []


async def test_answers_are_checked_fail_is_an_api_error_and_a_forged_sign_a_signature_error(
    make_client: Callable[..., AsyncClient], v2peer: V2Peer
) -> None:
    replies = iter(
        [
            {"return_code": "FAIL", "return_msg": "签名错误"},
            signed_success({}, result_code="FAIL", err_code="NOT_ENOUGH", err_code_des="批次已发完"),
            {**signed_success({}, coupon_id="1"), "coupon_id": "2"},  # changed after signing
            {"return_code": "SUCCESS", "result_code": "SUCCESS", "sign": "0" * 31},
            {"return_code": "SUCCESS", "result_code": "SUCCESS", "coupon_id": "9"},  # send_coupon answers are signed
            {"return_code": "SUCCESS", "result_code": "SUCCESS", "send_listid": "9"},  # red packet answers are not
        ]
    )
    v2peer.answer = lambda fields: next(replies)
    async with make_client() as client:
        call = client.v2.mmpaymkttransfers.send_coupon
        with pytest.raises(ApiError) as failed:
            await call.post(xml=COUPON, security=True)
        assert (failed.value.status, failed.value.code, failed.value.message) == (200, "FAIL", "签名错误")
        with pytest.raises(ApiError) as business:
            await call.post(xml=COUPON, security=True)
        assert (business.value.code, business.value.message) == ("NOT_ENOUGH", "批次已发完")
        assert business.value.detail["result_code"] == "FAIL"
        for _ in range(2):
            with pytest.raises(SignatureError, match="sign does not match"):
                await call.post(xml=COUPON, security=True)
        with pytest.raises(SignatureError, match="carries no sign"):
            await call.post(xml=COUPON, security=True)
        redpack = await client.v2.mmpaymkttransfers.sendredpack.post(xml=REDPACK, security=True)
        assert redpack.xml()["send_listid"] == "9"
    assert len(v2peer.seen) == 6  # none of them retried


@pytest.mark.parametrize("failure", ["reset", "503", "timeout"])
async def test_a_v2_call_that_may_have_arrived_is_never_sent_again(
    failure: str, make_client: Callable[..., AsyncClient], v2peer: V2Peer
) -> None:
    never = asyncio.Event()

    async def answer(fields: dict[str, str]) -> web.StreamResponse:
        if failure == "503":
            return web.Response(status=503, text="busy")
        if failure == "timeout":
            await never.wait()  # no answer: the client's timeout ends the call
        raise ConnectionResetError  # aiohttp drops the connection without an answer

    v2peer.answer = answer
    # Even a policy that retries 503s and timeouts sends an APIv2 call once: it might send a second packet.
    async with make_client(retry=RetryPolicy(attempts=5, retry_timeouts=True, backoff=0)) as client:
        with pytest.raises((TransportError, ApiError)):
            await client.v2.mmpaymkttransfers.sendredpack.post(xml=REDPACK, security=True, timeout=0.5)
    never.set()  # let the held handler finish, so that the server stops at once
    assert len(v2peer.seen) == 1


async def test_a_v2_call_that_never_connected_is_tried_again(make_client: Callable[..., AsyncClient]) -> None:
    async with make_client(base_url="https://127.0.0.1:1/", retry=2) as client:
        with pytest.raises(TransportError) as caught:
            await client.v2.mmpaymkttransfers.sendredpack.post(xml=REDPACK, security=True)
    assert caught.value.connect_failed and len(caught.value.attempts) == 2


async def test_typed_models_go_in_as_xml_and_come_out_of_parsed(
    make_client: Callable[..., AsyncClient], v2peer: V2Peer
) -> None:
    v2peer.answer = lambda fields: signed_success(fields, coupon_id="1870", coupon_stock_id=fields["coupon_stock_id"])
    request = SendCouponRequest(coupon_stock_id="1757", openid_count=1, partner_trade_no="T1", openid="o1", appid="wx1")
    async with make_client() as client:
        response = await client.v2.mmpaymkttransfers.send_coupon.post(xml=request, security=True)
    assert v2peer.seen[0].fields["openid_count"] == "1" and "op_user_id" not in v2peer.seen[0].fields
    result = response.parsed
    assert isinstance(result, SendCouponResult) and (result.coupon_id, result.coupon_stock_id) == ("1870", "1757")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda c: c.v2.mmpaymkttransfers.send_coupon.get(xml=COUPON), "POST"),
        (lambda c: c.v2.mmpaymkttransfers.send_coupon.post(json=COUPON), "json"),
        (lambda c: c.v2.mmpaymkttransfers.send_coupon.post(), "xml"),
        (lambda c: c.v2.mmpaymkttransfers.send_coupon.post(xml=COUPON, security="yes"), "security"),
        (lambda c: c.v2.post(xml=COUPON), "endpoint"),
        (lambda c: c.v2.secapi.mch._addinstitutionsub_.post(xml=COUPON, security=True), "addinstitutionsub"),
        (lambda c: c.v2.secapi.mch._q_.post({"q": "..", "xml": COUPON}), "q"),  # a value is one segment, as in v3
    ],
)
async def test_bad_v2_calls_are_refused_before_sending(
    call: Callable[[AsyncClient], Any], match: str, make_client: Callable[..., AsyncClient], v2peer: V2Peer
) -> None:
    async with make_client() as client:
        with pytest.raises(InvalidRequestError, match=match):
            await call(client)
    assert v2peer.seen == []


@pytest.mark.parametrize("style", ["php", "chain"])
async def test_a_path_with_capitals_is_sent_in_the_php_docs_form_too(
    make_client: Callable[..., AsyncClient], v2peer: V2Peer, style: str
) -> None:
    # The PHP docs write POST /secapi/mch/addInstitutionsub as ->_addinstitutionsub_ with the segment as a value
    # (an attribute segment turns capitals into dashes); it is the same call as chain("v2/secapi/mch/...").
    fields = {"app_id": "wx8888888888888888", "sub_mch_id": "20000100"}
    async with make_client() as client:
        if style == "php":
            mch = client.v2.secapi.mch
            answer = await mch._queryinstitutionsub_.post(
                {"queryinstitutionsub": "queryInstitutionsub", "xml": fields, "security": True}
            )
        else:
            answer = await client.chain("v2/secapi/mch/queryInstitutionsub").post(xml=fields, security=True)
    seen = v2peer.seen[0]
    assert seen.path == "/secapi/mch/queryInstitutionsub" and seen.sign_ok and "queryinstitutionsub" not in seen.fields
    assert answer.request.template == "v2/secapi/mch/queryInstitutionsub"
    assert answer.xml()["return_code"] == "SUCCESS"


async def test_without_the_apiv2_key_a_v2_call_is_a_configuration_error(
    make_client: Callable[..., AsyncClient],
) -> None:
    async with make_client(apiv2_key=None) as client:
        with pytest.raises(ConfigurationError, match="apiv2_key="):
            await client.v2.mmpaymkttransfers.query_coupon_stock.post(xml={"coupon_stock_id": "1", "appid": "wx"})


async def test_the_blocking_client_sends_v2_calls_too(
    options: dict[str, Any], pki: Pki, https_url: str, v2peer: V2Peer
) -> None:
    def blocking_call() -> str:  # on a worker thread, while this loop serves the peer
        with Client(**options, base_url=https_url, ssl_context=pki.trust()) as blocking:
            return blocking.v2.mmpaymkttransfers.send_coupon.post(xml=COUPON, security=True).xml()["return_code"]

    assert await asyncio.to_thread(blocking_call) == "SUCCESS"
    assert v2peer.seen[0].peer_cn == MCHID and v2peer.seen[0].sign_ok
    assert hand_sign(v2peer.seen[0].fields, APIV2_KEY) == v2peer.seen[0].fields["sign"]
