"""The typed chain at run time: dir() completes known children and verbs, a verb's __doc__ documents it,
and ``import wxpay_chain`` reads none of the data."""

from __future__ import annotations

import pydoc
import subprocess
import sys

from wxpay_chain import AsyncClient


def test_import_wxpay_chain_does_not_load_the_endpoint_data() -> None:
    code = "import sys, wxpay_chain; print(any(m.startswith('wxpay_chain._typed._data') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_dir_lists_known_children_and_verbs(client: AsyncClient) -> None:
    marketing = dir(client.v3.marketing)
    assert {"busifavor", "favor", "partner", "chain", "template"} <= set(marketing)
    assert "get" not in marketing and "paginate" not in marketing  # no endpoint is v3/marketing itself
    coupons = dir(client.v3.marketing.busifavor.users._openid_.coupons)
    assert coupons == ["_coupon_code_", "chain", "get", "paginate", "template"]
    assert "productCoupon" in dir(client.v3.marketing.partner)  # spelled as a chain spells it


def test_dir_of_a_path_without_data_offers_every_verb(client: AsyncClient) -> None:
    assert dir(client.chain("sandboxnew/pay/getsignkey")) == [
        "chain", "delete", "get", "patch", "post", "put", "template"
    ]  # no paging is known there: paginate() would raise


def test_a_verbs_doc_gives_title_link_parameters_and_an_example(client: AsyncClient) -> None:
    verb = client.v3.marketing.busifavor.users._openid_.coupons.get
    doc = verb.__doc__
    assert doc is not None
    assert doc.startswith("根据过滤条件查询用户券")
    assert "GET v3/marketing/busifavor/users/{openid}/coupons" in doc
    assert "https://pay.weixin.qq.com/" in doc
    assert "openid (str, required) 用户标识" in doc
    assert "coupon_state (str SENDED|USED|EXPIRED|DELETED|DEACTIVATED) 券状态" in doc  # WeChat Pay's page's values
    assert 'await client.v3.marketing.busifavor.users._openid_.coupons.get(openid="' in doc
    assert "根据过滤条件查询用户券" in pydoc.render_doc(verb)  # help(verb)


def test_an_apiv2_security_call_s_example_presents_the_certificate(client: AsyncClient) -> None:
    # Followed as shown, send_coupon's example was refused: it needs the merchant API certificate.
    for verb in (client.v2.mmpaymkttransfers.send_coupon.post, client.v2.mmpaymkttransfers.sendredpack.post):
        assert (verb.__doc__ or "").rstrip().endswith(", security=True)")
    plain = client.v2.mmpaymkttransfers.query_coupon_stock.post.__doc__ or ""
    assert "security=True" not in plain and "media=" not in (client.v2.secapi.mch.uploadmedia.post.__doc__ or "")


def test_item_access_finds_the_same_doc_and_unknown_endpoints_keep_the_class_doc(client: AsyncClient) -> None:
    literal = client["v3/marketing/busifavor/users/{openid}/coupons"].get
    assert literal.__doc__ == client.v3.marketing.busifavor.users._openid_.coupons.get.__doc__
    unknown = client.chain("v3/no/such/thing").post.__doc__
    assert unknown is not None and "call it to send" in unknown
    assert "call it to send" in (type(literal).__doc__ or "")


def test_a_segment_named_like_a_verb_is_documented_as_the_endpoint_below_it(client: AsyncClient) -> None:
    doc = client.v3.profitsharing.receivers.delete.post.__doc__
    assert doc is not None and "POST v3/profitsharing/receivers/delete" in doc
    assert "post" in dir(client.v3.profitsharing.receivers.delete)


def test_the_brand_image_upload_is_known_at_run_time_as_in_the_stub(client: AsyncClient) -> None:
    # The stub typed it, but dir() and __doc__ did not know it: it was missing from the vendored data.
    media = client.brand.marketing.productCoupon.media
    assert "uploadImage" in dir(media)
    doc = media.uploadImage.post.__doc__ or ""
    assert "POST brand/marketing/product-coupon/media/upload-image" in doc and "media=Media(" in doc
