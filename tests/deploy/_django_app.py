"""The Django adapter documented in the README (a view and its URL), as a tiny project for the tests."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wxpay_chain import Client
from wxpay_chain.notifications import Notification

client = cast(Client, None)  # set by the tests, as a project sets it once per process
received: list[Notification] = []


def on_event(notification: Notification) -> None:
    received.append(notification)


# -- the documented view -------------------------------------------------------------------------
@csrf_exempt
@require_POST
def wxpay_notify(request: HttpRequest) -> HttpResponse:
    status, body = client.handle_notification(request.META, request.body, on_event)
    return HttpResponse(body, status=status, content_type="application/json")


# The same with request.headers (Django's case-insensitive view) instead of request.META.
@csrf_exempt
@require_POST
def wxpay_notify_headers(request: HttpRequest) -> HttpResponse:
    status, body = client.handle_notification(request.headers, request.body, on_event)
    return HttpResponse(body, status=status, content_type="application/json")


urlpatterns: list[Any] = [
    path("wxpay/notify", wxpay_notify),
    path("wxpay/notify-headers", wxpay_notify_headers),
]


def configure() -> None:
    """Settings for this one-file project (once per process, as Django allows)."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="tests-only-" + "x" * 40,
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF=__name__,
            INSTALLED_APPS=[],
            MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
            USE_TZ=True,
        )
        django.setup()
