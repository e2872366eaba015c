"""The typed chain (stubs, hover docs, dir(), validation) says what the runtime does.

Path arguments are the template's placeholders, a list in a query is one text, ``coupon_state`` takes every
value WeChat Pay lists, and ``paginate`` is offered only where paging is known.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, Client, InvalidRequestError, MemoryTransport, Request
from wxpay_chain._typed import _data
from wxpay_chain._typed._check import Validate
from wxpay_chain.models import BusifavorCouponQuery, BusifavorCouponState
from wxpay_chain.sandbox import DEMO_APPID, DEMO_OPENIDS

STUBS = Path(__file__).resolve().parents[2] / "wxpay_chain" / "_typed" / "_nodes.pyi"
VERB_NAMES = ("get", "post", "put", "patch", "delete", "__call__")
OPTIONS = {"query", "json", "xml", "data", "media"}
PUB_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"
BUSIFAVOR = "v3/marketing/busifavor/users/{openid}/coupons"
INVITE = "v3/new-tax-control-fapiao/fapiaomerchant/getspinviteurl"
INVITE_QUERY = {"operation_type": "AUTH_BINDING", "fapiao_mode": "THIRD_OR_SELF_FAPIAO", "invite_code": "c"}
# The endpoints whose vendored data misplaces a path parameter (misnamed, in the query or body, or missing).
MISPLACED = [
    ("GET", "v3/bank-transfer/batches/out-batch-no/{out_batch_no}"),
    ("PATCH", "v3/global/merchants/{sub_mchid}"),
    ("GET", "v3/global/papay/transactions/out-trade-no/{out_trade_no}"),
    ("GET", "v3/merchant/fund/withdraw/bill-type/{bill_type}"),
    ("POST", "v3/offlinefacemch/organizations/{organization_id}/users/user-id/{user_id}/terminate-contract"),
    ("POST", "v3/payscore/users/{openid}/permissions/{service_id}/terminate"),
]


@cache
def stub_classes() -> dict[str, ast.ClassDef]:
    tree = ast.parse(STUBS.read_text("utf-8"))
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def stub_verbs() -> list[tuple[str, str, ast.FunctionDef]]:
    """(method, template, function) of every typed verb, the endpoint read from its docstring."""
    found = []
    for cls in stub_classes().values():
        for item in cls.body:
            if isinstance(item, ast.FunctionDef) and item.name in VERB_NAMES:
                line = re.search(r"^(GET|POST|PUT|PATCH|DELETE) (\S+)$", ast.get_docstring(item) or "", re.M)
                assert line is not None, f"{cls.name}.{item.name} has no endpoint line"
                found.append((line.group(1), line.group(2), item))
    return found


# A placeholder as the template's text spells it: read here with a regex, not the SDK's parser.
HOLE = re.compile(r"\{([^{}/]+)\}")


def template_holes(template: str) -> list[str]:
    return [n for n in HOLE.findall(template) if n != "empty"]  # {empty} may be left out (a trailing slash)


def path_holes(template: str) -> set[str]:
    return set(template_holes(template))


@pytest.fixture(scope="module")
def client() -> AsyncClient:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return AsyncClient(mchid="1900000001", serial="AB", private_key=key, platform_keys={PUB_KEY_ID: key.public_key()})


# -- 1. path arguments are the template's placeholders -------------------------------------------------


def test_every_typed_verb_takes_exactly_the_templates_placeholders_as_path_arguments() -> None:
    verbs = stub_verbs()
    assert len(verbs) > 1100  # every endpoint an attribute chain reaches
    wrong = [
        (method, template, sorted(kwargs), sorted(path_holes(template)))
        for method, template, function in verbs
        if (kwargs := {a.arg for a in function.args.kwonlyargs} - OPTIONS) != path_holes(template)
    ]
    assert wrong == []
    required = {  # and each is required: no default
        (m, t) for m, t, f in verbs
        if any(d is not None for a, d in zip(f.args.kwonlyargs, f.args.kw_defaults, strict=True)
               if a.arg not in OPTIONS)
    }
    assert required == set()


def test_the_data_behind_docs_and_checks_has_the_templates_placeholders_and_no_query_twin() -> None:
    for (method, template), op in _data.operations().items():
        path = [p["name"] for p in op.get("path", ())]
        assert path == template_holes(template), (method, template)
        assert all(p["required"] for p in op.get("path", ())), (method, template)
        assert not set(path) & {p["name"] for p in op.get("query", ())}, (method, template)
    # What the vendored file says of the misplaced ones: each really is misplaced there, so this is a fix.
    vendored = {(op["method"], op["template"]): op for op in _data._read("operations.json")["operations"]}
    for key in MISPLACED:
        op = vendored[key]
        assert [p["name"] for p in op.get("path", ())] != template_holes(key[1]), key


def _example_call(client: AsyncClient, doc: str) -> tuple[str, str, dict[str, Any]]:
    """The method, template and keyword arguments of the example at the end of a verb's doc."""
    line = doc.rstrip().splitlines()[-1].strip().removeprefix("await ")
    # "{...}" and a trailing ", ...}" stand for fields the reader fills in: none here.
    call = ast.parse(line.replace(", ...}", "}").replace("{...}", "{}"), mode="eval").body
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and not call.args
    verb = eval(compile(ast.Expression(call.func), "<example>", "eval"), {"client": client})
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg is not None}
    return verb._method, verb._parent, kwargs


@pytest.mark.parametrize(("method", "template"), MISPLACED)
@pytest.mark.parametrize("policy", ["strict", "types"])
def test_the_hover_example_of_each_misplaced_endpoint_runs_through_prepare(
    client: AsyncClient, method: str, template: str, policy: Validate
) -> None:
    chain = client[template]
    doc = getattr(chain, method.lower()).__doc__  # the stub's docstring too (test_generated keeps them one)
    assert f"{method} {template}" in doc
    called, at, kwargs = _example_call(client, doc)
    assert (called, at) == (method, template)
    prepared = client.with_options(validate=policy).prepare(method, template, kwargs=kwargs)
    expected = template
    for name in path_holes(template):
        assert name in kwargs
        expected = expected.replace("{" + name + "}", quote(str(kwargs[name]), safe=""))
    assert prepared.target.split("?")[0] == "/" + expected
    assert not set(path_holes(template)) & set(kwargs.get("query", {}))  # never asked twice
    documented = re.search(r"^path:\n((?:    .*\n)+)", doc, re.M)
    assert documented is not None
    assert sorted(re.findall(r"^    (\w+) \(", documented.group(1), re.M)) == sorted(path_holes(template))


# -- 2. a list in a query is one text -------------------------------------------------------------------


def _query_annotations(verb: ast.FunctionDef) -> dict[str, str]:
    query = next((a for a in verb.args.kwonlyargs if a.arg == "query"), None)
    if query is None or query.annotation is None:
        return {}
    fields: dict[str, str] = {}
    for name in re.findall(r"\w+", ast.unparse(query.annotation)):
        cls = stub_classes().get(name)
        for item in cls.body if cls else ():
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                fields[item.target.id] = ast.unparse(item.annotation)
    return fields


def test_no_query_field_is_typed_as_a_list_since_a_query_value_is_text() -> None:
    invite = []
    for method, template, verb in stub_verbs():
        fields = _query_annotations(verb)
        assert not [f for f, kind in fields.items() if "list[" in kind], (method, template, fields)
        if template == INVITE:
            invite.append(fields["fapiao_ability_type_list"])
    assert invite == ["str"]
    for op in _data.operations().values():
        assert all(p.get("type") != "array" for p in op.get("query", ())), op["template"]


@pytest.mark.parametrize("policy", ["strict", "types"])
def test_a_list_query_field_takes_one_text_and_refuses_a_list_naming_it(client: AsyncClient, policy: Validate) -> None:
    checked = client.with_options(validate=policy)
    query = {**INVITE_QUERY, "fapiao_ability_type_list": "BASE_ABILITY,REAL_ESTATE_ABILITY"}
    prepared = checked.prepare("GET", INVITE, kwargs={"query": query})
    assert "fapiao_ability_type_list=BASE_ABILITY%2CREAL_ESTATE_ABILITY" in prepared.target
    with pytest.raises(InvalidRequestError) as exc:
        checked.prepare("GET", INVITE, kwargs={"query": {**INVITE_QUERY, "fapiao_ability_type_list": ["BASE_ABILITY"]}})
    assert exc.value.problems[0][0] == "query.fapiao_ability_type_list"
    assert "one text" in exc.value.problems[0][1]
    doc = client[INVITE].get.__doc__ or ""
    assert "fapiao_ability_type_list (str) 发票能力类型 (a list: send its values as one text" in doc


# -- 3. coupon_state takes every value WeChat Pay lists --------------------------------------------------


@pytest.mark.parametrize("state", ["SENDED", "USED", "EXPIRED", "DELETED", "DEACTIVATED"])
@pytest.mark.parametrize("policy", ["strict", "types"])
def test_busifavor_coupon_state_takes_every_documented_value(client: AsyncClient, policy: Validate, state: str) -> None:
    checked = client.with_options(validate=policy)
    model = BusifavorCouponQuery(appid="wx1", coupon_state=BusifavorCouponState(state))
    for query in ({"appid": "wx1", "coupon_state": state}, model):
        prepared = checked.prepare("GET", BUSIFAVOR, kwargs={"openid": "o", "query": query})
        assert prepared.target.endswith(f"coupon_state={state}")
    with pytest.raises(InvalidRequestError) as exc:
        checked.prepare("GET", BUSIFAVOR, kwargs={"openid": "o", "query": {"appid": "wx1", "coupon_state": "GONE"}})
    assert [name for name, _ in exc.value.problems] == ["query.coupon_state"]


def test_the_typed_model_and_the_stub_list_deleted_and_deactivated() -> None:
    assert BusifavorCouponState("DELETED") is BusifavorCouponState.DELETED
    assert BusifavorCouponState("DEACTIVATED") is BusifavorCouponState.DEACTIVATED
    doc = _data.verb_doc("GET", BUSIFAVOR) or ""
    assert "coupon_state (str SENDED|USED|EXPIRED|DELETED|DEACTIVATED) 券状态" in doc
    stub = next(v for m, t, v in stub_verbs() if (m, t) == ("GET", BUSIFAVOR))
    assert "'DELETED'" in _query_annotations(stub)["coupon_state"]


def test_the_sandbox_lists_a_users_deleted_coupons(wxpay_client: Client) -> None:
    coupons = wxpay_client.v3.marketing.busifavor.users._openid_.coupons
    for state in ("DELETED", "DEACTIVATED"):
        answer = coupons.get(openid=DEMO_OPENIDS[0], query={"appid": DEMO_APPID, "coupon_state": state})
        assert answer.status == 200
        assert (answer.json()["total_count"], answer.json()["data"]) == (0, [])  # the sandbox holds none


# -- 4. paginate only where paging is known --------------------------------------------------------------


class _Sent(Exception):
    """What the transport raises: the call got as far as sending."""


async def _paginate(chain: Any, transport: MemoryTransport) -> str:
    """What the first step of ``chain.paginate()`` (every path argument given) does: "refused" (no known
    paging, before anything was sent), "sent", or another error's text."""
    sent = len(transport.requests)
    try:
        await chain.paginate(**dict.fromkeys(template_holes(chain.template), "x")).__anext__()
    except InvalidRequestError as exc:
        if "has no known paging" in str(exc):
            assert len(transport.requests) == sent, chain.template
            return "refused"
        return str(exc)
    except _Sent:
        return "sent"
    raise AssertionError(f"{chain.template}: a page without sending anything")


async def test_dir_offers_paginate_exactly_where_calling_it_is_not_refused() -> None:
    def handler(request: Request) -> Any:
        raise _Sent

    transport = MemoryTransport(handler)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    async with AsyncClient(
        mchid="1900000001",
        serial="AB",
        private_key=key,
        platform_keys={PUB_KEY_ID: key.public_key()},
        transport=transport,
        validate="off",  # a paged GET's required query fields are not what this is about
    ) as client:
        offered = {}
        for template in _data.tree():
            if template:
                chain = client[template]
                outcome = await _paginate(chain, transport)
                assert ("paginate" in dir(chain)) == (outcome != "refused"), (template, outcome)
                if outcome != "refused":
                    offered[template] = outcome
        assert offered[BUSIFAVOR] == "sent" and len(offered) >= 3
        unknown: list[Any] = [client.chain("v3/no/such/thing"), client.v3.marketing.favor.stocks]
        for chain in unknown:
            assert "paginate" not in dir(chain) and await _paginate(chain, transport) == "refused"


def test_the_stubs_type_paginate_only_on_nodes_whose_get_pages() -> None:
    classes = stub_classes()
    node = classes["Node"]
    assert not [i for i in node.body if isinstance(i, ast.FunctionDef) and i.name == "paginate"]
    paged_classes = {name for name, c in classes.items() if [ast.unparse(b) for b in c.bases] == ["Paged[R]"]}
    templates = {t for m, t, v in stub_verbs() if m == "GET" and v.name == "get"}
    by_class = {
        cls.name: t for cls in classes.values() for item in cls.body
        if isinstance(item, ast.FunctionDef) and item.name == "get"
        for t in [re.search(r"^GET (\S+)$", ast.get_docstring(item) or "", re.M).group(1)]  # type: ignore[union-attr]
    }
    assert {by_class[name] for name in paged_classes} == {t for t in templates if _data.pages(t)}
    assert BUSIFAVOR in {by_class[name] for name in paged_classes}
