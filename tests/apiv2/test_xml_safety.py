"""APIv2 answers are parsed without DTDs or entities: an XXE document never leaks a local file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from wxpay_chain import AsyncClient, Headers, MemoryTransport, RawResponse, Request, SignatureError
from wxpay_chain._apiv2 import parse_xml
from wxpay_chain.sandbox._v2_wire import Fail, read_xml

SECRET = "TOP-SECRET-CONTENT-0xDEADBEEF"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def hostile_documents(path: Path) -> list[bytes]:
    url = path.as_uri()
    texts = [
        f'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "{url}">]><xml><a>&xxe;</a></xml>',
        f'<!DOCTYPE xml SYSTEM "{url}"><xml><return_code>SUCCESS</return_code></xml>',
        f'<!doctype xml [<!ENTITY % p SYSTEM "{url}"> %p;]><xml><a>1</a></xml>',
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><xml><a>&lol2;</a></xml>',
        "<xml><return_code>&xxe;</return_code></xml>",  # an entity with no DTD at all
    ]
    # The first again in UTF-16, where a byte search for "<!DOCTYPE" would miss it.
    utf16 = texts[0].replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")
    return [t.encode() for t in texts] + [utf16]


def test_parse_xml_refuses_every_hostile_document_without_reading_the_file(secret_file: Path) -> None:
    for document in hostile_documents(secret_file):
        with pytest.raises(SignatureError) as caught:
            parse_xml(document)
        assert SECRET not in str(caught.value) and SECRET not in repr(caught.value.__context__)


def test_cdata_and_escapes_are_read_as_text() -> None:
    assert parse_xml(b"<xml><a><![CDATA[<b>&amp;</b>]]></a><b>x &lt; y</b></xml>") == {
        "a": "<b>&amp;</b>",
        "b": "x < y",
    }


async def test_an_xxe_answer_through_the_client_raises_and_leaks_nothing(
    secret_file: Path, make_client: Callable[..., AsyncClient]
) -> None:
    documents = iter(hostile_documents(secret_file))

    def answer(request: Request) -> RawResponse:
        return RawResponse(200, Headers({"Content-Type": "text/xml"}), next(documents))

    async with make_client(transport=MemoryTransport(answer), ssl_context=None) as client:  # TLS is the transport's
        for _ in range(len(hostile_documents(secret_file))):
            with pytest.raises(SignatureError) as caught:
                await client.v2.mmpaymkttransfers.query_coupon_stock.post(xml={"coupon_stock_id": "1", "appid": "wx"})
            assert SECRET not in str(caught.value)


def test_the_sandbox_refuses_a_doctype_too(secret_file: Path) -> None:
    with pytest.raises(Fail, match="DOCTYPE"):
        read_xml(hostile_documents(secret_file)[0])
