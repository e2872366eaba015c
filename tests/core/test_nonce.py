"""Nonces: 32 hex characters from the OS CSPRNG, never repeated, not even across a fork."""

from __future__ import annotations

import os
import re
import warnings

import pytest

from wxpay_chain._crypto import _NONCE_BATCH, make_nonce


def test_default_nonce_is_32_lowercase_hex_characters() -> None:
    for _ in range(3 * _NONCE_BATCH):  # crosses several refills of the pool
        assert re.fullmatch(r"[0-9a-f]{32}", make_nonce())


def test_nonces_do_not_repeat_across_refills() -> None:
    drawn = [make_nonce() for _ in range(20 * _NONCE_BATCH)]
    assert len(set(drawn)) == len(drawn)


@pytest.mark.parametrize("length", [1, 12, 31, 33])
def test_other_lengths_keep_the_protocol_alphabet(length: int) -> None:
    nonce = make_nonce(length)
    assert len(nonce) == length and re.fullmatch(r"[0-9a-f]+", nonce)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_never_repeats_the_parents_pending_nonces() -> None:
    make_nonce()  # the pool now holds nonces the parent has not used yet
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+ warns about fork with threads alive
        pid = os.fork()
    if pid == 0:  # the child: report its next nonce and leave at once
        try:
            os.write(write_end, make_nonce().encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        child = pipe.read().decode()
    os.waitpid(pid, 0)
    parent = [make_nonce() for _ in range(_NONCE_BATCH)]
    assert re.fullmatch(r"[0-9a-f]{32}", child)
    assert child not in parent, "the child reused a nonce from the parent's pool"
