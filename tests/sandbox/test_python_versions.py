"""What newer Pythons are stricter about, checked on every Python the package supports (3.10+): the suite
on 3.12.0-3.12.3 and 3.13 would catch these too, but only there."""

from __future__ import annotations

import io
import re
import ssl
import tokenize
from pathlib import Path

import wxpay_chain.sandbox as sandbox_package
from wxpay_chain.sandbox._keys import default_key_set
from wxpay_chain.sandbox._tls import tls_for

# A string's text is one STRING token, or from Python 3.12 on an f-string's FSTRING_MIDDLE pieces.
_TEXT_TOKENS = {tokenize.STRING} | ({tokenize.FSTRING_MIDDLE} if hasattr(tokenize, "FSTRING_MIDDLE") else set())


def _pem_file(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="ascii")
    return str(path)


def test_the_sandbox_certificates_pass_x509_strict_verification_both_ways(tmp_path: Path) -> None:
    # Python 3.13's create_default_context() sets VERIFY_X509_STRICT; set here so 3.10-3.12 check it as well.
    keys = default_key_set()
    tls = tls_for(keys)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.verify_mode = ssl.CERT_REQUIRED  # the security endpoints' apiclient_cert.pem, checked too
    server_context.load_verify_locations(cadata=tls.ca_certificate)
    server_context.load_cert_chain(
        _pem_file(tmp_path, "server.pem", tls.server_certificate), _pem_file(tmp_path, "server.key", tls.server_key)
    )
    client_context = ssl.create_default_context(cadata=tls.ca_certificate)
    client_context.load_cert_chain(
        _pem_file(tmp_path, "client.pem", tls.client_certificate),
        _pem_file(tmp_path, "client.key", keys.merchant_private_key),
    )
    for context in (server_context, client_context):
        context.verify_flags |= ssl.VERIFY_X509_STRICT

    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(c_in, c_out, server_hostname="127.0.0.1")
    server = server_context.wrap_bio(s_in, s_out, server_side=True)
    done: set[str] = set()
    for _ in range(8):  # TLS 1.3 takes two round trips; more would mean the handshake is stuck
        for name, side in (("client", client), ("server", server)):
            try:
                side.do_handshake()
                done.add(name)
            except ssl.SSLWantReadError:
                pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if done == {"client", "server"}:
            break
    assert done == {"client", "server"}
    assert server.getpeercert() and client.getpeercert()  # each side verified the other's certificate


def test_the_sandbox_sql_binds_no_numbered_placeholders() -> None:
    # Python 3.12.0-3.12.3 warn (3.14 is to refuse) when a sequence is bound to ?1: it counts as a named
    # parameter. So the sandbox's SQL uses plain ? with a sequence, or :name with a dict.
    found = []
    for module in sorted(Path(sandbox_package.__file__).parent.glob("*.py")):
        source = module.read_text(encoding="utf-8")
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in _TEXT_TOKENS and re.search(r"\?\d|\?\{", token.string):
                found.append(f"{module.name}:{token.start[0]}: {token.string}")
    assert found == []
