"""``wxpay-chain request``: one signed call, APIv3 (``--json``) or APIv2 (``v2/...`` with ``--xml``), its
verified answer as JSON on stdout.

The command line is checked against the path before a client is made, so a mistake is named by its flag
(exit 2) rather than by the SDK keyword it would have become.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import _cli
from ._cli import Command, UsageError
from ._errors import not_json

__all__ = ["REQUEST"]

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_V3_ELSEWHERE = "query parameters go in --query NAME=VALUE, a body in --json"
_V2_ELSEWHERE = "APIv2 fields go in --xml"


def _request_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("method", type=str.upper, choices=_METHODS, metavar="METHOD", help=", ".join(_METHODS))
    parser.add_argument(
        "template",
        help="e.g. v3/marketing/busifavor/users/{openid}/coupons, or v2/mmpaymkttransfers/query_coupon_stock",
    )
    _cli.add_client_arguments(parser)
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="path placeholder")
    parser.add_argument(
        "--query",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="query parameter, sent as typed (typed endpoints convert to their declared numbers and booleans)",
    )
    body = parser.add_mutually_exclusive_group()
    body.add_argument("--json", default=None, help="JSON body (text, or @file, or @- for stdin)")
    body.add_argument(
        "--xml",
        default=None,
        metavar="JSON",
        help='for v2/ paths (APIv2, POST): the fields as a JSON object, e.g. \'{"coupon_stock_id": "1757"}\' '
        "(or @file, or @- for stdin); mch_id, nonce_str and sign are added",
    )
    parser.add_argument(
        "-i", "--include", action="store_true", help="print {status, request_id, headers, body} instead of the body"
    )


def _request(args: argparse.Namespace) -> int:
    options = _v2_options(args) if _is_v2(args.template) else _v3_options(args)
    _cli.require_stdout("the answer")  # a call carried out whose answer is lost would be sent again
    with _cli.blocking_client(args) as client:
        response = getattr(client.chain(args.template), args.method.lower())(**options)
    _cli.write_answer(response, include=args.include)
    return 0


def _is_v2(template: str) -> bool:
    from ._roots import is_v2

    return is_v2(template)


def _v3_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.xml is not None:
        raise UsageError(f"--xml is for APIv2 (v2/...) paths; {args.template} takes a JSON body in --json")
    options: dict[str, Any] = dict(_cli.path_params(args.template, args.param, _V3_ELSEWHERE))
    if args.query:
        options["query"] = _cli.typed_query(args.method, args.template, _cli.pairs(args.query, "--query"))
    if args.json is not None:
        options["json"] = _json_body(args.json, "--json")
    return options


def _v2_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.json is not None:
        raise UsageError('--json: v2/ paths are APIv2 calls: pass their fields as --xml \'{"name": "value"}\'')
    if args.method != "POST":
        raise UsageError(f"v2/ paths are APIv2 calls, sent with POST, not {args.method}")
    if args.query:
        raise UsageError("--query: APIv2 calls send every field in --xml")
    _cli.path_params(args.template, args.param, _V2_ELSEWHERE)
    if args.xml is None:
        raise UsageError(f'{args.template} is an APIv2 call: pass its fields as --xml \'{{"name": "value"}}\'')
    fields = _json_body(args.xml, "--xml")
    if not isinstance(fields, dict):
        raise UsageError('--xml must be a JSON object of the APIv2 fields, e.g. \'{"coupon_stock_id": "1757"}\'')
    return {"xml": fields}


def _json_body(text: str, option: str) -> Any:
    source = option
    try:
        if text.startswith("@"):
            source = "stdin" if text == "@-" else text[1:]
            text = sys.stdin.read() if text == "@-" else Path(text[1:]).read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{option}: {source} is not UTF-8 (at byte offset {exc.start}); save it as UTF-8") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{source} {not_json(exc)}") from None


REQUEST = Command(
    "send one signed request (configured by WXPAY_* or --config) and print the verified JSON answer",
    _request_arguments,
    _request,
)
