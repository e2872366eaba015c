"""APIv2 request numbers in a state dir: partner_trade_no and mch_billno, the quotas and the v2 coupons are
kept in the SQLite store, so they hold across sandboxes sharing the dir, restarts and concurrent sends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from wxpay_chain import ApiError, AsyncClient
from wxpay_chain.sandbox import DEMO_APPID, Sandbox, ThreadedSandbox, default_key_set

USER = "oh-394z-ApiV2PersistUser0001"


def _coupon(number: str, openid: str = USER) -> dict[str, Any]:
    return {
        "coupon_stock_id": "1757",
        "openid_count": 1,
        "partner_trade_no": number,
        "openid": openid,
        "appid": DEMO_APPID,
    }


def _packet(number: str, openid: str = USER, amount: int = 1000) -> dict[str, Any]:
    return {
        "mch_billno": number,
        "wxappid": DEMO_APPID,
        "send_name": "沙箱",
        "re_openid": openid,
        "total_amount": amount,
        "total_num": 1,
        "wishing": "新年快乐",
        "client_ip": "127.0.0.1",
        "act_name": "测试",
        "remark": "-",
    }


def _business(answer: dict[str, str]) -> dict[str, str]:
    # nonce_str and sign are new on every answer; the rest is what the first send answered.
    return {k: v for k, v in answer.items() if k not in ("nonce_str", "sign")}


@asynccontextmanager
async def _running(state_dir: Path) -> AsyncIterator[tuple[Sandbox, AsyncClient]]:
    sandbox = Sandbox(state_dir=state_dir, keys=default_key_set())
    async with sandbox as sb, sb.client(**sb.credentials.tls_options()) as client:
        yield sb, client


async def _send_coupon(client: AsyncClient, number: str, openid: str = USER) -> dict[str, str]:
    answer = await client.v2.mmpaymkttransfers.send_coupon.post(xml=_coupon(number, openid), security=True)
    return dict(answer.xml())


async def _sendredpack(client: AsyncClient, number: str, **fields: Any) -> dict[str, str]:
    answer = await client.v2.mmpaymkttransfers.sendredpack.post(xml=_packet(number, **fields), security=True)
    return dict(answer.xml())


async def _sent_num(client: AsyncClient) -> str:
    query = {"coupon_stock_id": "1757", "appid": DEMO_APPID}
    return str((await client.v2.mmpaymkttransfers.query_coupon_stock.post(xml=query)).xml()["is_send_num"])


async def test_one_partner_trade_no_is_one_coupon_across_two_sandboxes_on_one_state_dir(tmp_path: Path) -> None:
    async with _running(tmp_path) as (first, one), _running(tmp_path) as (second, two):
        sent = await _send_coupon(one, "PT-1")
        again = await _send_coupon(two, "PT-1")
        assert _business(again) == _business(sent) and sent["coupon_id"] == "10000001"
        with pytest.raises(ApiError) as other:  # the same number with other fields, at the other sandbox
            await _send_coupon(two, "PT-1", openid="someone-else")
        assert other.value.code == "PARAM_ERROR"
        assert (await _send_coupon(two, "PT-2"))["coupon_id"] == "10000002"
        assert (await _send_coupon(one, "PT-3"))["coupon_id"] == "10000003"  # never an id the other one issued
        assert await _sent_num(one) == await _sent_num(two) == "3"
        query = {"coupon_id": "10000002", "openid": USER, "appid": DEMO_APPID, "stock_id": "1757"}
        info = (await one.v2.mmpaymkttransfers.querycouponsinfo.post(xml=query)).xml()
        assert (info["coupon_id"], info["coupon_state"]) == ("10000002", "SENDED")
        assert list(first.v2.coupons) == list(second.v2.coupons) == ["10000001", "10000002", "10000003"]


async def test_one_mch_billno_is_one_red_packet_across_two_sandboxes_on_one_state_dir(tmp_path: Path) -> None:
    async with _running(tmp_path) as (first, one), _running(tmp_path) as (second, two):
        sent = await _sendredpack(one, "RP-1")
        again = await _sendredpack(two, "RP-1")
        assert _business(again) == _business(sent)
        with pytest.raises(ApiError) as other:
            await _sendredpack(two, "RP-1", amount=2000)
        assert other.value.code == "PARAM_ERROR"
        second_packet = await _sendredpack(two, "RP-2")
        assert second_packet["send_listid"] != sent["send_listid"]
        assert list(first.v2.redpacks) == list(second.v2.redpacks) == ["RP-1", "RP-2"]
        assert first.v2.redpacks["RP-1"]["send_listid"] == sent["send_listid"]
        assert second.v2.redpacks["RP-1"]["send_listid"] == sent["send_listid"]


async def test_the_per_user_quota_and_the_first_answers_survive_a_restart(tmp_path: Path) -> None:
    async with _running(tmp_path) as (_, before):
        answers = [await _send_coupon(before, f"Q-{n}") for n in range(3)]  # stock 1757: 3 per user
        query = {"coupon_id": answers[0]["coupon_id"], "openid": USER, "appid": DEMO_APPID, "stock_id": "1757"}
        info = _business((await before.v2.mmpaymkttransfers.querycouponsinfo.post(xml=query)).xml())
    async with _running(tmp_path) as (sb, after):
        with pytest.raises(ApiError) as full:
            await _send_coupon(after, "Q-3")
        assert full.value.code == "USER_AL_GET_COUPON"
        assert _business(await _send_coupon(after, "Q-0")) == _business(answers[0])  # replayed, not refused
        assert await _sent_num(after) == "3"
        assert _business((await after.v2.mmpaymkttransfers.querycouponsinfo.post(xml=query)).xml()) == info
        assert (await _send_coupon(after, "Q-4", openid="another-user"))["coupon_id"] == "10000004"
        assert len(sb.v2.coupons) == 4


@contextmanager
def _threaded(state_dir: Path) -> Iterator[ThreadedSandbox]:
    # Each serves from its own loop thread with its own SQLite connection: sends really run side by side.
    with ThreadedSandbox(Sandbox(state_dir=state_dir, keys=default_key_set())) as sandbox:
        yield sandbox
    sandbox.state.close()


async def test_concurrent_sends_of_one_number_to_two_sandboxes_issue_it_once(tmp_path: Path) -> None:
    numbers = [f"RACE-{n}" for n in range(16)]
    with _threaded(tmp_path) as a, _threaded(tmp_path) as b:
        async with AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(s.client(**s.credentials.tls_options())) for s in (a, b)]
            coupons = await asyncio.gather(
                *(_send_coupon(c, number, openid=f"racer-{number}") for number in numbers for c in clients)
            )
            packets = await asyncio.gather(*(_sendredpack(c, number) for number in numbers for c in clients))
    for pair in (coupons, packets):
        assert all(_business(x) == _business(y) for x, y in zip(pair[::2], pair[1::2], strict=True))
    issued = sorted(answer["coupon_id"] for answer in coupons[::2])
    assert len(set(issued)) == len(numbers)
    reopened = Sandbox(state_dir=tmp_path, keys=default_key_set())  # what the state dir holds
    assert sorted(reopened.v2.coupons) == issued
    assert sorted(reopened.v2.redpacks) == sorted(numbers)
    assert len({answer["send_listid"] for answer in packets}) == len(numbers)
    reopened.state.close()


async def test_a_snapshot_carries_the_v2_ledger_and_restoring_it_keeps_the_numbers(tmp_path: Path) -> None:
    async with _running(tmp_path / "a") as (sb, client):
        sent = await _send_coupon(client, "SNAP-1")
        packet = await _sendredpack(client, "SNAP-RP")
        snapshot = sb.state.snapshot()
        coupons, redpacks = sb.v2.coupons, sb.v2.redpacks
    async with _running(tmp_path / "b") as (other, client):
        other.state.restore(snapshot)
        assert (other.v2.coupons, other.v2.redpacks) == (coupons, redpacks)
        assert _business(await _send_coupon(client, "SNAP-1")) == _business(sent)
        assert _business(await _sendredpack(client, "SNAP-RP")) == _business(packet)
        assert (await _send_coupon(client, "SNAP-2"))["coupon_id"] == "10000002"
