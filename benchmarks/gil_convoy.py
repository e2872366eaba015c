"""Why a signing thread cannot reach 2 cores here: ``python -m benchmarks.gil_convoy [--seconds 3]``.

Two threads, no network. A "loop" thread runs Python in stretches of N µs and releases the GIL briefly
between them (a zero-timeout ``select``, like the socket calls of an event loop). A "signer" thread
calls ``key.sign`` back to back; RSA releases the GIL while it works, but every call must take the GIL
back to return its result. CPython counts any GIL switch as progress, so the loop thread's own brief
releases keep the signer from ever forcing a hand-over: it gets the GIL only when it wins the race
during one of those short gaps.

The "hand-over: yes" rows add a deliberate hand-over: when the loop sees a signature is probably done, it
blocks on a lock the signer releases once it has the GIL back. Numbers are printed, not asserted.
"""

from __future__ import annotations

import argparse
import select
import threading
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def run(stretch_us: float, seconds: float, handoff: bool) -> dict[str, float]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    clock = time.perf_counter
    state = {"stop": False, "signs": 0, "stretches": 0, "handoffs": 0, "started": None, "wanted": False}
    baton = threading.Lock()
    baton.acquire()
    message = b"GET\n/v3/x\n1\nnonce\n\n"
    alone = clock()
    key.sign(message, pkcs1, sha256)
    fastest = [clock() - alone]  # how long a signature takes when nothing competes

    def signer() -> None:
        while not state["stop"]:
            started = state["started"] = clock()
            key.sign(message, pkcs1, sha256)
            state["started"] = None
            fastest[0] = min(fastest[0], clock() - started)
            state["signs"] += 1
            if state["wanted"] and baton.locked():
                baton.release()

    def loop() -> None:
        while not state["stop"]:
            until = clock() + stretch_us / 1e6
            while clock() < until:
                pass
            select.select([], [], [], 0)  # a brief GIL release, as a socket call makes
            state["stretches"] += 1
            started = state["started"]
            if handoff and isinstance(started, float) and clock() - started > fastest[0]:
                state["wanted"] = True
                baton.acquire(timeout=0.001)
                state["wanted"] = False
                state["handoffs"] += 1

    threads = [threading.Thread(target=signer), threading.Thread(target=loop)]
    began = clock()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    state["stop"] = True
    for thread in threads:
        thread.join()
    elapsed = clock() - began
    return {
        "signs_per_s": state["signs"] / elapsed,
        "loop_busy": state["stretches"] * stretch_us / 1e6 / elapsed,
        "handoffs_per_s": state["handoffs"] / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--stretches", default="10,30,100", help="loop stretches in µs, comma-separated")
    args = parser.parse_args()
    print(f"{'stretch':>8} {'hand-over':>9} {'signs/s':>8} {'loop busy':>9}")
    for stretch in (float(s) for s in args.stretches.split(",")):
        for handoff in (False, True):
            r = run(stretch, args.seconds, handoff)
            print(f"{stretch:>6.0f}µs {'yes' if handoff else 'no':>9} {r['signs_per_s']:>8,.0f} {r['loop_busy']:>9.2f}")


if __name__ == "__main__":
    main()
