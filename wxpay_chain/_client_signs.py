"""The signatures a client app needs, made on the merchant's server. Pure, with the clock and nonce given.

* JSAPI and mini-program payment (``wx.requestPayment``): paySign, RSA-SHA256 over
  ``appId\\ntimeStamp\\nnonceStr\\npackage\\n`` with the merchant API key.
* APP payment (OpenSDK ``PayReq``): sign, RSA-SHA256 over ``appid\\ntimestamp\\nnoncestr\\nprepayid\\n``.
* The mini-program send-coupon plugin (小程序发券插件) and H5 coupons (H5发券) still follow the APIv2 rules:
  HMAC-SHA256 keyed with the APIv2 key over the sorted ``k=v&...&key=<APIv2 key>`` (see _apiv2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric import rsa

from ._apiv2 import HMAC_SHA256, missing_apiv2_key, sign, utf8_text
from ._crypto import rsa_sign
from ._errors import ConfigurationError, InvalidRequestError

if TYPE_CHECKING:
    from ._config import ClientConfig

__all__ = [
    "H5_COUPON_URL",
    "PLUGIN_MAX_ITEMS",
    "ClientSignatures",
    "sign_app",
    "sign_coupon_plugin",
    "sign_h5_coupon",
    "sign_jsapi",
]

H5_COUPON_URL = "https://action.weixin.qq.com/busifavor/getcouponinfo"
# WeChat Pay's H5 coupon page answers 268435461 without this fragment (H5发券, 2024 docs).
H5_FRAGMENT = "#wechat_pay&wechat_redirect"
PLUGIN_MAX_ITEMS = 10  # "一次最多10张"
# An item's keys get their index appended (stock_id0): a key ending in a digit would make that ambiguous.
_PLUGIN_KEY = re.compile(r"[a-z_]+")


def _value(name: str, value: object, required: bool = True) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or (required and not value.strip()):
        shown = "empty" if isinstance(value, str) else f"got {type(value).__name__}"
        raise InvalidRequestError(f"{name} must be a non-empty str", [(name, shown)])
    if "\n" in value or "\r" in value:
        raise InvalidRequestError(f"{name} must be one line", [(name, "remove the line break")])
    return utf8_text(name, value, "A signed value")


def sign_jsapi(key: rsa.RSAPrivateKey, *, appid: str, prepay_id: str, timestamp: int, nonce: str) -> dict[str, str]:
    """What ``wx.requestPayment`` / ``WeixinJSBridge.invoke('getBrandWCPayRequest')`` take."""
    fields = {
        "appId": _value("appid", appid),
        "timeStamp": str(int(timestamp)),
        "nonceStr": nonce,
        "package": "prepay_id=" + _value("prepay_id", prepay_id),
        "signType": "RSA",
    }
    message = f"{fields['appId']}\n{fields['timeStamp']}\n{fields['nonceStr']}\n{fields['package']}\n"
    fields["paySign"] = rsa_sign(key, message.encode("utf-8"))
    return fields


def sign_app(
    key: rsa.RSAPrivateKey, *, appid: str, partnerid: str, prepay_id: str, timestamp: int, nonce: str
) -> dict[str, str]:
    """What the OpenSDK's PayReq takes (partnerid is the merchant id; sub_mchid for partner orders)."""
    fields = {
        "appid": _value("appid", appid),
        "partnerid": _value("partnerid", partnerid),
        "prepayid": _value("prepay_id", prepay_id),
        "package": "Sign=WXPay",
        "noncestr": nonce,
        "timestamp": str(int(timestamp)),
    }
    message = f"{fields['appid']}\n{fields['timestamp']}\n{fields['noncestr']}\n{fields['prepayid']}\n"
    fields["sign"] = rsa_sign(key, message.encode("utf-8"))
    return fields


def sign_coupon_plugin(
    apiv2_key: str, *, send_coupon_params: Sequence[Mapping[str, Any]], send_coupon_merchant: str
) -> dict[str, Any]:
    """The send-coupon plugin's attributes: each item's keys flattened with its index (stock_id0,
    out_request_no0, stock_id1, ...) plus send_coupon_merchant, signed with HMAC-SHA256."""
    merchant = _value("send_coupon_merchant", send_coupon_merchant)
    if isinstance(send_coupon_params, (str, bytes, Mapping)) or not isinstance(send_coupon_params, Sequence):
        raise InvalidRequestError(
            "send_coupon_params must be a list of coupons", [("send_coupon_params", type(send_coupon_params).__name__)]
        )
    if not 1 <= len(send_coupon_params) <= PLUGIN_MAX_ITEMS:
        raise InvalidRequestError(
            f"The coupon plugin sends 1 to {PLUGIN_MAX_ITEMS} coupons at a time",
            [("send_coupon_params", f"{len(send_coupon_params)} items; split them into several plugins")],
        )
    items: list[dict[str, str]] = []
    flat = {"send_coupon_merchant": merchant}
    for index, item in enumerate(send_coupon_params):
        where = f"send_coupon_params[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidRequestError("Each coupon is a dict", [(where, type(item).__name__)])
        clean: dict[str, str] = {}
        for name, value in item.items():
            if not isinstance(name, str) or not _PLUGIN_KEY.fullmatch(name):
                raise InvalidRequestError(
                    "Coupon field names are lower-case letters and _", [(f"{where}.{name!r}", "rename it")]
                )
            if value is not None:
                clean[name] = _value(f"{where}.{name}", value, required=False)
        for required in ("stock_id", "out_request_no"):
            if not clean.get(required, "").strip():
                raise InvalidRequestError(
                    "Each coupon names its stock and request number", [(f"{where}.{required}", "missing")]
                )
        items.append(clean)
        flat.update({f"{name}{index}": value for name, value in clean.items()})
    return {
        "send_coupon_params": items,
        "send_coupon_merchant": merchant,
        "sign": sign(flat, apiv2_key, HMAC_SHA256),
    }


def sign_h5_coupon(
    apiv2_key: str,
    *,
    stock_id: str,
    out_request_no: str,
    send_coupon_merchant: str,
    open_id: str,
    coupon_code: str | None = None,
    customize_send_time: str | None = None,
) -> str:
    """The URL that sends a busifavor coupon from an H5 page; every parameter given is signed (HMAC-SHA256)."""
    params = {
        "stock_id": _value("stock_id", stock_id),
        "out_request_no": _value("out_request_no", out_request_no),
        "send_coupon_merchant": _value("send_coupon_merchant", send_coupon_merchant),
        "open_id": _value("open_id", open_id),
    }
    for name, value in (("coupon_code", coupon_code), ("customize_send_time", customize_send_time)):
        if value is not None:
            params[name] = _value(name, value)
    signed = sign(params, apiv2_key, HMAC_SHA256)
    ordered = {"stock_id": params["stock_id"], "out_request_no": params["out_request_no"], "sign": signed}
    ordered.update((k, v) for k, v in params.items() if k not in ordered)
    return f"{H5_COUPON_URL}?{urlencode(ordered)}{H5_FRAGMENT}"


def _apiv2_key(config: ClientConfig, what: str) -> str:
    if config.apiv2_key is None:
        raise missing_apiv2_key(what)
    return config.apiv2_key


def _merchant_config(config: ClientConfig, method: str) -> ClientConfig:
    # WeChat Pay checks a paySign with the merchant's API certificate: a brand key's can never pass.
    if config.signer.mode != "merchant":
        raise ConfigurationError(f"{method} signs with the merchant's key: make the client with mchid=, not brand_id=")
    return config


class ClientSignatures:
    """The client-side signatures, the same methods on AsyncClient and Client (none does I/O)."""

    def _sign_config(self) -> ClientConfig:
        raise NotImplementedError

    def sign_jsapi(self, *, appid: str, prepay_id: str) -> dict[str, str]:
        """The arguments of ``wx.requestPayment`` (mini-programs) and ``getBrandWCPayRequest`` (JSAPI), paySign
        included. Partner orders pass the sub_appid."""
        config = _merchant_config(self._sign_config(), "sign_jsapi")
        return sign_jsapi(
            config.signer.key,
            appid=appid,
            prepay_id=prepay_id,
            timestamp=int(config.clock()),
            nonce=config.nonce_factory(),
        )

    def sign_app(self, *, appid: str, prepay_id: str, partnerid: str | None = None) -> dict[str, str]:
        """The OpenSDK PayReq fields of an APP payment; ``partnerid`` defaults to the client's mchid."""
        config = _merchant_config(self._sign_config(), "sign_app")
        partner = partnerid if partnerid is not None else config.signer.identity
        return sign_app(
            config.signer.key,
            appid=appid,
            partnerid=partner,
            prepay_id=prepay_id,
            timestamp=int(config.clock()),
            nonce=config.nonce_factory(),
        )

    def sign_coupon_plugin(
        self, *, send_coupon_params: Sequence[Mapping[str, Any]], send_coupon_merchant: str
    ) -> dict[str, Any]:
        """The send-coupon plugin's send_coupon_params, send_coupon_merchant and sign (1 to 10 coupons)."""
        key = _apiv2_key(self._sign_config(), "sign_coupon_plugin")
        return sign_coupon_plugin(key, send_coupon_params=send_coupon_params, send_coupon_merchant=send_coupon_merchant)

    def sign_h5_coupon(
        self,
        *,
        stock_id: str,
        out_request_no: str,
        send_coupon_merchant: str,
        open_id: str,
        coupon_code: str | None = None,
        customize_send_time: str | None = None,
    ) -> str:
        """The signed ``https://action.weixin.qq.com/busifavor/getcouponinfo?...`` URL to send the user to."""
        return sign_h5_coupon(
            _apiv2_key(self._sign_config(), "sign_h5_coupon"),
            stock_id=stock_id,
            out_request_no=out_request_no,
            send_coupon_merchant=send_coupon_merchant,
            open_id=open_id,
            coupon_code=coupon_code,
            customize_send_time=customize_send_time,
        )
