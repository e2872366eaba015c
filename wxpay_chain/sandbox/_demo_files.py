"""The demo's files step: one image uploaded (signed over its meta JSON) and one bill downloaded, inflated
and checked against its SHA1, then parsed; a wrong hash shows the error it raises.

``show_files`` is a demo step (``async def step(demo) -> None``): ``demo`` has ``client`` (a merchant
AsyncClient of the sandbox), ``clock`` (the sandbox's, to move on), ``section`` and ``say``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .._errors import ApiError, IntegrityError
from .._media import Media
from ..bills import parse_bill
from ._bills import bill_ready_time
from ._clock import CHINA, china_day

__all__ = ["show_files"]

# A 1x1 PNG: the upload's sandbox checks its SHA-256, suffix and size like WeChat Pay's.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005"
    "0001ff5ca7ae2b0000000049454e44ae426082"
)


async def show_files(demo: Any) -> None:
    client = demo.client
    demo.section("Files: an image upload signed over its meta, a bill checked against its SHA1")
    media = Media(PNG, filename="logo.png")
    demo.say('await client.v3.merchant.media.upload.post(media=Media(png, filename="logo.png"))')
    uploaded = await client.v3.merchant.media.upload.post(media=media)
    meta = json.dumps({"filename": media.filename, "sha256": media.sha256}, separators=(",", ":"))
    demo.say(
        f"→ media_id={uploaded.json()['media_id'][:24]}… (the signature covers the {len(meta)}-byte meta JSON, "
        f"not the {len(uploaded.request.body)}-byte multipart body)",
        indent=4,
    )
    day = china_day(demo.sandbox.now())  # today's trades: the coupons this demo sent
    query = {"bill_date": day, "tar_type": "GZIP"}
    demo.say(f'bill = await client.v3.bill.tradebill.get(query={{"bill_date": "{day}", "tar_type": "GZIP"}})')
    try:
        await client.v3.bill.tradebill.get(query=query)
    except ApiError as exc:  # as WeChat Pay: today's bill is not made yet
        demo.say(f"→ {exc.status} {exc.code}: a day's bill is made after 10:00 (China time) the next day", indent=4)
    ready = bill_ready_time(day)
    demo.clock.move_to(ready)
    when = datetime.fromtimestamp(ready, CHINA).strftime("%Y-%m-%d %H:%M")
    demo.say(f"the sandbox clock moves on to {when} (China time), and the same call answers 200", indent=4)
    bill = (await client.v3.bill.tradebill.get(query=query)).json()
    demo.say("csv = await client.download(bill)")
    data = await client.download(bill)
    parsed = parse_bill(data)
    demo.say(
        f"→ {len(data)} bytes (gzip opened, SHA1 {bill['hash_value'][:8]}… checked): {len(parsed.rows)} trades, "
        f"{parsed.summary.get('应结订单总金额', '0.00')} yuan; bills.parse_bill() typed the rows",
        indent=4,
    )
    try:
        await client.download(bill["download_url"], hash_type="SHA1", hash_value="0" * 40)
    except IntegrityError as exc:
        demo.say(
            f"a wrong hash_value raises {type(exc).__name__} (a SignatureError); with to= nothing is kept", indent=4
        )
