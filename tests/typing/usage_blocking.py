"""Typed use of the blocking Client, checked with ``mypy --strict`` (tests/test_quality.py runs it).

Every line here must type-check as written; each ``type: ignore[...]`` proves a mistake is caught (with
``warn_unused_ignores``, part of --strict, mypy fails if one of them stops being an error).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import aiohttp

from wxpay_chain import (
    Attempt,
    Client,
    KeyStore,
    Offload,
    PlatformCertificate,
    PreparedRequest,
    Request,
    Response,
    RetryPolicy,
    Timeout,
    Validate,
)
from wxpay_chain.notifications import Notification, RecentNotifications


def make_client(pem: str, on_response: Any) -> Client:
    def on_request(request: Request) -> None:
        assert request.template

    def metrics(attempt: Attempt) -> None:
        on_response(attempt.elapsed)

    policy: Validate = "types"  # the settings' types are public: a caller can annotate its own
    offload: Offload = "never"
    return Client(
        validate=policy,
        offload_crypto=offload,
        mchid="1900000001",
        serial="3775B6A45ACD588826D15E583A95F5DD12345678",
        private_key=pem,
        platform_keys={"PUB_KEY_ID_0114232134912410000000000000": pem},
        base_url="https://api.mch.weixin.qq.com/",
        timeout=Timeout(total=10, connect=3),
        retry=RetryPolicy(attempts=2),
        on_request=on_request,
        on_response=metrics,
        apiv3_key="0123456789abcdefghijABCDEFGHIJ01",
        proxy="http://user:password@proxy.internal:3128",
        trust_env=False,
        log_bodies=False,
    )


def misspelled_options(pem: str) -> None:
    Client(mchid="1", serial="S", private_key=pem, timeuot=3)  # type: ignore[call-arg]
    Client(mchid="1", serial="S", private_key=pem, proxy=3128)  # type: ignore[arg-type]
    Client(mchid="1", serial="S", private_key=pem, session=aiohttp.ClientSession())  # type: ignore[arg-type]


def calls(client: Client) -> list[Any]:
    coupons: Response = client.v3.marketing.busifavor.users._openid_.coupons.get(openid="o-1", query={"appid": "wx1"})
    literal: Response = client["v3/marketing/favor/users/{openid}/coupons/{coupon_id}"].get(openid="o", coupon_id="1")
    chained: Response = client.chain("v3/certificates").get()
    items: Iterator[Any] = client.v3.marketing.busifavor.users._openid_.coupons.paginate(openid="o-1")
    status: int = coupons.status + literal.status + chained.status
    assert status
    return [coupons.json(), *items]


def everything_else(client: Client) -> None:
    copy: Client = client.with_options(timeout=5, retry=1)
    unlimited: Client = client.with_options(timeout=None, on_request=None)  # None: no limit, no hook
    assert unlimited.v3.certificates.get(timeout=None).status
    mode: Literal["merchant", "brand"] = copy.mode
    keys: KeyStore = client.keys
    certificates: tuple[PlatformCertificate, ...] = client.download_certificates() + client.certificates
    prepared: PreparedRequest = client.prepare("GET", "v3/certificates")
    signed: Request = client.sign(prepared)
    sealed: str = client.encrypt("张三")
    opened: str = client.decrypt(sealed)
    assert mode and keys is not None and certificates is not None and signed.url and opened
    bill = client.v3.bill.tradebill.get(query={"bill_date": "2026-01-01"}).json()
    csv: bytes = client.download(bill)  # without to=: the bytes
    saved: Path = client.download(bill, to="trade.csv")  # with it: where it went
    assert csv and saved.name
    client.close()


def notifications(client: Client, meta: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    seen: list[str] = []

    def on_event(notification: Notification) -> None:
        seen.append(notification.id)

    async def on_event_async(notification: Notification) -> None:
        seen.append(notification.id)

    parsed: Notification = client.parse_notification(meta, body)
    assert parsed.id
    client.handle_notification(meta, body, on_event_async)  # type: ignore[arg-type]
    client.handle_notifcation(meta, body, on_event)  # type: ignore[attr-defined]
    return client.handle_notification(meta, body, on_event, recent=RecentNotifications())


def with_block(pem: str) -> None:
    with make_client(pem, print) as client:
        answer: Response = client.v3.certificates.get()
        assert answer.request_id is not None
