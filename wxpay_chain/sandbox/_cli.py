"""``wxpay-chain sandbox``: run the sandbox in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import tempfile
from pathlib import Path

from ._record import KEEP_REQUESTS
from ._server import Sandbox

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def serve(host: str, port: int, state_dir: str | None, probe_rate: float, keep_requests: int = KEEP_REQUESTS) -> int:
    """Serve until interrupted; writes config.json into ``state_dir`` (or a new temp dir). Returns an exit code."""
    try:
        return asyncio.run(_serve(host, port, state_dir, probe_rate, keep_requests))
    except KeyboardInterrupt:
        # Platforms without loop signal handlers land here on Ctrl-C; the sandbox is already closed.
        print("sandbox stopped", flush=True)
        return 0


async def _serve(host: str, port: int, state_dir: str | None, probe_rate: float, keep_requests: int) -> int:
    try:
        sandbox = Sandbox(host=host, port=port, state_dir=state_dir, probe_rate=probe_rate, keep_requests=keep_requests)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers; Ctrl-C then arrives as KeyboardInterrupt instead.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await sandbox.start()
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc}", file=sys.stderr, flush=True)
        return 1
    try:
        directory = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="wxpay-chain-sandbox-"))
        config = sandbox.write_config(directory)
        if host not in _LOOPBACK:
            print(f"warning: listening on {host}, so anyone who can reach it can use this sandbox", flush=True)
        print(f"WeChat Pay sandbox running at {sandbox.base_url}", flush=True)
        print(f"config.json (credentials for clients): {config}", flush=True)
        if state_dir:
            print(f"state is kept in {Path(state_dir).resolve()}", flush=True)
        print("press Ctrl-C (or send SIGTERM) to stop", flush=True)
        await stop.wait()
    finally:
        await sandbox.close()
    print("sandbox stopped", flush=True)
    return 0
