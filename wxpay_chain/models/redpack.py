"""APIv2 现金红包 (cash red packet): ``v2/mmpaymkttransfers/sendredpack``, with security=True.

``mch_billno`` is the merchant's number for the packet: WeChat Pay sends one packet per number, so a call
whose outcome is unknown is settled by querying it (gethbinfo), never by sending a new number.
"""

from __future__ import annotations

import attrs

from ._registry import EndpointSpec, register
from .v2_coupon import _V2Answer

__all__ = ["RedPackRequest", "RedPackResult"]


@attrs.frozen(kw_only=True)
class RedPackRequest:
    """发放普通红包: ``total_amount`` in fen to ``re_openid`` of ``wxappid``."""

    mch_billno: str
    wxappid: str
    send_name: str
    re_openid: str
    total_amount: int
    wishing: str
    client_ip: str
    act_name: str
    remark: str
    total_num: int  # 1 for an ordinary red packet
    scene_id: str | None = None
    risk_info: str | None = None
    consume_mch_id: str | None = None


@attrs.frozen(kw_only=True)
class RedPackResult(_V2Answer):
    mch_billno: str | None = None
    wxappid: str | None = None
    re_openid: str | None = None
    total_amount: str | None = None
    send_listid: str | None = None


register(EndpointSpec("POST", "v2/mmpaymkttransfers/sendredpack", body=RedPackRequest, response=RedPackResult))
