"""The command line: ``wxpay-chain demo | sandbox | certificates | request`` (also ``python -m wxpay_chain``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._version import __version__


def _pairs(items: Sequence[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"{what} must look like name=value, got {item!r}")
        out[name] = value
    return out


def _client_from_config(path: str, brand: bool) -> Any:
    from ._sync import Client
    from .sandbox import SandboxCredentials

    credentials = SandboxCredentials.read_config(path)
    return Client(**(credentials.brand_options() if brand else credentials.merchant_options()))


def _request(args: argparse.Namespace) -> int:
    from ._errors import WxPayError

    options: dict[str, Any] = dict(_pairs(args.param, "--param"))
    if args.query:
        # a shell gives text; numbers go to WeChat Pay as numbers (limit=20), as in the typed models
        options["query"] = {k: int(v) if v.isdigit() else v for k, v in _pairs(args.query, "--query").items()}
    if args.json:
        options["json"] = json.loads(args.json)
    with _client_from_config(args.config, args.brand) as client:
        try:
            response = getattr(client.chain(args.template), args.method.lower())(**options)
        except WxPayError as exc:
            print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    print(f"{response.status} Request-ID {response.request_id} (signature verified)")
    print(json.dumps(response.json(), ensure_ascii=False, indent=2))
    return 0


async def _download_certificates(args: argparse.Namespace) -> int:
    from ._client import DEFAULT_BASE_URL, AsyncClient
    from ._errors import WxPayError

    out = Path(args.output)
    try:
        async with AsyncClient(
            mchid=args.mchid,
            serial=args.serial,
            private_key=args.privatekey,
            apiv3_key=args.key,
            base_url=args.baseurl or DEFAULT_BASE_URL,
            retry=1,
        ) as client:
            certificates = await client.download_certificates()
    except WxPayError as exc:
        # One line, no traceback; the SDK's messages never quote the key or the APIv3 key.
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    try:
        out.mkdir(parents=True, exist_ok=True)
        for cert in certificates:
            path = out / f"wechatpay_{cert.serial}.pem"
            path.write_text(cert.pem, "ascii")
            print(f"{cert.serial}  valid {cert.effective_time} .. {cert.expire_time}  -> {path}")
    except OSError as exc:
        print(f"cannot write to {str(out)!r}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"{len(certificates)} certificate(s) verified with the answer's own signature and written to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wxpay-chain", description="WeChat Pay APIv3 SDK tools.")
    parser.add_argument("--version", action="version", version=f"wxpay-chain {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("demo", help="run every seed endpoint in all six call styles against the embedded sandbox")

    sandbox = sub.add_parser("sandbox", help="run the local WeChat Pay sandbox until Ctrl-C")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=0, help="0 picks a free port")
    sandbox.add_argument("--state-dir", default=None, help="keep keys and coupons here across restarts")
    sandbox.add_argument("--probe-rate", type=float, default=0.0, help="share of answers with SIGNTEST probes")
    sandbox.add_argument(
        "--keep-requests", type=int, default=1000, help="how many received requests to keep for inspection"
    )

    certs = sub.add_parser("certificates", help="download, verify and save the WeChat Pay platform certificates")
    certs.add_argument("-m", "--mchid", required=True)
    certs.add_argument("-s", "--serial", required=True, help="your merchant API certificate serial")
    certs.add_argument(
        "-f",
        "--privatekey",
        required=True,
        help="your apiclient_key.pem: a path or file:// URL (or the key as one-line base64, "
        "though a command line is visible to other local users)",
    )
    certs.add_argument("-k", "--key", required=True, help="the 32-character APIv3 key")
    certs.add_argument("-o", "--output", required=True, help="folder for wechatpay_<serial>.pem files")
    certs.add_argument("-u", "--baseurl", default=None, help="API base URL (default: the WeChat Pay API)")

    request = sub.add_parser("request", help="send one signed request using a sandbox config.json")
    request.add_argument(
        "method", choices=["GET", "POST", "PUT", "PATCH", "DELETE", "get", "post", "put", "patch", "delete"]
    )
    request.add_argument("template", help="e.g. v3/marketing/busifavor/users/{openid}/coupons")
    request.add_argument("--config", required=True, help="config.json written by `wxpay-chain sandbox`")
    request.add_argument("--brand", action="store_true", help="sign as the brand (brand/ paths)")
    request.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="path placeholder")
    request.add_argument("--query", action="append", default=[], metavar="NAME=VALUE")
    request.add_argument("--json", default=None, help="JSON body")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        if args.command == "certificates":
            # An unquoted PEM key splits into words that argparse would echo: count them, never show them.
            parser.error(f"{len(extra)} unrecognized argument(s), not shown as they may be key material")
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "demo":
        from .sandbox._demo import run_demo

        return run_demo()
    if args.command == "sandbox":
        from .sandbox._cli import serve

        return serve(args.host, args.port, args.state_dir, args.probe_rate, args.keep_requests)
    if args.command == "request":
        return _request(args)
    if args.command == "certificates":
        import asyncio

        return asyncio.run(_download_certificates(args))
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
