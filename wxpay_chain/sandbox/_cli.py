"""``wxpay-chain sandbox``: run the sandbox in the foreground until Ctrl-C, SIGTERM or SIGHUP.

Beside config.json it writes ``wxpay.env`` (the same settings as WXPAY_* variables, for
``AsyncClient.from_env()`` and ``wxpay-chain request``); with ``--notify-url`` it prints what became of
each notification it sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
import shutil
import signal
import sqlite3
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from .._cli import CommandError, UsageError, note
from ._keys import write_file
from ._persist import STATE_DB, StateFileError
from ._record import KEEP_REQUESTS
from ._server import NOTIFY_RETRY_DELAYS, Sandbox

_LOOPBACK = ("127.0.0.1", "::1", "localhost")
# SIGHUP too (its terminal closed): every way of stopping must remove the temporary folder of keys.
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def serve(
    host: str,
    port: int | None,
    state_dir: str | None,
    probe_rate: float,
    keep_requests: int = KEEP_REQUESTS,
    notify_url: str | None = None,
) -> int:
    """Serve until interrupted; writes config.json into ``state_dir`` (or a new temp dir, removed on exit).
    Returns an exit code. ``port=None`` reuses the port ``state_dir`` was served on last (its wxpay.env stays
    right), else picks a free one.

    UsageError (exit 2, from the command's runner) for an option out of range, before anything listens.
    """
    check_options(port=port, probe_rate=probe_rate, keep_requests=keep_requests, notify_url=notify_url)
    try:
        return asyncio.run(_serve(host, port, state_dir, probe_rate, keep_requests, notify_url))
    except KeyboardInterrupt:
        # Platforms without loop signal handlers land here on Ctrl-C; the sandbox is already closed.
        print("sandbox stopped", flush=True)
        return 0


def check_options(*, port: int | None, probe_rate: float, keep_requests: int, notify_url: str | None) -> None:
    """The command's options, named by their flags (the Sandbox's own ValueErrors name its parameters)."""
    if port is not None and not 0 <= port <= 65535:
        raise UsageError(f"--port must be 0-65535 (0 picks a free port), not {port}")
    if not 0 <= probe_rate <= 1:  # also refuses nan
        raise UsageError(f"--probe-rate must be a share from 0 to 1 (e.g. 0.1), not {probe_rate}")
    if keep_requests < 0:
        raise UsageError(f"--keep-requests must be 0 or more, not {keep_requests}")
    if notify_url is not None:
        parts = urlsplit(notify_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--notify-url must be an http:// or https:// URL, not {notify_url!r}")


async def _serve(
    host: str, port: int | None, state_dir: str | None, probe_rate: float, keep_requests: int, notify_url: str | None
) -> int:
    saved = saved_port(state_dir) if port is None else None
    saved_https = saved_port(state_dir, "https_base_url") if port is None else None  # kept too, when free
    port = saved or port or 0
    try:
        sandbox = Sandbox(
            host=host,
            port=port,
            state_dir=state_dir,
            probe_rate=probe_rate,
            keep_requests=keep_requests,
            notify_url=notify_url,
            https_port=saved_https or 0,
        )
    except StateFileError as exc:  # a damaged file of the state dir, not the command line
        raise CommandError(str(exc)) from None
    except sqlite3.Error as exc:
        if state_dir is None:  # an in-memory database: nothing on disk to name
            raise
        raise CommandError(database_problem(Path(state_dir) / STATE_DB, exc)) from None
    except ValueError as exc:  # one check_options does not know yet
        raise UsageError(str(exc)) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in _STOP_SIGNALS:
        # Windows has no loop signal handlers; Ctrl-C then arrives as KeyboardInterrupt instead.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await sandbox.start()
    except OSError as exc:
        last = f" (the port {state_dir} was served on last; --port 0 picks a free one)" if saved else ""
        note(f"wxpay-chain sandbox: cannot listen on {host}:{port}{last}: {exc}")
        return 1
    # Without --state-dir the keys go to a folder of our own, which must not outlive the sandbox.
    directory = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="wxpay-chain-sandbox-"))
    scratch = None if state_dir else directory
    try:
        config = sandbox.write_config(directory)
        env_file = write_env_file(config)
        if host not in _LOOPBACK:
            print(f"warning: listening on {host}, so anyone who can reach it can use this sandbox", flush=True)
        print(f"WeChat Pay sandbox running at {sandbox.base_url}", flush=True)
        https_url = sandbox.credentials.https_base_url
        if saved_https and urlsplit(https_url).port != saved_https:
            print(f"note: HTTPS port {saved_https} of last time is taken: APIv2 is on {https_url} now", flush=True)
        print(f"config.json (credentials for clients): {config}", flush=True)
        print(f"the same as WXPAY_* variables: set -a; . {shlex.quote(str(env_file))}; set +a", flush=True)
        if notify_url:
            what = f"after each product coupon sent, {_tries()} (APIv3 key in config.json)"
            print(f"notifications: POST {notify_url} {what}", flush=True)
        if state_dir:
            print(f"state is kept in {Path(state_dir).resolve()}", flush=True)
        print("press Ctrl-C (or send SIGTERM) to stop", flush=True)
        watcher = asyncio.create_task(_report_notifications(sandbox)) if notify_url else None
        await stop.wait()
        if watcher is not None:
            watcher.cancel()
    finally:
        await sandbox.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print("sandbox stopped", flush=True)
    return 0


def database_problem(path: Path, error: sqlite3.Error) -> str:
    """One line for a state database SQLite cannot open or read: which file, and what to do."""
    if isinstance(error, sqlite3.OperationalError):
        if "locked" in str(error):
            return f"{path} is locked ({error}): is another sandbox serving this state dir? Stop it first"
        return (
            f"cannot open {path} ({error}): the state dir must be writable, for it and the -wal and -shm files "
            "SQLite keeps beside it (check its permissions, or whether it is on a read-only mount)"
        )
    return (
        f"{path} is damaged ({error}): move it aside, with any {path.name}-wal and -shm files beside it, "
        "to start again from the demo data, or restore it from a copy"
    )


def saved_port(state_dir: str | None, key: str = "base_url") -> int | None:
    """The port in the base_url (or another URL ``key``) of ``state_dir``'s config.json, if it has one."""
    if not state_dir:
        return None
    try:
        base_url = json.loads((Path(state_dir) / "config.json").read_text("utf-8"))[key]
        return urlsplit(str(base_url)).port
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or not one this command wrote
        return None


def _tries() -> str:
    delays = NOTIFY_RETRY_DELAYS
    return f"{len(delays) + 1} tries over {sum(delays):g} s until one answers 2xx"


def write_env_file(config: Path) -> Path:
    """``wxpay.env`` beside config.json: its merchant settings as WXPAY_* lines (key files by path)."""
    values = json.loads(config.read_text("utf-8"))
    lines = {
        "WXPAY_MCHID": values["mchid"],
        "WXPAY_SERIAL": values["serial"],
        "WXPAY_PRIVATE_KEY": values["private_key"],
        "WXPAY_PUBLIC_KEY_ID": values["pub_key_id"],
        "WXPAY_PUBLIC_KEY": values["pub_key"],
        "WXPAY_APIV3_KEY": values["apiv3_key"],
        "WXPAY_BASE_URL": values["base_url"],
    }
    if values.get("apiv2_key"):  # the coupon plugin and H5 signs, and v2/ calls
        lines["WXPAY_APIV2_KEY"] = values["apiv2_key"]
    path = config.with_name("wxpay.env")
    text = "".join(f"{name}={shlex.quote(str(value))}\n" for name, value in lines.items())
    write_file(path, text, private=True)  # it holds the APIv3 and APIv2 keys
    return path


async def _report_notifications(sandbox: Sandbox) -> None:
    # A console for people trying their own endpoint: one line per try, as the answers come in.
    shown: dict[str, int] = {}
    abandoned: set[str] = set()
    while True:
        for record in sandbox.notifications:
            for attempt in record.attempts[shown.get(record.id, 0) :]:
                print(f"notification {record.id} {record.event_type}: {_answer(attempt)}", flush=True)
            shown[record.id] = len(record.attempts)
            if record.outcome == "abandoned" and record.id not in abandoned:
                abandoned.add(record.id)
                print(f"notification {record.id}: no 2xx after {len(record.attempts)} tries, given up", flush=True)
        await asyncio.sleep(0.2)


def _answer(attempt: str) -> str:
    return f"answered {attempt}" if attempt.isdigit() else f"not delivered ({attempt})"
