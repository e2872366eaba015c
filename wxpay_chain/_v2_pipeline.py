"""APIv2 in the pipeline: ``v2/...`` chains are prepared as signed XML, and their answers checked as XML.

``client.v2.mmpaymkttransfers.send_coupon.post(xml={...}, security=True)`` posts to
``<base>/mmpaymkttransfers/send_coupon``, as the PHP SDK does. The sign (with nonce_str and mch_id) is
made once, when the call is prepared: APIv2 has no timestamp to refresh, and the call is sent again only
when it surely never left (the connection could not be made), so no attempt can send a coupon or a red
packet twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._apiv2 import answer_error, check_answer, fill_payload, missing_apiv2_key, parse_xml, to_xml
from ._errors import ConfigurationError, InvalidRequestError
from ._http import Request
from ._request import (
    USER_AGENT,
    PreparedRequest,
    RequestDefaults,
    request_for,
    timeout_and_origin,
    to_wire,
    with_caller_headers,
)
from ._transport import RawResponse
from ._typed._check import check_call
from ._unsigned import UNSIGNED_V2_ANSWERS, V2_FILE_ANSWERS
from ._uri import check_literal, expand, placeholders

__all__ = ["V2_OPTIONS", "V2Protocol", "is_v2_file", "prepare_v2"]

V2_OPTIONS = frozenset({"xml", "security", "headers", "timeout", "base_url"})
_CONTENT_TYPE = "text/xml"
_XML_START = re.compile(rb"[ \t\r\n]*(?:<|\Z)")  # what an XML answer (or an empty one) starts with


def is_v2_file(template: str, body: bytes) -> bool:
    """Whether an APIv2 answer is a bill's file (V2_FILE_ANSWERS), sent as it is: unsigned, not XML."""
    return template in V2_FILE_ANSWERS and not _XML_START.match(body)


def prepare_v2(defaults: RequestDefaults, method: str, template: str, options: Mapping[str, Any]) -> PreparedRequest:
    """Check and encode an APIv2 call: the XML with nonce_str, mch_id and sign, as it will be sent."""
    where = f"{method} {template}"
    check_literal(template)
    named = placeholders(template)  # the PHP docs' form of a path with capitals: ->_addinstitutionsub_
    unknown = sorted(set(options) - V2_OPTIONS - set(named))
    if unknown:
        raise InvalidRequestError(
            f"Unexpected arguments for the APIv2 call {where}",
            [(name, f"APIv2 calls take {', '.join(sorted(V2_OPTIONS))}") for name in unknown],
        )
    if method != "POST":
        raise InvalidRequestError(f"APIv2 calls are POST requests, not {where}", [("method", "use .post(xml=...)")])
    if named:  # from here on the call is the literal path it names, as chain("v2/secapi/mch/addInstitutionsub")
        template = expand(template, options)
        where = f"{method} {template}"
    path = template[len("v2/") :]
    if not path:
        raise InvalidRequestError(
            f"{where} names no APIv2 endpoint", [("path", "e.g. v2/mmpaymkttransfers/send_coupon")]
        )
    security = options.get("security", False)
    if not isinstance(security, bool):
        raise InvalidRequestError("security must be True or False", [("security", type(security).__name__)])
    settings = defaults.apiv2
    if settings is None or settings.key is None:
        raise missing_apiv2_key(where)
    if security and not settings.certificate:
        raise ConfigurationError(
            f"{where} with security=True presents the merchant API certificate: pass client_cert= "
            "(apiclient_cert.pem, or apiclient_cert.p12 with passphrase=) to the client"
        )
    payload = to_wire(options.get("xml"), "xml")  # a request model (models.v2_coupon, models.redpack) or a dict
    if payload is None:
        raise InvalidRequestError(f"{where} needs its fields", [("xml", "pass xml={...}")])
    if defaults.validate != "off":
        check_call(defaults.validate, method, template, options, None, payload)  # by the text each is sent as
    mch_id = settings.mch_id
    if mch_id is None and isinstance(payload, Mapping) and "mch_id" not in payload and "mchid" not in payload:
        raise InvalidRequestError(f"{where} needs a merchant id", [("xml.mch_id", "a brand client has none: pass it")])
    fields = fill_payload(payload, key=settings.key, mch_id=mch_id or "", nonce=settings.nonce())
    own = {"Accept": "text/xml", "User-Agent": USER_AGENT, "Content-Type": _CONTENT_TYPE}
    headers = with_caller_headers(own, options.get("headers"))
    timeout, origin, prefix = timeout_and_origin(defaults, options)
    body = to_xml(fields)
    return PreparedRequest(method, template, origin, prefix + path, body, headers, timeout, body, "v2", security)


class V2Protocol:
    """The send loop's APIv2 steps: no Authorization (the sign is in the body), the XML answer checked."""

    resends = False  # only a request that surely never left is sent again (see the module docstring)
    verifier = None  # the answer's sign is checked with the APIv2 key: no keys to download

    def __init__(self, key: str | None) -> None:
        self._key = key

    async def authorize(self, prepared: PreparedRequest, origin: str, overlapping: bool) -> Request:
        return request_for(prepared, origin)  # the sign is in the body already

    async def verify(
        self, request: Request, raw: RawResponse, request_id: str | None, fetch: object, deadline: float | None = None
    ) -> None:
        """SignatureError unless the answer is a signed (or unsigned) APIv2 document; ApiError for FAIL.
        A bill's file (V2_FILE_ANSWERS) is the body as it came: a failure there is XML, the file never is."""
        if is_v2_file(request.template, raw.body):
            return
        fields = parse_xml(raw.body)
        if fields.get("return_code", "SUCCESS") == "SUCCESS" and self._key is not None:
            check_answer(fields, self._key, signed=request.template not in UNSIGNED_V2_ANSWERS)  # FAIL has none
        error = answer_error(
            fields, status=raw.status, method=request.method, path=request.target, request_id=request_id
        )
        if error is not None:
            raise error
