"""The benchmark's what-if ablations must still switch off what they name (they patch SDK internals)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Run in a child: the patches change modules for the rest of the process.
CHECK = """
from cryptography.hazmat.primitives.asymmetric import rsa
from benchmarks import whatif
from wxpay_chain import AsyncClient, InvalidRequestError

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
seen = []
client = AsyncClient(mchid="1", serial="S", private_key=key, platform_keys={"PUB_KEY_ID_1": key.public_key()},
                     on_response=seen.append)
template = "v3/marketing/busifavor/users/{openid}/coupons"
bad = {"openid": "o", "query": {"appid": "wx1", "limit": "twenty"}}

def validates():
    try:
        client.prepare("GET", template, (), bad)
    except InvalidRequestError:
        return True
    return False

def records():
    request = client.sign(client.prepare("GET", template, (), {"openid": "o", "query": {"appid": "wx1"}}))
    before = len(seen)
    client._record(request, 1, 200, "rid", 0.01, None)
    return len(seen) > before

assert validates() and records()
whatif.apply(["no_validate"])
assert not validates() and records()
whatif.apply(["no_record"])
assert not records()
print("ok")
"""


def test_each_whatif_patch_switches_off_what_it_names() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
