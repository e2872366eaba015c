"""Notifications in the frameworks where they land: Client.handle_notification (blocking) and
AsyncClient.handle_notification take headers in every spelling frameworks give, Django's META included,
and the documented Flask and Django adapters work under their own test clients."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, Client
from wxpay_chain.models import BusifavorCouponSendEvent
from wxpay_chain.notifications import Notification, RecentNotifications, notification_headers

from ._notify import as_meta, client_options, notification


def spellings(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    return {
        "canonical": headers,
        "lower-case": {k.lower(): v for k, v in headers.items()},
        "upper-case": {k.upper(): v for k, v in headers.items()},
        "Django META / WSGI environ": as_meta(headers, body),
        "pairs with items()": _Pairs(list(headers.items())),
    }


class _Pairs:
    """Like werkzeug's headers: items() of pairs, but not a Mapping."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)


SPELLINGS = ["canonical", "lower-case", "upper-case", "Django META / WSGI environ", "pairs with items()"]


@pytest.fixture
def blocking(merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey) -> Iterator[Client]:
    with Client(**client_options(merchant_key, platform_key)) as client:
        yield client


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_blocking_client_answers_204_and_calls_back_for_every_spelling(
    blocking: Client, platform_key: rsa.RSAPrivateKey, spelling: str
) -> None:
    headers, body = notification(platform_key)
    received: list[Notification] = []
    status, answer = blocking.handle_notification(spellings(headers, body)[spelling], body, received.append)
    assert (status, answer) == (204, b"")
    assert [n.id for n in received] == ["EV-1"]
    event = received[0].model
    assert isinstance(event, BusifavorCouponSendEvent) and event.coupon_code == "CODE-7"


@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_the_async_client_takes_the_same_spellings(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, spelling: str
) -> None:
    headers, body = notification(platform_key)
    received: list[Notification] = []

    async def on_event(note: Notification) -> None:
        received.append(note)

    async with AsyncClient(**client_options(merchant_key, platform_key)) as client:
        given = spellings(headers, body)[spelling]
        assert (await client.parse_notification(given, body)).id == "EV-1"
        assert await client.handle_notification(given, body, on_event) == (204, b"")
    assert [n.id for n in received] == ["EV-1"]


def test_the_meta_spelling_is_mapped_and_everything_else_in_it_is_harmless() -> None:
    meta = as_meta({"Wechatpay-Signature": "c2ln", "Request-ID": "r-1"}, b"{}")
    view = notification_headers(meta)
    assert view["Wechatpay-Signature"] == "c2ln" and view["request-id"] == "r-1"
    assert view.get("wsgi.input") is not None  # kept under its own name, never read as a header
    assert notification_headers({1: "x", "Wechatpay-Nonce": "n"}) == notification_headers({"Wechatpay-Nonce": "n"})  # type: ignore[dict-item]


def test_the_blocking_handler_refuses_what_does_not_verify(blocking: Client, platform_key: rsa.RSAPrivateKey) -> None:
    headers, body = notification(platform_key)
    called: list[Notification] = []
    status, answer = blocking.handle_notification(as_meta(headers, body), body.replace(b"EV-1", b"EV-2"), called.append)
    assert status == 401 and json.loads(answer)["code"] == "FAIL" and called == []
    del headers["Wechatpay-Signature"]
    status, _ = blocking.handle_notification(headers, body, called.append)
    assert status == 401 and called == []


def test_a_failing_callback_answers_500_so_wechat_pay_sends_it_again(
    blocking: Client, platform_key: rsa.RSAPrivateKey
) -> None:
    headers, body = notification(platform_key)

    def on_event(note: Notification) -> None:
        raise RuntimeError("database down")

    status, answer = blocking.handle_notification(headers, body, on_event)
    assert status == 500 and json.loads(answer) == {
        "code": "FAIL",
        "message": "the merchant could not process the notification; please retry",
    }


def test_the_callback_runs_on_the_calling_thread_and_may_use_the_client(
    blocking: Client, platform_key: rsa.RSAPrivateKey
) -> None:
    headers, body = notification(platform_key)
    seen: list[tuple[int, str]] = []

    def on_event(note: Notification) -> None:
        # A blocking call from the callback: on the client's loop thread this would be refused.
        again = blocking.parse_notification(headers, body)
        seen.append((threading.get_ident(), again.id))

    assert blocking.handle_notification(headers, body, on_event) == (204, b"")
    assert seen == [(threading.get_ident(), "EV-1")]


def test_an_async_callback_on_the_blocking_client_is_a_type_error(
    blocking: Client, platform_key: rsa.RSAPrivateKey
) -> None:
    headers, body = notification(platform_key)

    async def on_event(note: Notification) -> None:
        raise AssertionError("never run")

    with pytest.raises(TypeError, match="plain function"):
        blocking.handle_notification(headers, body, on_event)


def test_recent_notifications_are_answered_without_calling_back_twice(
    blocking: Client, platform_key: rsa.RSAPrivateKey
) -> None:
    headers, body = notification(platform_key)
    recent = RecentNotifications()
    calls: list[str] = []
    for _ in range(2):
        assert blocking.handle_notification(headers, body, lambda n: calls.append(n.id), recent=recent) == (204, b"")
    assert calls == ["EV-1"] and "EV-1" in recent


def test_a_plain_wsgi_application(blocking: Client, platform_key: rsa.RSAPrivateKey) -> None:
    """No framework: the environ a WSGI server passes, the body read from wsgi.input."""
    received: list[Notification] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        status, answer = blocking.handle_notification(environ, body, received.append)
        start_response(f"{status} {'No Content' if status == 204 else 'Error'}", [("Content-Type", "application/json")])
        return [answer]

    headers, body = notification(platform_key)
    statuses: list[str] = []
    assert app(as_meta(headers, body), lambda status, _headers: statuses.append(status)) == [b""]
    assert statuses == ["204 No Content"] and [n.id for n in received] == ["EV-1"]


def test_the_documented_flask_adapter(blocking: Client, platform_key: rsa.RSAPrivateKey) -> None:
    flask = pytest.importorskip("flask")
    request = flask.request
    received: list[Notification] = []
    client = blocking

    app = flask.Flask(__name__)

    @app.post("/wxpay/notify")
    def wxpay_notify() -> Any:
        status, body = client.handle_notification(request.headers, request.get_data(), received.append)
        return body, status, {"Content-Type": "application/json"}

    headers, body = notification(platform_key)
    with app.test_client() as http:
        answer = http.post("/wxpay/notify", data=body, headers=headers)
        assert answer.status_code == 204 and answer.data == b""
        refused = http.post("/wxpay/notify", data=body + b" ", headers=headers)
        assert refused.status_code == 401 and refused.get_json()["code"] == "FAIL"
    assert [n.id for n in received] == ["EV-1"]


@pytest.fixture
def django_app(blocking: Client) -> Iterator[Any]:
    pytest.importorskip("django")
    from . import _django_app

    _django_app.configure()
    _django_app.client = blocking
    _django_app.received.clear()
    yield _django_app
    _django_app.received.clear()


@pytest.mark.parametrize("route", ["/wxpay/notify", "/wxpay/notify-headers"])
def test_the_documented_django_adapter(django_app: Any, platform_key: rsa.RSAPrivateKey, route: str) -> None:
    from django.test import Client as DjangoClient

    headers, body = notification(platform_key)
    http = DjangoClient(enforce_csrf_checks=True)  # WeChat Pay sends no CSRF token: the view is exempt
    answer = http.post(route, data=body, content_type="application/json", headers=headers)
    assert answer.status_code == 204 and answer.content == b""
    assert [n.id for n in django_app.received] == ["EV-1"]
    refused = http.post(route, data=body, content_type="application/json", headers={**headers, "Wechatpay-Nonce": "x"})
    assert refused.status_code == 401 and json.loads(refused.content)["code"] == "FAIL"
    assert http.get(route).status_code == 405


async def test_the_async_handler_is_what_fastapi_and_starlette_adapters_call(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    """Starlette's request.headers are lower-case pairs behind items(): the spelling the adapter passes."""
    headers, body = notification(platform_key)
    starlette_like = _Pairs([(k.lower(), v) for k, v in headers.items()])
    got: list[str] = []
    async with AsyncClient(**client_options(merchant_key, platform_key)) as client:
        status, answer = await client.handle_notification(starlette_like, body, lambda n: got.append(n.id))
    assert (status, answer, got) == (204, b"", ["EV-1"])
