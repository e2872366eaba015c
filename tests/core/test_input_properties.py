"""Property: whatever a caller passes, a call either goes out signed exactly as sent, or fails with a
WxPayError before anything reaches the server (issue 15). The server is the independent peer on
127.0.0.1, which verifies each signature from the raw request line and body it received."""

from __future__ import annotations

import enum
import math
import sys
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from wxpay_chain import AsyncClient, ConfigurationError, InvalidRequestError, WxPayError

from .wire import WirePeer


class Kind(str, enum.Enum):
    A = "A"


NASTY_TEXT = st.sampled_from(
    ["", ".", "..", "%2e", ".%2E", "%2E%2e", "a/../b", "a//b", "\ud800", "\r\n", "\x00", " ", "#", "?", "%zz", "é"]
)
PLAIN = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=12).filter(
    lambda s: s not in (".", "..")
)
# Most draws are ordinary, so that many calls do go out and get checked on the wire; the rest are hostile.
TEXT = st.one_of(PLAIN, PLAIN, st.text(max_size=12), NASTY_TEXT)
SCALAR = st.one_of(
    PLAIN,
    PLAIN,
    PLAIN,
    st.integers(),
    st.just(Kind.A),
    # mapped, so that one_of does not flatten it into as many branches as the ordinary values have
    st.one_of(NASTY_TEXT, st.booleans(), st.none(), st.floats(), st.just(b"x"), st.just([1])).map(lambda v: v),
)
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)
HEADER_NAMES = st.one_of(
    st.from_regex(r"X-[A-Za-z0-9-]{1,8}", fullmatch=True),
    st.from_regex(r"X-[A-Za-z0-9-]{1,8}", fullmatch=True),
    st.text(max_size=10),
    st.sampled_from(
        [
            "X-A",
            "Authorization",
            "authorization ",
            "Content-Length",
            "Transfer-Encoding",
            "Host",
            "Connection",
            "Content-Type",
            "Wechatpay-Serial",
            "X\r\nY",
            "X:Y",
            "X Y",
        ]
    ),
)
HEADERS = st.dictionaries(HEADER_NAMES, st.one_of(TEXT, st.integers()), max_size=3)
TIMEOUTS = st.one_of(
    st.sampled_from([math.inf, -math.inf, math.nan, 0, -1, 1e300, 10**400, True, "5", None]),
    st.floats(min_value=5.0, max_value=30.0),
    st.integers(min_value=5, max_value=30),
)
TEMPLATES = st.sampled_from(
    [
        "v3/things/{id}",
        "v3/things/{id}",
        "v3/things/{id}",
        "v3/files/{+p}",
        "v3/files/{+p}",
        "v3/marketing/busifavor/users/{openid}/coupons",
        "v3/a b/{id}",
        "v3/../x",
    ]
)


def base_urls(real: str) -> st.SearchStrategy[str]:
    # Only variants of the peer's own address, or invalid ones: no call may leave 127.0.0.1.
    host = real.split("//", 1)[1].rstrip("/")
    return st.sampled_from(
        [
            real,
            real,
            real + "gw/",
            f"http://{host}/a/../b/",
            f"http://u:p@{host}/",
            f"http://{host}\\x/",
            f"http://{host}/a b/",
            "http://127.0.0.1:99999/",
            "ftp://127.0.0.1/",
            "",
        ]
    )


@st.composite
def calls(draw: st.DrawFn, real_base_url: str) -> tuple[str, str, dict[str, Any]]:
    template = draw(TEMPLATES)
    method = draw(st.sampled_from(["GET", "POST", "DELETE"]))
    options: dict[str, Any] = {}
    for name in ("id", "p", "openid"):
        if f"{{{name}}}" in template or f"{{+{name}}}" in template:
            options[name] = draw(SCALAR)
    if draw(st.booleans()):
        options["query"] = draw(st.dictionaries(st.one_of(TEXT, st.integers()), SCALAR, max_size=3))
    if draw(st.booleans()):
        options["headers"] = draw(HEADERS)
    if draw(st.booleans()):
        options["timeout"] = draw(TIMEOUTS)
    if draw(st.booleans()):
        options["base_url"] = draw(base_urls(real_base_url))
    body = draw(st.sampled_from(["none", "none", "json", "json", "data", "both"]))
    if body in ("json", "both"):
        options["json"] = draw(JSON)
    if body in ("data", "both"):
        options["data"] = draw(st.one_of(TEXT, st.binary(max_size=8), st.integers()))
    return method, template, options


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_every_call_is_sent_exactly_as_signed_or_refused_with_a_typed_error_before_sending(
    client: AsyncClient, peer: WirePeer, base_url: str, data: st.DataObject
) -> None:
    method, template, options = data.draw(calls(base_url))
    before = len(peer.seen)
    try:
        response = await getattr(client.chain(template), method.lower())(**options)
    except (InvalidRequestError, ConfigurationError):
        assert len(peer.seen) == before, "a locally refused call reached the server"
        event(f"refused: {str(sys.exc_info()[1]).split(':')[0][:60]}")
        return
    except WxPayError:  # an answer-side failure: the request went out, signed
        assert len(peer.seen) == before + 1 and peer.seen[-1].signature_ok
        event("sent; the answer failed")
        return
    seen = peer.seen[-1]
    assert len(peer.seen) == before + 1
    assert seen.signature_ok, "the server could not verify what it received"
    assert seen.raw_path.endswith(response.request.target)
    assert seen.body == response.request.body
    event("sent and verified")
