"""Which 2xx answers WeChat Pay sends unsigned: the files of a few documented downloads, and nothing else.

The pipeline asks :func:`must_verify` of every 2xx answer. The exemption is this one list of endpoints,
never a switch a caller can flip; a bill or file fetched from them is checked against the hash its
(signed) bill answer gave instead (``_download``).
"""

from __future__ import annotations

from functools import lru_cache

from ._http import Headers
from ._signing import SIGNED_HEADERS

__all__ = ["UNSIGNED_DOWNLOADS", "UNSIGNED_V2_ANSWERS", "V2_FILE_ANSWERS", "must_verify"]

# GET endpoints whose 2xx answer is a file WeChat Pay sends unsigned (their documented answer has no schema).
UNSIGNED_DOWNLOADS = (
    "v3/billdownload/file",
    "v3/bill/downloadurl",  # the download_url the bill documents print as their example
    "v3/merchant-service/images/{media_id}",
    "v3/global/merchant-service/images/{media_id}",
    "v3/transferdownload/signfile",
    "v3/transferdownload/elecvoucherfile",
    "v3/statements",
    "v3/global/statements",
)
_PATTERNS = tuple(tuple(t.split("/")) for t in UNSIGNED_DOWNLOADS)


@lru_cache(maxsize=1024)
def _is_unsigned_download(template: str) -> bool:
    segments = tuple(template.partition("?")[0].strip("/").split("/"))
    return any(
        len(pattern) == len(segments)
        and all(p == s or (p.startswith("{") and bool(s)) for p, s in zip(pattern, segments, strict=True))
        for pattern in _PATTERNS
    )


def must_verify(method: str, template: str, headers: Headers) -> bool:
    """Whether a 2xx answer must carry a valid WeChat Pay signature: every answer, but the files the
    documented unsigned downloads send; and those too once they do carry signature headers."""
    if method != "GET" or not _is_unsigned_download(template):
        return True
    return any(name in headers for name in SIGNED_HEADERS)


# APIv2 endpoints whose documented answer has no ``sign`` field (the answer schemas of the vendored
# wechatpay-openapi data; wechatpay-php's APIv2 guide names transfers, getpublickey and getsignkey too).
# A SUCCESS answer from any other APIv2 endpoint must carry a sign that matches (``_v2_pipeline``).
UNSIGNED_V2_ANSWERS = frozenset(
    {
        "v2/appauth/authindex",
        "v2/appauth/getaccesstoken",
        "v2/applyment/micro/signcontract",
        "v2/billcommentsp/batchquerycomment",
        "v2/mchrisk/querymchrisk",
        "v2/mchrisk/setmchriskcallback",
        "v2/mchrisk/syncmchriskresult",
        "v2/mmpaymkttransfers/gethbinfo",
        "v2/mmpaymkttransfers/gettransferinfo",
        "v2/mmpaymkttransfers/promotion/paywwsptrans2pocket",
        "v2/mmpaymkttransfers/promotion/querywwsptrans2pocket",
        "v2/mmpaymkttransfers/promotion/transfers",
        "v2/mmpaymkttransfers/sendgroupredpack",
        "v2/mmpaymkttransfers/sendminiprogramhb",
        "v2/mmpaymkttransfers/sendredpack",
        "v2/mmpaysptrans/query_bank",
        "v2/papay/entrustweb",
        "v2/papay/h5entrustweb",
        "v2/papay/partner/entrustweb",
        "v2/papay/partner/h5entrustweb",
        "v2/pay/downloadbill",
        "v2/pay/downloadfundflow",
        "v2/payitil/report",
        "v2/risk/getpublickey",
        "v2/risk/getviolation",
        "v2/sandboxnew/pay/downloadbill",
        "v2/sandboxnew/pay/getsignkey",
        "v2/secapi/mch/submchmanage",
        "v2/xdc/apiv2getsignkey/sign/getsignkey",
    }
)

# APIv2 endpoints whose success answer is a file, not XML: the bills (CSV text, or gzip with tar_type=GZIP)
# and the order comments (a text table); only a failure comes as XML. Each is in UNSIGNED_V2_ANSWERS.
V2_FILE_ANSWERS = frozenset(
    {
        "v2/billcommentsp/batchquerycomment",
        "v2/pay/downloadbill",
        "v2/pay/downloadfundflow",
        "v2/sandboxnew/pay/downloadbill",
    }
)
