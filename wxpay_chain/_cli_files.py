"""``wxpay-chain bill`` and ``wxpay-chain upload``: a day's bill to a file (checked against its hash, with a
progress bar on a terminal) or to stdout, and one file uploaded to an upload endpoint.

A bill for stdout is streamed to a file in a private temporary folder first and copied out only once its
hash matches, as ``--out`` renames its file only then: a bill of any size, and never an unchecked byte
on stdout (a script reading it cannot tell a bill cut short from a whole one).
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import _cli
from ._cli import Command, UsageError

__all__ = ["BILL", "UPLOAD"]


def _bill_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="the bill's day (China time)")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument(
        "--type",
        type=str.upper,
        choices=("ALL", "SUCCESS", "REFUND"),
        default="ALL",
        help="the trade bill's records (default ALL)",
    )
    kind.add_argument(
        "--fundflow",
        type=str.upper,
        choices=("BASIC", "OPERATION", "FEES"),
        default=None,
        metavar="ACCOUNT",
        help="the fund flow bill of this account (BASIC, OPERATION, FEES) instead",
    )
    parser.add_argument("--out", default=None, metavar="FILE", help="write the CSV here (default, or -: stdout)")
    _cli.add_client_arguments(parser)


def _bill(args: argparse.Namespace) -> int:
    _check_date(args.date)
    query: dict[str, str] = {"bill_date": args.date, "tar_type": "GZIP"}  # gzip on the wire; opened by download()
    if args.fundflow:
        template, query["account_type"] = "v3/bill/fundflowbill", args.fundflow
    else:
        template, query["bill_type"] = "v3/bill/tradebill", args.type
    if args.out is not None and args.out != "-":  # "-" is stdout, as for curl -o
        progress = _Bar() if _cli.stderr_is_terminal() else None
        path, hash_type = _download(args, template, query, Path(args.out), progress)
        if progress is not None:
            progress.done()
        _cli.note(f"{path}: {hash_type} checked")
        return 0
    _cli.require_stdout("the bill")
    with tempfile.TemporaryDirectory(prefix="wxpay-chain-bill-") as folder:  # mkdtemp: owner-only
        path, _ = _download(args, template, query, Path(folder) / "bill.csv", None)
        with path.open("rb") as file:
            out = _cli.stdout_bytes()
            shutil.copyfileobj(file, out, 1024 * 1024)
            out.flush()
    return 0


def _download(
    args: argparse.Namespace, template: str, query: dict[str, str], to: Path, progress: _Bar | None
) -> tuple[Path, str]:
    """The bill at ``to``, checked against its hash (which kind of hash it was, for the status line)."""
    with _cli.terminated_as_interrupted(), _cli.blocking_client(args) as client:
        bill = client.chain(template).get(query=query).json()  # its download_url and hash
        path = client.download(bill, to, progress=progress)  # given ``to``: where it wrote
    return path, str(bill["hash_type"])


def _check_date(text: str) -> None:
    # The shape first: fromisoformat alone would also take 20250131 and 2025-W05-5.
    if len(text) == 10 and text[4] == text[7] == "-" and text.isascii():
        try:
            datetime.date.fromisoformat(text)
            return
        except ValueError:
            pass
    raise UsageError(f"--date must look like 2025-01-31 (YYYY-MM-DD, a day that exists), not {text!r}")


class _Bar:
    """``[#######-------]  52%  1.3 MiB`` on stderr, redrawn at most ten times a second."""

    def __init__(self) -> None:
        self._drawn = 0.0

    def __call__(self, received: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self._drawn < 0.1 and received != total:
            return
        self._drawn = now
        size = f"{received / 1048576:6.1f} MiB"
        if total:
            filled = min(30, received * 30 // total)
            line = f"[{'#' * filled}{'-' * (30 - filled)}] {received * 100 // total:3d}%  {size}"
        else:
            line = f"downloaded {size}"
        if sys.stderr is not None:
            sys.stderr.write("\r" + line)
            sys.stderr.flush()

    def done(self) -> None:
        _cli.note("")


def _upload_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the image, video or document to upload")
    parser.add_argument("--to", required=True, metavar="ENDPOINT", help="e.g. v3/merchant/media/upload")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="path placeholder")
    parser.add_argument(
        "--meta", default=None, metavar="JSON", help='extra meta fields, e.g. \'{"sub_mchid": "1900000109"}\''
    )
    parser.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a documented form field sent as a part of its own, e.g. item_id=56 (submission files)",
    )
    _cli.add_client_arguments(parser)


def _upload(args: argparse.Namespace) -> int:
    from ._media import Media

    meta: Any = None
    if args.meta is not None:
        try:
            meta = json.loads(args.meta)
        except ValueError:
            raise UsageError("--meta is not valid JSON") from None
        if not isinstance(meta, dict):
            raise UsageError("--meta must be a JSON object")
    params = _cli.path_params(args.to, args.param, "extra meta fields go in --meta")
    fields: dict[str, str] = {}
    for pair in args.field:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise UsageError(f"--field takes NAME=VALUE, not {pair!r}")
        if name in fields:
            raise UsageError(f"--field {name} is given twice")
        fields[name] = value
    media = Media.from_file(args.file, meta=meta, fields=fields or None)
    _cli.require_stdout("the answer")
    with _cli.blocking_client(args) as client:
        response = client.chain(args.to).post(media=media, **params)
    _cli.write_answer(response, include=False)
    return 0


BILL = Command("download a day's trade or fund flow bill, checked against its hash", _bill_arguments, _bill)
UPLOAD = Command("upload a file (signed over its meta) and print the answer", _upload_arguments, _upload)
