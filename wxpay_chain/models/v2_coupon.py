"""APIv2 代金券 (cash coupon) calls, XML over ``v2/mmpaymkttransfers/...``:

* ``send_coupon`` (发放代金券, security=True: the merchant API certificate),
* ``query_coupon_stock`` (查询代金券批次),
* ``querycouponsinfo`` (查询代金券信息).

Pass a request model as ``xml=``; the SDK adds mch_id, nonce_str and sign. APIv2 answers are text, so every
answer field is a str (``int(result.coupon_value)`` where a number is wanted); ``response.parsed`` reads
the XML into the model, and fields WeChat Pay adds later are ignored.
"""

from __future__ import annotations

import attrs

from ._registry import EndpointSpec, register

__all__ = [
    "CouponInfoQuery",
    "CouponInfoResult",
    "CouponStockQuery",
    "CouponStockResult",
    "SendCouponRequest",
    "SendCouponResult",
]


@attrs.frozen(kw_only=True)
class _V2Answer:
    """The fields every APIv2 answer may carry."""

    return_code: str | None = None
    return_msg: str | None = None
    result_code: str | None = None
    err_code: str | None = None
    err_code_des: str | None = None
    appid: str | None = None
    mch_id: str | None = None
    device_info: str | None = None
    nonce_str: str | None = None
    sign: str | None = None


@attrs.frozen(kw_only=True)
class SendCouponRequest:
    """发放代金券: one coupon of ``coupon_stock_id`` to ``openid``; ``partner_trade_no`` is unique per send."""

    coupon_stock_id: str
    partner_trade_no: str
    openid: str
    appid: str
    openid_count: int  # 1: one user per call
    op_user_id: str | None = None
    device_info: str | None = None
    version: str | None = None
    type: str | None = None


@attrs.frozen(kw_only=True)
class SendCouponResult(_V2Answer):
    coupon_stock_id: str | None = None
    resp_count: str | None = None
    success_count: str | None = None
    failed_count: str | None = None
    openid: str | None = None
    ret_code: str | None = None
    coupon_id: str | None = None
    ret_msg: str | None = None


@attrs.frozen(kw_only=True)
class CouponStockQuery:
    """查询代金券批次."""

    coupon_stock_id: str
    appid: str
    op_user_id: str | None = None
    device_info: str | None = None
    version: str | None = None
    type: str | None = None


@attrs.frozen(kw_only=True)
class CouponStockResult(_V2Answer):
    """A stock: amounts in fen, ``coupon_stock_status`` 1 (not active), 2 (approved), 4 (active), 8 (stopped),
    16 (expired); ``coupon_mininumn`` is spelled as WeChat Pay spells it."""

    coupon_stock_id: str | None = None
    coupon_name: str | None = None
    coupon_value: str | None = None
    coupon_mininumn: str | None = None
    coupon_stock_status: str | None = None
    coupon_total: str | None = None
    max_quota: str | None = None
    is_send_num: str | None = None
    begin_time: str | None = None
    end_time: str | None = None
    create_time: str | None = None
    coupon_budget: str | None = None


@attrs.frozen(kw_only=True)
class CouponInfoQuery:
    """查询代金券信息: one user's coupon of a stock."""

    coupon_id: str
    openid: str
    appid: str
    stock_id: str
    op_user_id: str | None = None
    device_info: str | None = None
    version: str | None = None
    type: str | None = None


@attrs.frozen(kw_only=True)
class CouponInfoResult(_V2Answer):
    """A coupon: ``coupon_state`` SENDED, USED or EXPIRED; amounts in fen."""

    coupon_stock_id: str | None = None
    coupon_stock_type: str | None = None
    coupon_id: str | None = None
    coupon_value: str | None = None
    coupon_mininumn: str | None = None
    coupon_name: str | None = None
    coupon_state: str | None = None
    coupon_desc: str | None = None
    coupon_use_value: str | None = None
    coupon_remain_value: str | None = None
    begin_time: str | None = None
    end_time: str | None = None
    send_time: str | None = None
    use_time: str | None = None
    trade_no: str | None = None
    consumer_mch_id: str | None = None
    consumer_mch_name: str | None = None
    consumer_mch_appid: str | None = None
    send_source: str | None = None
    is_partial_use: str | None = None


for _spec in (
    EndpointSpec("POST", "v2/mmpaymkttransfers/send_coupon", body=SendCouponRequest, response=SendCouponResult),
    EndpointSpec("POST", "v2/mmpaymkttransfers/query_coupon_stock", body=CouponStockQuery, response=CouponStockResult),
    EndpointSpec("POST", "v2/mmpaymkttransfers/querycouponsinfo", body=CouponInfoQuery, response=CouponInfoResult),
):
    register(_spec)
del _spec
