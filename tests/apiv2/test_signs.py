"""The APIv2 sign against the published vectors, and the client-side signatures against independent
verifiers: paySign with the merchant public key, the plugin and H5 signs with a hand-written HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from wxpay_chain import AsyncClient, Client, ConfigurationError, InvalidRequestError
from wxpay_chain._apiv2 import fill_payload, sign, string_to_sign

from ..vectors import VECTORS
from .peer import APIV2_KEY, MCHID, hand_sign

V2 = VECTORS["apiv2_sign"]
NOW = 1_700_000_000


def hmac_hex(message: str, key: str = APIV2_KEY) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest().upper()


def test_the_published_apiv2_vectors_pass() -> None:
    params, key = V2["params"], V2["key"]
    assert string_to_sign(params, key) == V2["string_a"] + "&key=" + key
    assert sign(params, key) == V2["md5"]
    assert sign(params, key, "HMAC-SHA256") == V2["hmac_sha256"]
    # The test's own verifier agrees with the published values too, so it may judge the client.
    assert hand_sign(params, key) == V2["md5"] and hand_sign(params, key, "HMAC-SHA256") == V2["hmac_sha256"]


def test_empty_values_and_sign_are_left_out_of_the_signed_string() -> None:
    params = {**V2["params"], "detail": "", "sign": "WHATEVER"}
    assert sign(params, V2["key"]) == V2["md5"]


def test_fill_payload_adds_mch_id_and_the_given_nonce_and_signs_with_the_asked_type() -> None:
    fields = fill_payload({"appid": "wx1", "sign_type": "HMAC-SHA256"}, key=APIV2_KEY, mch_id=MCHID, nonce="n0")
    assert fields["mch_id"] == MCHID and fields["nonce_str"] == "n0"
    assert fields["sign"] == hand_sign(fields, APIV2_KEY, "HMAC-SHA256")
    given = fill_payload({"mchid": "other", "nonce_str": "mine"}, key=APIV2_KEY, mch_id=MCHID, nonce="n0")
    assert "mch_id" not in given and given["nonce_str"] == "mine" and given["sign"] == hand_sign(given, APIV2_KEY)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"a": {"nested": 1}}, "xml.a"),
        ({"a": True}, "xml.a"),
        ({"a": 1.5}, "xml.a"),
        ({"sign": "X"}, "xml.sign"),
        ({"bad name": "1"}, "xml.'bad name'"),
        ({"a": "\x01"}, "xml.a"),
        ({"desc": "line1\r\nline2"}, "xml.desc"),  # a parser reads it as "\n": the sign would not match
        ({"sign_type": "SHA1"}, "xml.sign_type"),
    ],
)
def test_fill_payload_names_a_field_it_cannot_send(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        fill_payload(payload, key=APIV2_KEY, mch_id=MCHID, nonce="n")
    assert caught.value.problems[0][0] == field


def _verify_rsa(public: rsa.RSAPublicKey, message: str, signature: str) -> None:
    public.verify(base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_sign_jsapi_paysign_verifies_with_the_merchant_public_key(
    options: dict[str, Any], merchant_key: rsa.RSAPrivateKey
) -> None:
    client = AsyncClient(**options, clock=lambda: NOW + 0.7, nonce_factory=lambda: "NONCE")
    fields = client.sign_jsapi(appid="wxSUBAPPID", prepay_id="wx2017033010242291fcfe0db70013231072")
    assert {k: v for k, v in fields.items() if k != "paySign"} == {
        "appId": "wxSUBAPPID",
        "timeStamp": str(NOW),
        "nonceStr": "NONCE",
        "package": "prepay_id=wx2017033010242291fcfe0db70013231072",
        "signType": "RSA",
    }
    message = f"wxSUBAPPID\n{NOW}\nNONCE\nprepay_id=wx2017033010242291fcfe0db70013231072\n"
    _verify_rsa(merchant_key.public_key(), message, fields["paySign"])


def test_sign_app_verifies_with_the_merchant_public_key(
    options: dict[str, Any], merchant_key: rsa.RSAPrivateKey
) -> None:
    client = AsyncClient(**options, clock=lambda: NOW, nonce_factory=lambda: "N2")
    fields = client.sign_app(appid="wxAPP", prepay_id="wx201410272009395522657a690389285100")
    assert fields["partnerid"] == MCHID and fields["package"] == "Sign=WXPay"
    assert (fields["timestamp"], fields["noncestr"], fields["prepayid"]) == (
        str(NOW),
        "N2",
        "wx201410272009395522657a690389285100",
    )
    _verify_rsa(merchant_key.public_key(), f"wxAPP\n{NOW}\nN2\nwx201410272009395522657a690389285100\n", fields["sign"])
    assert client.sign_app(appid="wxAPP", prepay_id="p", partnerid="1230000109")["partnerid"] == "1230000109"


def test_a_brand_client_makes_no_paysign(options: dict[str, Any]) -> None:
    brand = {**options, "mchid": None, "brand_id": "120344", "client_cert": None}
    for blocking in (False, True):
        client: Any = Client(**brand) if blocking else AsyncClient(**brand)
        for sign_it in (client.sign_jsapi, client.sign_app):
            with pytest.raises(ConfigurationError, match="signs with the merchant's key"):
                sign_it(appid="wx1", prepay_id="p")
        with pytest.raises(ConfigurationError, match="signs with the merchant's key"):
            client.sign_app(appid="wx1", prepay_id="p", partnerid="1230000109")
        if blocking:
            client.close()


@pytest.mark.parametrize("bad", [{"appid": ""}, {"prepay_id": "a\nb"}, {"appid": None}])
def test_payment_signs_refuse_bad_input(options: dict[str, Any], bad: dict[str, Any]) -> None:
    client = AsyncClient(**options)
    with pytest.raises(InvalidRequestError):
        client.sign_jsapi(**{"appid": "wx1", "prepay_id": "p", **bad})


def test_the_plugin_sign_matches_a_hand_written_hmac(options: dict[str, Any]) -> None:
    client = AsyncClient(**options)
    params = [
        {"stock_id": "1234567", "out_request_no": "abc123", "coupon_code": "asdsada"},
        {"stock_id": "2345678", "out_request_no": "123abc"},
    ]
    result = client.sign_coupon_plugin(send_coupon_params=params, send_coupon_merchant="10016226")
    # The flattening rule of the plugin's docs, written out for two coupons, one with a code.
    message = (
        "coupon_code0=asdsada&out_request_no0=abc123&out_request_no1=123abc&send_coupon_merchant=10016226"
        f"&stock_id0=1234567&stock_id1=2345678&key={APIV2_KEY}"
    )
    assert result == {"send_coupon_params": params, "send_coupon_merchant": "10016226", "sign": hmac_hex(message)}


def test_the_plugin_takes_at_most_ten_coupons_and_names_what_is_wrong(options: dict[str, Any]) -> None:
    client = AsyncClient(**options)
    ten = [{"stock_id": "1", "out_request_no": str(i)} for i in range(10)]
    assert len(client.sign_coupon_plugin(send_coupon_params=ten, send_coupon_merchant="1")["sign"]) == 64
    cases: list[tuple[Any, str]] = [
        ([*ten, {"stock_id": "1", "out_request_no": "x"}], "send_coupon_params"),
        ([], "send_coupon_params"),
        ({"stock_id": "1"}, "send_coupon_params"),
        ([{"stock_id": "1"}], "send_coupon_params[0].out_request_no"),
        ([{"stock_id": "1", "out_request_no": "2", "stock_id1": "x"}], "send_coupon_params[0].'stock_id1'"),
        ([{"stock_id": "1", "out_request_no": 2.5}], "send_coupon_params[0].out_request_no"),
    ]
    for params, field in cases:
        with pytest.raises(InvalidRequestError) as caught:
            client.sign_coupon_plugin(send_coupon_params=params, send_coupon_merchant="1")
        assert caught.value.problems[0][0] == field, params


def test_the_h5_url_is_signed_like_a_hand_written_hmac(options: dict[str, Any]) -> None:
    url = AsyncClient(**options).sign_h5_coupon(
        stock_id="1234567890000000",
        out_request_no="201911280000",
        send_coupon_merchant="123456789",
        open_id="oiSFDIOoijdsf",
        coupon_code="code & more=1",
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://action.weixin.qq.com/busifavor/getcouponinfo"
    assert url.endswith("#wechat_pay&wechat_redirect")
    query = dict(parse_qsl(parts.query))
    assert list(query)[:3] == ["stock_id", "out_request_no", "sign"]
    message = (
        "coupon_code=code & more=1&open_id=oiSFDIOoijdsf&out_request_no=201911280000&send_coupon_merchant=123456789"
        f"&stock_id=1234567890000000&key={APIV2_KEY}"
    )
    assert query["sign"] == hmac_hex(message)
    assert query["coupon_code"] == "code & more=1"  # encoded in the URL, signed as the raw value


def test_signs_that_need_the_apiv2_key_say_so(options: dict[str, Any]) -> None:
    client = AsyncClient(**{**options, "apiv2_key": None})
    with pytest.raises(ConfigurationError, match="apiv2_key="):
        client.sign_h5_coupon(stock_id="1", out_request_no="2", send_coupon_merchant="3", open_id="o")
    with pytest.raises(ConfigurationError, match="apiv2_key="):
        client.sign_coupon_plugin(
            send_coupon_params=[{"stock_id": "1", "out_request_no": "2"}], send_coupon_merchant="3"
        )


def test_the_blocking_client_makes_the_same_signatures(
    options: dict[str, Any], merchant_key: rsa.RSAPrivateKey
) -> None:
    with Client(**options, clock=lambda: NOW, nonce_factory=lambda: "N") as blocking:
        fields = blocking.sign_jsapi(appid="wx1", prepay_id="p1")
        _verify_rsa(merchant_key.public_key(), f"wx1\n{NOW}\nN\nprepay_id=p1\n", fields["paySign"])
        plugin = blocking.sign_coupon_plugin(
            send_coupon_params=[{"stock_id": "1", "out_request_no": "2"}], send_coupon_merchant="3"
        )
        assert plugin["sign"] == hmac_hex(f"out_request_no0=2&send_coupon_merchant=3&stock_id0=1&key={APIV2_KEY}")
        assert "sign=" in blocking.sign_h5_coupon(
            stock_id="1", out_request_no="2", send_coupon_merchant="3", open_id="o"
        )
        assert blocking.sign_app(appid="wx1", prepay_id="p1")["partnerid"] == MCHID
