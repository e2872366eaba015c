"""``wxpay-chain demo``: the three call styles, then the SDK's stories, against an in-process sandbox.

The demo is a sequence of :data:`STEPS`, each ``async def step(demo: Demo) -> None``, printing through
:meth:`Demo.say` so that every line fits in :data:`WIDTH` columns. The lines of code it shows are the
lines it runs.
"""

from __future__ import annotations

import ast
import asyncio
import sys
import textwrap
import time
import unicodedata
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ApiError, InvalidRequestError, SignatureError
from ._demo_files import show_files
from ._demo_v2 import show_v2
from ._seed import DEMO_APPID, DEMO_OPENIDS, DEMO_STOCK_IDS
from ._server import Sandbox
from ._threaded import ThreadedSandbox

if TYPE_CHECKING:
    from .._client import AsyncClient

WIDTH = 100
BRAND_ID, PRODUCT_COUPON_ID, STOCK_ID = "120344", "1000000013", DEMO_STOCK_IDS[0]
RICH, LIGHT, FRESH = DEMO_OPENIDS


def columns(text: str) -> int:
    """How many terminal columns ``text`` takes: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def say(text: str, indent: int = 2) -> None:
    """Print ``text`` wrapped to WIDTH columns (continuation lines indented two more)."""
    for line in text.splitlines() or [""]:
        # textwrap counts characters; narrowing by the wide ones keeps every line within WIDTH columns.
        width = WIDTH - (columns(line) - len(line))
        wrapped = textwrap.fill(
            line, width, initial_indent=" " * indent, subsequent_indent=" " * (indent + 2), break_on_hyphens=False
        )
        print(wrapped)


def section(title: str) -> None:
    print()
    say(f"== {title}", indent=0)


class DemoClock:
    """The demo sandbox's clock: the system's, until a step moves it on (never back)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def move_to(self, when: float) -> None:
        self.offset = max(self.offset, when - time.time())


class Demo:
    """What each step gets: the sandbox, a merchant ``AsyncClient`` on the steps' loop, the sandbox's clock
    (which the sandbox's clients sign by), and the output."""

    def __init__(self, sandbox: ThreadedSandbox, client: AsyncClient, clock: DemoClock | None = None) -> None:
        self.sandbox = sandbox
        self.client = client
        self.clock = clock or DemoClock()

    section = staticmethod(section)
    say = staticmethod(say)


Step = Callable[[Demo], Awaitable[None]]

# -- the three call styles ------------------------------------------------------------------------

_STYLES = (
    ("attribute", "await client.v3.marketing.busifavor.users._openid_.coupons.get(openid=user, query=q)"),
    ("item", 'await client["v3/marketing/busifavor/users/{openid}/coupons"].get(openid=user, query=q)'),
    ("chain()", 'await client.chain("v3/marketing/busifavor/users/{openid}/coupons").get(openid=user, query=q)'),
)
_BLOCKING = "client.v3.marketing.busifavor.users._openid_.coupons.get(openid=user, query=q)"


async def _run_line(code: str, names: dict[str, Any]) -> Any:
    """Run one shown line of code: awaited if it awaits, else on a worker thread (it blocks)."""
    compiled = compile(code, "<demo>", "eval", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if "await " in code:
        return await eval(compiled, names)
    return await asyncio.to_thread(eval, compiled, names)


def _coupon_summary(response: Any) -> str:
    page = response.parsed
    states = Counter(str(getattr(c.coupon_state, "value", c.coupon_state)) for c in page.data or [])
    counts = ", ".join(f"{n} {state}" for state, n in states.items())
    return f"→ {response.status}, {page.total_count} coupons ({counts}), Request-ID {response.request_id}"


async def styles(demo: Demo) -> None:
    demo.section("Three call styles: one call, spelled three ways")
    names: dict[str, Any] = {"client": demo.client, "user": RICH, "q": {"appid": DEMO_APPID}}
    demo.say(f'user = "{RICH}"   # a demo user of the sandbox')
    demo.say(f'q = {{"appid": "{DEMO_APPID}"}}')
    for style, code in _STYLES:
        demo.say(f"{style} style:")
        demo.say(code, indent=4)
        demo.say(_coupon_summary(await _run_line(code, names)), indent=4)
    demo.say("the blocking Client takes the same three styles, without await:")
    with demo.sandbox.blocking_client() as blocking:
        demo.say(_BLOCKING, indent=4)
        demo.say(_coupon_summary(await _run_line(_BLOCKING, {**names, "client": blocking})), indent=4)


# -- the stories ----------------------------------------------------------------------------------


def _send_body(request_no: str) -> dict[str, str]:
    return {
        "brand_id": BRAND_ID,
        "product_coupon_id": PRODUCT_COUPON_ID,
        "stock_id": STOCK_ID,
        "appid": DEMO_APPID,
        "send_request_no": request_no,
    }


def _product_coupons(demo: Demo) -> Any:
    return demo.client.v3.marketing.partner.productCoupon.users._openid_.coupons


async def idempotency(demo: Demo) -> None:
    demo.section("Idempotent sending: the same send_request_no twice issues one coupon")
    coupons = _product_coupons(demo)
    body = _send_body(f"DEMO-IDEMPOTENT-{int(time.time())}")
    before = len(demo.sandbox.issued_coupons())
    first = (await coupons.post(openid=FRESH, json=body)).parsed
    again = (await coupons.post(openid=FRESH, json=body)).parsed
    demo.say(f"first  coupon_code={first.coupon_code}")
    demo.say(f"again  coupon_code={again.coupon_code}")
    demo.say(f"coupons issued by the two calls: {len(demo.sandbox.issued_coupons()) - before}")


async def paging(demo: Demo) -> None:
    demo.section("Paging: product coupons with page_token, page by page (page_size=3)")
    coupons = _product_coupons(demo)
    query: dict[str, Any] | None = {"brand_id": BRAND_ID, "appid": DEMO_APPID, "page_size": 3}
    number = 0
    while query is not None:
        page = (await coupons.get(openid=RICH, query=query)).parsed
        number += 1
        codes = ", ".join(c.coupon_code for c in page.user_coupon_list)
        total = f" (total_count={page.total_count})" if page.total_count is not None else ""
        demo.say(f"page {number}: {codes}{total}")
        query = {**query, "page_token": page.next_page_token} if page.next_page_token else None
    busifavor = demo.client.v3.marketing.busifavor.users._openid_.coupons
    items = [c async for c in busifavor.paginate(openid=RICH, query={"appid": DEMO_APPID, "limit": 2})]
    codes = ", ".join(c.coupon_code or "-" for c in items)
    demo.say(f"busifavor with offset/limit=2 via paginate(): {len(items)} coupons ({codes})")


async def errors(demo: Demo) -> None:
    demo.section("Errors, each typed, each before or instead of trusting anything")
    coupons = _product_coupons(demo)
    seen = demo.sandbox.received.total_count
    try:
        await coupons.get(openid=RICH, query={"brand_id": BRAND_ID, "appid": DEMO_APPID, "page_size": 99})
    except InvalidRequestError as exc:
        sent = demo.sandbox.received.total_count - seen
        demo.say(f"InvalidRequestError (nothing sent: {sent} requests): {exc}")
    try:
        await demo.client.v3.marketing.favor.users._openid_.coupons._coupon_id_.get(
            openid=LIGHT, coupon_id="404404", query={"appid": DEMO_APPID}
        )
    except ApiError as exc:
        demo.say(f"{type(exc).__name__}: {exc.status} {exc.code} request_id={exc.request_id}")
    request_no = f"DEMO-LIMIT-{int(time.time())}"
    try:
        # The rich demo user holds 2 of this stock already, the most one user may hold.
        await coupons.post(openid=RICH, json=_send_body(request_no))
    except ApiError as exc:
        demo.say(f"{type(exc).__name__}: {exc.status} {exc.code}: {exc.message}")


async def signtest(demo: Demo) -> None:
    demo.section("A WECHATPAY/SIGNTEST/ probe signature is rejected")
    async with Sandbox(probe_rate=1.0, keys=demo.sandbox.keys) as probing, probing.client() as client:
        try:
            await client.v3.marketing.busifavor.users._openid_.coupons.get(openid=RICH, query={"appid": DEMO_APPID})
        except SignatureError as exc:
            demo.say(f"SignatureError: {exc}")


#: The demo, in order. More stories (uploads and bills, APIv2) join here: ``async def step(demo) -> None``.
STEPS: tuple[Step, ...] = (styles, idempotency, paging, errors, signtest, show_files, show_v2)

NEXT = (
    "{prog} sandbox --state-dir ./sandbox-state",
    "    a sandbox to point your own code at: it writes config.json and wxpay.env there",
    "{prog} request GET 'v3/marketing/busifavor/users/{{openid}}/coupons' \\",
    f"    --config ./sandbox-state/config.json --param openid={RICH} \\",
    f"    --query appid={DEMO_APPID}",
    "README.md, 'Testing your own code against it': pytest fixtures with a fresh sandbox per test",
)


async def _run_steps(sb: ThreadedSandbox, clock: DemoClock) -> None:
    async with sb.client() as client:
        demo = Demo(sb, client, clock)
        for step in STEPS:
            await step(demo)


def run_demo() -> int:
    started = time.perf_counter()
    clock = DemoClock()
    with Sandbox.in_thread(clock=clock) as sb:
        creds = sb.credentials
        say(f"wxpay_chain demo against a WeChat Pay sandbox at {sb.base_url} (offline)", indent=0)
        say(f"merchant {creds.mchid} signs; answers are verified with {creds.pub_key_id}", indent=0)
        asyncio.run(_run_steps(sb, clock))
        calls = sb.received.total_count
    section("What to run next")
    # As it was called (.venv/bin/wxpay-chain in the README): a bare name needs the venv activated.
    prog = sys.argv[0] if Path(sys.argv[0]).name == "wxpay-chain" else "wxpay-chain"
    for line in NEXT:
        print("  " + (line.format(prog=prog) if "{prog}" in line else line))
    say(
        f"{calls} signed requests checked by the sandbox, every answer verified; "
        f"done in {time.perf_counter() - started:.1f} s.",
        indent=0,
    )
    return 0
