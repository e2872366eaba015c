"""Typed use of the sandbox helpers, checked by ``mypy --strict`` (test_typing.py): ``sb.client()`` is an
AsyncClient, ``sb.blocking_client()`` a Client; the ``type: ignore`` lines must stay errors."""

from __future__ import annotations

from wxpay_chain import AsyncClient, Client, Response
from wxpay_chain.sandbox import Sandbox, ThreadedSandbox


async def async_helpers(sb: Sandbox) -> int:
    merchant: AsyncClient = sb.client()
    brand: AsyncClient = sb.brand_client(timeout=5)
    async with merchant, brand:
        answer: Response = await merchant.v3.certificates.get()
        return answer.status


def blocking_helpers(sb: ThreadedSandbox) -> int:
    with sb.blocking_client() as merchant, sb.blocking_brand_client() as brand:
        answer: Response = merchant.v3.certificates.get()
        assert brand.mode == "brand"
        return answer.status


async def threaded_async(sb: ThreadedSandbox) -> AsyncClient:
    return sb.client()


def mistakes_mypy_must_catch(sb: ThreadedSandbox) -> None:
    blocking: Client = sb.client()  # type: ignore[assignment]
    asynchronous: AsyncClient = sb.blocking_client()  # type: ignore[assignment]
    with sb.client():  # type: ignore[attr-defined]
        pass
    del blocking, asynchronous


def from_env() -> tuple[Client, AsyncClient]:
    return Client.from_env(timeout=5), AsyncClient.from_env({"WXPAY_MCHID": "1900000001"})
