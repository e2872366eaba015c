"""The signing process: a child that owns a copy of the merchant key and signs what its parent sends.

Run by :mod:`wxpay_chain._signing_process` with ``runpy.run_path`` so that it imports ``cryptography``
and the standard library only, never the wxpay_chain package (a lean child starts in well under 0.1 s).

Pipes, all integers big-endian:

* stdin:  ``u32 length`` + the private key as unencrypted PKCS#8 PEM, once; then jobs ``u32 id, u32 length,
  message``.
* stdout: ``u32 id, u32 length, signature`` (Base64 ASCII) for each job, as soon as it is signed.

It exits when stdin closes (its parent closed the client or died) and on any error, without writing
anything about the key: the parent sees the pipe close and signs in-process instead.
"""

from __future__ import annotations

import base64
import os
import signal
import struct

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HEADER = struct.Struct("!II")
LENGTH = struct.Struct("!I")


def _read_exactly(fd: int, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def main(rfd: int = 0, wfd: int = 1) -> int:
    # Ctrl-C in a terminal reaches the whole process group; the parent decides when this child stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    head = _read_exactly(rfd, LENGTH.size)
    if head is None:
        return 0
    pem = _read_exactly(rfd, LENGTH.unpack(head)[0])
    if pem is None:
        return 0
    key = serialization.load_pem_private_key(pem, password=None)
    del pem
    if not isinstance(key, rsa.RSAPrivateKey):
        return 2
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    pending = bytearray()
    while True:
        chunk = os.read(rfd, 1 << 16)
        if not chunk:
            return 0
        pending += chunk
        start = 0
        while len(pending) - start >= HEADER.size:
            job, size = HEADER.unpack_from(pending, start)
            end = start + HEADER.size + size
            if len(pending) < end:
                break
            signature = base64.b64encode(key.sign(bytes(pending[start + HEADER.size : end]), pkcs1, sha256))
            # One write per signature: the parent can send that request while the next one is signed.
            _write_all(wfd, HEADER.pack(job, len(signature)) + signature)
            start = end
        del pending[:start]


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BrokenPipeError:  # the parent went away mid-answer: nothing left to do
        raise SystemExit(0) from None
