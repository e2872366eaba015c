"""The demo catalogue: ``data/seed.json``, filled into a new state with the keys' brand, merchant and clock.

Who holds what (brand ``120344``, AppID ``wx233544546545989``):

* ``oh-394z-6CGkNoJrsDLTTUKiAnp4`` (DEMO_OPENIDS[0]) holds a product coupon in every state (CONFIRMING,
  PENDING, EFFECTIVE, USED, EXPIRED, DELETED, DEACTIVATED), 7 busifavor coupons (3 SENDED, 2 USED,
  2 EXPIRED) and 5 favor coupons (SENDED, USED, EXPIRED, RECOVER and a CUT_TO one).
  It already holds 2 of stock 1000000013001, so sending it another hits max_count_per_user.
* ``oUpF8uMuAJO_M2pxb1Q9zNjWeS6o`` (DEMO_OPENIDS[1]) holds 2 product coupons, 1 busifavor and 1 favor coupon.
* ``oh-394z-FreshUserNoCoupons01`` (DEMO_OPENIDS[2]) holds nothing: send to it in demos.

Product coupons and stocks (every type in both usage modes):

=============  ========  ==========  ===============  ==========  ===========================================
product coupon type      usage mode  stock            code mode   send rule (max / per day / per user)
=============  ========  ==========  ===============  ==========  ===========================================
1000000013     NORMAL    SINGLE      1000000013001    WECHATPAY   100 / 20 / 2
1000000013     NORMAL    SINGLE      1000000013002    WECHATPAY   3 / 2 / 3   (tight budget, for limit demos)
1000000014     DISCOUNT  SINGLE      1000000014001    API_ASSIGN  100 / - / 1 (send your own coupon_code)
1000000015     EXCHANGE  SINGLE      1000000015001    UPLOAD      5 / - / 1   (5 uploaded codes, 1 issued)
1000000016     NORMAL    SEQUENTIAL  1000000016001    WECHATPAY   50 / - / 1  (EQUAL, 3 uses)
1000000017     DISCOUNT  SEQUENTIAL  1000000017001    WECHATPAY   PAUSED: sending is refused
1000000018     EXCHANGE  SEQUENTIAL  1000000018001    WECHATPAY   20 / - / 3  (EQUAL, 2 uses)
=============  ========  ==========  ===============  ==========  ===========================================
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ._clock import DAY, rfc3339
from ._records import BusifavorCoupon, FavorCoupon

if TYPE_CHECKING:
    from ._state import SandboxState

DEMO_APPID = "wx233544546545989"
DEMO_OPENIDS = ("oh-394z-6CGkNoJrsDLTTUKiAnp4", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "oh-394z-FreshUserNoCoupons01")
DEMO_PRODUCT_COUPON_IDS = ("1000000013", "1000000014", "1000000015", "1000000016", "1000000017", "1000000018")
DEMO_STOCK_IDS = (
    "1000000013001",
    "1000000013002",
    "1000000014001",
    "1000000015001",
    "1000000016001",
    "1000000017001",
    "1000000018001",
)
DEMO_BUSIFAVOR_STOCK_IDS = ("9865000", "9865001", "9865002")
DEMO_FAVOR_COUPON_IDS = ("9867041", "9867042", "9867043", "9867044", "9867045", "9867046")
#: Upload-mode codes of stock 1000000015001.
DEMO_UPLOADED_CODES = tuple(f"EXC2025{n:06d}" for n in range(1, 6))

# In seed.json, "$brand_id" and "$mchid" are the keys' ids, and "$now-3d" is three days before the clock
# ("$now+22d-1s" a second less than 22 days after it, as a validity ends): a Unix time in a user coupon's
# receive_time/valid_begin/valid_end, RFC 3339 text anywhere else.
_DAYS = re.compile(r"\$now(?:([+-]\d+)d)?(?:([+-]\d+)s)?")
_TIME_FIELDS = ("receive_time", "valid_begin", "valid_end")


@cache
def _catalogue() -> str:
    return resources.files("wxpay_chain.sandbox").joinpath("data/seed.json").read_text("utf-8")


def seed_demo_data(state: SandboxState, *, brand_id: str, mchid: str, now: float) -> None:
    """Fill an empty state with the demo catalogue described in this module's docstring."""
    names = {"$brand_id": brand_id, "$mchid": mchid}

    def when(text: str) -> float | None:
        found = _DAYS.fullmatch(text)
        return None if found is None else now + DAY * int(found.group(1) or 0) + int(found.group(2) or 0)

    def expand(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: expand(v) for k, v in value.items()}
        if isinstance(value, list):
            return [expand(v) for v in value]
        if isinstance(value, str):
            moment = when(value)
            return names.get(value, value) if moment is None else rfc3339(moment)
        return value

    data = json.loads(_catalogue())
    for document in data["product_coupons"]:
        state.add_product_coupon(expand(document))
    for document in data["stocks"]:
        uploaded = document.pop("uploaded_codes", ())
        state.add_stock(expand(document), uploaded_codes=uploaded)
    for fields in data["user_coupons"]:
        times: dict[str, Any] = {k: when(fields.pop(k)) for k in _TIME_FIELDS if k in fields}
        state.add_user_coupon(now=now, **expand(fields), **times)
    for fields in data["busifavor_coupons"]:
        state.add_busifavor_coupon(BusifavorCoupon(**expand(fields)))
    for fields in data["favor_coupons"]:
        state.add_favor_coupon(FavorCoupon(**expand(fields)))
