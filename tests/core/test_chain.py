from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from wxpay_chain import AsyncClient, Chain

ENDPOINTS = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "conformance" / "endpoints.json").read_text("utf-8")
)
KEYWORDS = {"global", "class", "import", "def", "return", "in", "is", "not", "and", "or", "if", "else", "for"}


def attribute_chain(client: AsyncClient, segments: list[str]) -> Chain[object]:
    node: object = client
    for segment in segments:
        node = getattr(node, segment + "_" if segment in KEYWORDS else segment)
    assert isinstance(node, Chain)
    return node


def test_conformance_list_is_complete() -> None:
    assert len(ENDPOINTS) == 1143


def test_every_documented_endpoint_builds_its_template_in_all_three_styles(
    make_client: Callable[..., AsyncClient],
) -> None:
    client = make_client()
    for endpoint in ENDPOINTS:
        template = endpoint["template"]
        assert attribute_chain(client, endpoint["segments"]).template == template, endpoint["segments"]
        assert client[template].template == template
        assert client.chain(template).template == template
        verb = getattr(attribute_chain(client, endpoint["segments"]), endpoint["method"].lower())
        assert repr(verb) == f"<Verb {endpoint['method']} {template!r}>"


def test_item_access_keeps_capitals_and_ids_literally(make_client: Callable[..., AsyncClient]) -> None:
    client = make_client()
    assert client["v3/pay/transactions/id/4200ABCdef"].template == "v3/pay/transactions/id/4200ABCdef"
    assert client.v3.pay["transactions/outTradeNo"].template == "v3/pay/transactions/outTradeNo"
    assert client.chain("/v3/certificates").template == "v3/certificates"


def test_partial_chains_are_immutable_and_reusable(make_client: Callable[..., AsyncClient]) -> None:
    client = make_client()
    busifavor = client.v3.marketing.busifavor
    users = busifavor.users._openid_.coupons
    stocks = busifavor.stocks
    assert busifavor.template == "v3/marketing/busifavor"
    assert users.template == "v3/marketing/busifavor/users/{openid}/coupons"
    assert stocks.template == "v3/marketing/busifavor/stocks"
    assert repr(users) == "<Chain 'v3/marketing/busifavor/users/{openid}/coupons'>"
    with pytest.raises(AttributeError, match="immutable"):
        busifavor._template = "x"
    assert busifavor == client.v3.marketing.busifavor


def test_verb_names_are_segments_when_chained_further(make_client: Callable[..., AsyncClient]) -> None:
    client = make_client()
    receivers_delete = client.v3.profitsharing.receivers.delete
    assert receivers_delete.template == "v3/profitsharing/receivers/delete"
    assert repr(receivers_delete.post) == "<Verb POST 'v3/profitsharing/receivers/delete'>"
    assert repr(client.v3.things._id_.delete) == "<Verb DELETE 'v3/things/{id}'>"
    assert client.v3.a.get.b.template == "v3/a/get/b"


@pytest.mark.parametrize(
    "name",
    [
        "_repr_html_",
        "_repr_mimebundle_",
        "_ipython_display_",
        "_ipython_canary_method_should_not_exist_",
        "__wrapped__",
        "__length_hint__",
        "__fspath__",
    ],
)
def test_dunder_and_ipython_probes_raise_attribute_error(make_client: Callable[..., AsyncClient], name: str) -> None:
    client = make_client()
    with pytest.raises(AttributeError):
        getattr(client.v3.marketing, name)
    with pytest.raises(AttributeError):
        getattr(client, name)


def test_copy_and_hasattr_behave(make_client: Callable[..., AsyncClient]) -> None:
    client = make_client()
    chain = client.v3.marketing.busifavor
    assert copy.copy(chain).template == chain.template
    assert copy.deepcopy(chain).template == chain.template
    assert not hasattr(chain, "_repr_html_")


def test_a_chain_keeps_a_bounded_number_of_children_and_stays_immutable(
    make_client: Callable[..., AsyncClient],
) -> None:
    client = make_client()
    node = client.v3.things
    names = [f"n{i}" for i in range(100)]
    first = [getattr(node, name) for name in names]
    again = [getattr(node, name) for name in names]
    assert [c.template for c in again] == [f"v3/things/n{i}" for i in range(100)]
    assert sum(a is b for a, b in zip(first, again, strict=True)) == 64  # the first 64 are kept, the rest made anew
    assert client.v3 is client.v3 and "v3" in vars(client)  # an attribute now: __getattr__ is not called again
    before = len(vars(client))
    for i in range(300):  # names from data start no chain and never pile up on the client
        with pytest.raises(AttributeError):
            getattr(client, f"r{i}")
    assert len(vars(client)) == before
    assert [client.chain(f"r{i}").template for i in range(3)] == ["r0", "r1", "r2"]  # chain() takes any root
    with pytest.raises(AttributeError, match="immutable"):
        node.n0 = client.v3  # type: ignore[misc]
