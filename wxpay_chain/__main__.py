"""The command line: ``wxpay-chain demo | sandbox | certificates | request`` (also ``python -m wxpay_chain``).

Each subcommand is one entry of :data:`COMMANDS` (see :class:`wxpay_chain._cli.Command`): answers go to
stdout, status lines and errors to stderr; exit codes are 0, 1 (an error) and 2 (a usage error).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import _cli
from ._cli import Command, UsageError
from ._cli_files import BILL, UPLOAD
from ._cli_request import REQUEST
from ._version import __version__

# -- demo and sandbox ----------------------------------------------------------------------------


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def _demo(args: argparse.Namespace) -> int:
    from .sandbox._demo import run_demo

    return run_demo()


def _sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="default: the port a --state-dir was served on last, else a free one (as 0 picks)",
    )
    parser.add_argument("--state-dir", default=None, help="keep keys and coupons here across restarts")
    parser.add_argument("--probe-rate", type=float, default=0.0, help="share of answers with SIGNTEST probes")
    parser.add_argument(
        "--keep-requests", type=int, default=1000, help="how many received requests to keep for inspection"
    )
    parser.add_argument(
        "--notify-url",
        default=None,
        metavar="URL",
        help="POST a signed, encrypted COUPON.SEND notification here for each product coupon sent "
        "(4 tries over 10.5 s until one answers 2xx, then given up)",
    )


def _sandbox(args: argparse.Namespace) -> int:
    from .sandbox._cli import serve

    return serve(args.host, args.port, args.state_dir, args.probe_rate, args.keep_requests, args.notify_url)


# -- certificates --------------------------------------------------------------------------------


def _certificates_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument("-m", "--mchid", default=env("WXPAY_MCHID"), help="default: WXPAY_MCHID")
    parser.add_argument(
        "-s", "--serial", default=env("WXPAY_SERIAL"), help="your merchant API certificate serial (WXPAY_SERIAL)"
    )
    parser.add_argument(
        "-f",
        "--privatekey",
        default=env("WXPAY_PRIVATE_KEY"),
        help="your apiclient_key.pem: a path or file:// URL (or the key as one-line base64, "
        "though a command line is visible to other local users); default: WXPAY_PRIVATE_KEY",
    )
    parser.add_argument(
        "-k",
        "--key",
        default=None,
        help="the 32-character APIv3 key; better left out: it is then read from WXPAY_APIV3_KEY, "
        "or asked for without echo (argv is visible to other local users and kept in shell history)",
    )
    parser.add_argument("-o", "--output", required=True, help="folder for wechatpay_<serial>.pem files")
    parser.add_argument(
        "-u", "--baseurl", default=env("WXPAY_BASE_URL"), help="API base URL (default: WXPAY_BASE_URL, or WeChat Pay)"
    )


def _certificates(args: argparse.Namespace) -> int:
    import asyncio

    for option, value, variable in (
        ("-m/--mchid", args.mchid, "WXPAY_MCHID"),
        ("-s/--serial", args.serial, "WXPAY_SERIAL"),
        ("-f/--privatekey", args.privatekey, "WXPAY_PRIVATE_KEY"),
    ):
        if not value:
            raise UsageError(f"{option} is required (or set {variable})")
    if os.path.exists(args.output) and not os.path.isdir(args.output):  # known before the download, not after
        raise UsageError(f"-o/--output names a folder for the certificates; {args.output!r} is a file")
    key = args.key or os.environ.get("WXPAY_APIV3_KEY") or None
    if key is None:
        if not _cli._interactive():
            raise UsageError("the APIv3 key is needed: set WXPAY_APIV3_KEY, or run in a terminal to be asked")
        key = _cli.prompt_apiv3_key()
    return asyncio.run(_download_certificates(args, key))


async def _download_certificates(args: argparse.Namespace, apiv3_key: str) -> int:
    from ._client import DEFAULT_BASE_URL, AsyncClient
    from ._files import replace_whole

    out = Path(args.output)
    async with AsyncClient(
        mchid=args.mchid,
        serial=args.serial,
        private_key=args.privatekey,
        apiv3_key=apiv3_key,
        base_url=args.baseurl or DEFAULT_BASE_URL,
        retry=1,
    ) as client:
        certificates = await client.download_certificates()
    try:
        out.mkdir(parents=True, exist_ok=True)
        for cert in certificates:
            path = out / f"wechatpay_{cert.serial}.pem"
            # As download(to=): a server reading the folder never sees half a certificate, and the file gets
            # the umask's mode or the replaced file's.
            replace_whole(path, cert.pem.encode("ascii"))
            print(f"{cert.serial}  valid {cert.effective_time} .. {cert.expire_time}  -> {path}")
    except OSError as exc:
        _cli.note(f"cannot write to {str(out)!r}: {exc.strerror or exc}")
        return 1
    print(f"{len(certificates)} certificate(s) verified with the answer's own signature and written to {out}")
    return 0


# -- the command table ---------------------------------------------------------------------------

#: Every subcommand. Another one is a module with ``add_arguments`` and ``run``, and one line here.
COMMANDS: dict[str, Command] = {
    "demo": Command(
        "the three call styles and the SDK's stories against an in-process sandbox, offline",
        _demo_arguments,
        _demo,
    ),
    "sandbox": Command("run the local WeChat Pay sandbox until Ctrl-C", _sandbox_arguments, _sandbox),
    "certificates": Command(
        "download, verify and save the WeChat Pay platform certificates", _certificates_arguments, _certificates
    ),
    "request": REQUEST,
    "bill": BILL,
    "upload": UPLOAD,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wxpay-chain", description="WeChat Pay APIv3 SDK tools.")
    parser.add_argument("--version", action="version", version=f"wxpay-chain {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        child = sub.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(child)
        child.add_argument(
            "--log-level",
            type=str.upper,
            choices=_cli.LOG_LEVELS,
            default=None,
            metavar="LEVEL",
            help="log the SDK's lines at this level and above to stderr: DEBUG, INFO, WARNING, ERROR "
            "(INFO: one line per attempt; DEBUG adds headers, Authorization masked)",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.error(_unrecognized(extra))
    _cli.configure_logging(args.log_level)
    return _cli.run_command(args.command, COMMANDS[args.command].run, args)


def _unrecognized(extra: Sequence[str]) -> str:
    """The words the command does not know, named by their options only: a key passed after an option
    of another command (``-k APIV3KEY``), or pasted unquoted, must not be echoed to the terminal or a log."""
    shown = [_option_name(word) for word in extra if word.startswith("-")]
    hidden = len(extra) - len(shown)
    why = "not shown as they may be key material"
    if not shown:
        return f"{hidden} unrecognized argument(s), {why}"
    return f"unrecognized arguments: {' '.join(shown)}" + (f" and {hidden} other word(s), {why}" if hidden else "")


def _option_name(word: str) -> str:
    if word.startswith("--"):
        name, given, _ = word.partition("=")
        return name[:40] + ("=..." if given else "")
    return word[:2] + ("..." if len(word) > 2 else "")  # -kVALUE: the value stays unshown


if __name__ == "__main__":
    sys.exit(main())
