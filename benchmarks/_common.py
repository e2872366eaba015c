"""What every bench shares: the merchant, the call, the answer body, key material and small helpers.

Key material is generated per run (RSA-2048, via ``cryptography``) into a temporary directory that the
orchestrator deletes afterwards. Nothing here touches the network.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = Path(__file__).resolve().parent / "node"

HOST = "127.0.0.1"
MCHID = "1900000001"
APPID = "wxd678efh567hg6787"
OPENID = "oHkLxt_htg84TUEbzvlMwQzVDBqo"
PUB_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000000001"
QUERY: dict[str, str | int] = {"appid": APPID, "offset": 0, "limit": 20}
# The exact path and query every client puts on the wire (and signs).
PATH_AND_QUERY = f"/v3/marketing/busifavor/users/{OPENID}/coupons?appid={APPID}&offset=0&limit=20"


def answer_body() -> bytes:
    """A realistic one-page answer of the busifavor user-coupon list (``answer.json``, about 1.8 KB of
    UTF-8 JSON), compact as WeChat Pay sends it."""
    page = json.loads((Path(__file__).resolve().parent / "answer.json").read_text("utf-8"))
    return json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Keys:
    """Paths of the generated key material (file names are shared with ``node/bench.js``)."""

    directory: Path
    merchant_serial: str

    @property
    def merchant_key(self) -> Path:  # PKCS#8 PEM, what apiclient_key.pem looks like
        return self.directory / "merchant_key.pem"

    @property
    def platform_key(self) -> Path:  # the server signs its answers with this
        return self.directory / "platform_key.pem"

    @property
    def platform_pub(self) -> Path:  # SPKI PEM, what pub_key.pem looks like (public-key mode)
        return self.directory / "platform_pub.pem"

    @staticmethod
    def text(path: Path) -> str:
        return path.read_text("ascii")

    @classmethod
    def load(cls, directory: str | Path) -> Keys:
        meta = json.loads((Path(directory) / "meta.json").read_text())
        return cls(Path(directory), meta["merchant_serial"])


def generate_keys(directory: Path) -> Keys:
    """A merchant key, and a platform key whose public half every client trusts under ``PUB_KEY_ID``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    directory.mkdir(parents=True, exist_ok=True)
    pem, pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    merchant = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    platform = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    nothing = serialization.NoEncryption()
    (directory / "merchant_key.pem").write_bytes(merchant.private_bytes(pem, pkcs8, nothing))
    (directory / "platform_key.pem").write_bytes(platform.private_bytes(pem, pkcs8, nothing))
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    (directory / "platform_pub.pem").write_bytes(platform.public_key().public_bytes(pem, spki))
    meta = {"merchant_serial": secrets.token_hex(20).upper(), "pub_key_id": PUB_KEY_ID}
    (directory / "meta.json").write_text(json.dumps(meta))
    return Keys.load(directory)


def current_rss() -> int:
    """Resident set size of this process now, in bytes (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process so far (Linux /proc, 10 ms ticks), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def children_cpu_seconds() -> dict[int, float]:
    """CPU so far of each live child process of this process (a signing process, say), by pid."""
    pids: set[int] = set()
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as f:
                pids.update(int(pid) for pid in f.read().split())
    except OSError:
        return {}
    return {pid: cpu for pid in pids if (cpu := process_cpu_seconds(pid)) is not None}


def child_env() -> dict[str, str]:
    """The environment of the server and the workers: no proxy can divert traffic off 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("PYTHONHASHSEED", "0")
    # asyncio reads sockets into a fresh 256 KiB buffer; whether glibc serves it from the heap or with
    # mmap + mremap + munmap (3 syscalls a call) depends on the process's history (its mmap threshold
    # moves). Fixed thresholds put every worker in the same state: the heap, as in a long-lived process.
    env.setdefault("MALLOC_MMAP_THRESHOLD_", str(4 * 2**20))
    env.setdefault("MALLOC_TRIM_THRESHOLD_", str(8 * 2**20))
    return env
