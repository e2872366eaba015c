"""Key material never shows in an error, a repr, a traceback or a log line, whatever form it came in,
and the one-line base64 form that environment variables and secret stores hand out loads as a key.
"""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

import wxpay_chain
from wxpay_chain import AsyncClient, ConfigurationError, MemoryTransport
from wxpay_chain._crypto import load_private_key, load_public_key, rsa_sign

from ..vectors import VECTORS
from .conftest import MCHID, PUB_KEY_ID, SERIAL
from .wire import WirePeer, pem_public

APIV3_KEY = "Q7vM2xK9pL4wR8tY1nB6cZ3hJ5dF0gSa"  # 32 characters, like a real APIv3 key
PASSPHRASE = "correct-horse-battery-staple"

PKCS8 = serialization.PrivateFormat.PKCS8
PKCS1 = serialization.PrivateFormat.TraditionalOpenSSL
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo


# -- helpers -------------------------------------------------------------------------------------------------
def assert_no_secret(text: str, secret: str) -> None:
    """No 16-character run of ``secret`` (its PEM armour lines stripped, whitespace removed) is in ``text``."""
    body = "".join(line for line in secret.splitlines() if not line.startswith("-----"))
    body = "".join(body.split())
    assert len(body) >= 16, "the secret is too short to check"
    squeezed = "".join(text.split())  # a message that wrapped the secret across lines still counts
    for i in range(len(body) - 15):
        window = body[i : i + 16]
        assert window not in text and window not in squeezed, f"16-character run of a secret at offset {i}"


def exception_text(exc: BaseException) -> str:
    """str, repr and the formatted traceback of ``exc`` and of every exception chained to it, shown or not."""
    parts: list[str] = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(current.args)]
        if current.__cause__ is not None:
            parts.append(exception_text(current.__cause__))
        current = current.__context__  # even a suppressed context reaches error trackers that walk it
    return "\n".join(parts)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def der_private(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, fmt: serialization.PrivateFormat) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())


def pem_private_as(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, fmt: serialization.PrivateFormat) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def flip_bit(der: bytes, at: int) -> bytes:
    out = bytearray(der)
    out[at] ^= 0x01
    return bytes(out)


def pem_of(der: bytes, label: str) -> str:
    body = b64(der)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""])


class Keys:
    """Every form of the test keys, and the list of strings that must never leak."""

    def __init__(self, merchant: rsa.RSAPrivateKey, platform: rsa.RSAPrivateKey) -> None:
        self.merchant = merchant
        self.platform = platform
        self.pem8 = pem_private_as(merchant, PKCS8)
        self.pem1 = pem_private_as(merchant, PKCS1)
        self.der8 = der_private(merchant, PKCS8)
        self.der1 = der_private(merchant, PKCS1)
        self.b64_8 = b64(self.der8)
        self.b64_1 = b64(self.der1)
        encryption = serialization.BestAvailableEncryption(PASSPHRASE.encode())
        self.enc_pem = merchant.private_bytes(serialization.Encoding.PEM, PKCS8, encryption).decode()
        self.enc_b64 = b64(merchant.private_bytes(serialization.Encoding.DER, PKCS8, encryption))
        self.platform_pem8 = pem_private_as(platform, PKCS8)
        self.platform_b64_8 = b64(der_private(platform, PKCS8))
        self.spki_b64 = b64(merchant.public_key().public_bytes(serialization.Encoding.DER, SPKI))
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.ec_pem = pem_private_as(self.ec, PKCS8)
        self.ec_b64 = b64(der_private(self.ec, PKCS8))
        self.ec_public_b64 = b64(self.ec.public_key().public_bytes(serialization.Encoding.DER, SPKI))

    def secrets(self) -> list[str]:
        return [
            self.pem8,
            self.pem1,
            self.b64_8,
            self.b64_1,
            self.enc_pem,
            self.enc_b64,
            self.platform_pem8,
            self.platform_b64_8,
            self.ec_pem,
            self.ec_b64,
            APIV3_KEY,
            PASSPHRASE,
        ]

    def assert_clean(self, text: str) -> None:
        for secret in self.secrets():
            assert_no_secret(text, secret)


@pytest.fixture(scope="module")
def keys(merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey) -> Keys:
    return Keys(merchant_key, platform_key)


def client_options(keys: Keys, **overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "mchid": MCHID,
        "serial": SERIAL,
        "private_key": keys.pem8,
        "platform_keys": {PUB_KEY_ID: pem_public(keys.platform)},
    }
    options.update(overrides)
    return options


# -- the helper itself ---------------------------------------------------------------------------------------
def test_assert_no_secret_catches_a_run_of_sixteen_and_ignores_fifteen(keys: Keys) -> None:
    body = keys.pem8.splitlines()[3]
    with pytest.raises(AssertionError):
        assert_no_secret(f"cannot read {body[10:26]!r}", keys.pem8)
    with pytest.raises(AssertionError):
        assert_no_secret(keys.b64_8[:40] + "\n" + keys.b64_8[40:60], keys.b64_8)  # wrapped still counts
    assert_no_secret(f"cannot read {body[10:25]!r}", keys.pem8)


# -- wrong inputs: no error quotes any of them --------------------------------------------------------------
def private_key_cases(keys: Keys, tmp_path: Path) -> Iterator[tuple[str, Any, str | None]]:
    """(name, private_key source, passphrase) that must all fail."""
    yield "apiv3-key", APIV3_KEY, None
    yield "apiv3-key-padded", f"  {APIV3_KEY}\n", None
    yield "apiv3-key-bytes", APIV3_KEY.encode(), None
    yield "truncated-b64-pkcs8", keys.b64_8[: len(keys.b64_8) * 3 // 5], None
    yield "truncated-b64-pkcs1", keys.b64_1[:-101], None
    yield "truncated-b64-bytes", keys.b64_8[:300].encode(), None
    yield "truncated-pem", keys.pem8[: len(keys.pem8) // 2] + "\n-----END PRIVATE KEY-----\n", None
    yield "public-pem", pem_public(keys.merchant), None
    yield "public-b64", keys.spki_b64, None
    yield (
        "certificate-b64",
        b64(x509.load_pem_x509_certificate(cert_pem().encode()).public_bytes(serialization.Encoding.DER)),
        None,
    )
    yield "bit-flipped-pem", pem_of(flip_bit(keys.der8, 400), "PRIVATE KEY"), None
    yield "bit-flipped-b64-pkcs8", b64(flip_bit(keys.der8, 400)), None
    yield "bit-flipped-b64-pkcs1", b64(flip_bit(keys.der1, 600)), None
    yield "bad-char-b64", keys.b64_8[:200] + "!" + keys.b64_8[200:], None
    yield "ec-pem", keys.ec_pem, None
    yield "ec-b64", keys.ec_b64, None
    yield "encrypted-pem-no-passphrase", keys.enc_pem, None
    yield "encrypted-pem-wrong-passphrase", keys.enc_pem, "not-the-passphrase"
    yield "encrypted-b64-no-passphrase", keys.enc_b64, None
    yield "encrypted-b64-wrong-passphrase", keys.enc_b64, "not-the-passphrase"
    yield "plain-pem-with-passphrase", keys.pem8, PASSPHRASE
    yield "plain-b64-with-passphrase", keys.b64_1, PASSPHRASE
    yield "missing-file-named-like-a-key", str(tmp_path / keys.b64_8[1:80].replace("/", "x")), None
    yield "file-url-named-like-a-key", "file://" + str(tmp_path / keys.b64_8[1:80].replace("/", "x")), None
    yield "key-with-a-nul", keys.b64_8[:50] + "\0", None


def cert_pem() -> str:
    pem: str = VECTORS["signed_notification"]["certificate_pem"]
    return pem


PRIVATE_CASES = [
    "apiv3-key",
    "apiv3-key-padded",
    "apiv3-key-bytes",
    "truncated-b64-pkcs8",
    "truncated-b64-pkcs1",
    "truncated-b64-bytes",
    "truncated-pem",
    "public-pem",
    "public-b64",
    "certificate-b64",
    "bit-flipped-pem",
    "bit-flipped-b64-pkcs8",
    "bit-flipped-b64-pkcs1",
    "bad-char-b64",
    "ec-pem",
    "ec-b64",
    "encrypted-pem-no-passphrase",
    "encrypted-pem-wrong-passphrase",
    "encrypted-b64-no-passphrase",
    "encrypted-b64-wrong-passphrase",
    "plain-pem-with-passphrase",
    "plain-b64-with-passphrase",
    "missing-file-named-like-a-key",
    "file-url-named-like-a-key",
    "key-with-a-nul",
]


@pytest.mark.parametrize("case", PRIVATE_CASES)
@pytest.mark.parametrize("via", ["load_private_key", "AsyncClient"])
def test_a_wrong_private_key_is_never_quoted(
    keys: Keys, tmp_path: Path, caplog: pytest.LogCaptureFixture, case: str, via: str
) -> None:
    source, passphrase = next((s, p) for name, s, p in private_key_cases(keys, tmp_path) if name == case)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigurationError) as info:
        if via == "AsyncClient":
            AsyncClient(**client_options(keys, private_key=source, passphrase=passphrase))
        else:
            load_private_key(source, passphrase)
    text = exception_text(info.value)
    keys.assert_clean(text)
    keys.assert_clean(caplog.text)
    # The broken input itself is no safer to show (a path's tmp folder is in the traceback, its key-like file
    # name is covered by the key's own runs above).
    if isinstance(source, str) and len(source.strip()) >= 16 and str(tmp_path) not in source:
        assert_no_secret(text, source.strip())
    assert "private_key" in str(info.value)


def test_the_apiv3_key_as_private_key_is_named_for_what_it_is(keys: Keys) -> None:
    with pytest.raises(ConfigurationError, match="looks like a 32-character APIv3 key, not a private key") as info:
        AsyncClient(**client_options(keys, private_key=APIV3_KEY))
    assert "one-line base64 DER" in str(info.value)
    assert APIV3_KEY[:8] not in exception_text(info.value)


HEX_APIV3_KEY = "9f86d081884c7d659a2feaa0c55ad015"  # `openssl rand -hex 16`: a key that is also hex digits


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"serial": APIV3_KEY}, "serial must be the API certificate's serial number"),
        ({"mchid": APIV3_KEY}, "mchid must be the mchid WeChat Pay gave you"),
        ({"mchid": None, "brand_id": APIV3_KEY}, "brand_id must be the brand_id"),
        ({"platform_keys": {APIV3_KEY: None}}, "platform_keys: name each key by its Wechatpay-Serial"),
        ({"serial": HEX_APIV3_KEY, "apiv3_key": HEX_APIV3_KEY}, "serial or platform_keys holds the APIv3"),
        ({"serial": HEX_APIV3_KEY.encode(), "apiv3_key": HEX_APIV3_KEY}, "serial must be"),
        ({"apiv3_key": HEX_APIV3_KEY, "platform_keys": {HEX_APIV3_KEY: None}}, "platform_keys holds the APIv3"),
        ({"serial": "37:75:B6"}, "up to 40 hex digits"),
        ({"mchid": "１９００"}, "its digits"),
    ],
)
def test_a_secret_in_an_id_setting_is_refused_and_never_repeated(
    keys: Keys, overrides: dict[str, Any], says: str
) -> None:
    options = client_options(keys, **overrides)
    if options.get("platform_keys"):  # the key under the wrong name: the error must be about the name
        options["platform_keys"] = {name: pem_public(keys.platform) for name in options["platform_keys"]}
    with pytest.raises(ConfigurationError, match=says) as info:
        AsyncClient(**options)
    text = exception_text(info.value)
    assert APIV3_KEY[:8] not in text and HEX_APIV3_KEY[:8] not in text


def test_serials_as_wechat_pay_writes_them_are_taken(keys: Keys) -> None:
    for serial in ("3775B6A45ACD588826D15E583A95F5DD12345678", "5157f09efdc096de15ebe81a47057a72", " 1A "):
        assert AsyncClient(**client_options(keys, serial=serial))._sign_config().signer.serial == serial.strip()


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("public-b64", "public key or certificate"),
        ("encrypted-b64-no-passphrase", "encrypted; pass its passphrase"),
        ("encrypted-b64-wrong-passphrase", "wrong passphrase"),
        ("plain-b64-with-passphrase", "not encrypted; drop the passphrase"),
        ("truncated-b64-pkcs8", "truncated or corrupted DER"),
        ("bit-flipped-b64-pkcs1", "truncated or corrupted DER"),
        ("ec-b64", "RSA"),
        ("missing-file-named-like-a-key", "cannot read the file given"),
    ],
)
def test_base64_key_errors_say_what_is_wrong(keys: Keys, tmp_path: Path, case: str, expected: str) -> None:
    source, passphrase = next((s, p) for name, s, p in private_key_cases(keys, tmp_path) if name == case)
    with pytest.raises(ConfigurationError, match=expected):
        load_private_key(source, passphrase)


def test_an_unreadable_path_names_the_argument_and_the_reason_but_not_the_path(tmp_path: Path) -> None:
    path = tmp_path / "no-such-dir" / "apiclient_key.pem"
    with pytest.raises(ConfigurationError) as info:
        load_private_key(str(path))
    message = str(info.value)
    assert message.startswith("private_key: cannot read the file given")
    assert "No such file or directory" in message
    assert "no-such-dir" not in exception_text(info.value)
    assert info.value.__context__ is None and info.value.__cause__ is None  # no OSError naming the path


def public_key_cases(keys: Keys) -> Iterator[tuple[str, Any]]:
    """(name, platform_keys value) that must all fail."""
    spki = base64.b64decode(keys.spki_b64)
    yield "private-pem", keys.platform_pem8
    yield "private-b64-pkcs8", keys.platform_b64_8
    yield "private-b64-pkcs1", keys.b64_1
    yield "private-b64-encrypted", keys.enc_b64
    yield "apiv3-key", APIV3_KEY
    yield "truncated-b64-public", keys.spki_b64[:-60]
    yield "truncated-b64-private", keys.b64_8[:500]
    yield "bit-flipped-b64-public", b64(flip_bit(spki, 1))
    yield "ec-public-b64", keys.ec_public_b64
    yield "ec-private-b64", keys.ec_b64


@pytest.mark.parametrize(
    "case",
    [
        "private-pem",
        "private-b64-pkcs8",
        "private-b64-pkcs1",
        "private-b64-encrypted",
        "apiv3-key",
        "truncated-b64-public",
        "truncated-b64-private",
        "bit-flipped-b64-public",
        "ec-public-b64",
        "ec-private-b64",
    ],
)
@pytest.mark.parametrize("via", ["load_public_key", "AsyncClient"])
def test_a_wrong_platform_key_is_never_quoted(
    keys: Keys, caplog: pytest.LogCaptureFixture, case: str, via: str
) -> None:
    source = dict(public_key_cases(keys))[case]
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigurationError) as info:
        if via == "AsyncClient":
            AsyncClient(**client_options(keys, platform_keys={PUB_KEY_ID: source}))
        else:
            load_public_key(source, f"platform_keys[{PUB_KEY_ID!r}]")
    text = exception_text(info.value)
    keys.assert_clean(text)
    keys.assert_clean(caplog.text)
    assert_no_secret(text, source)
    assert "platform_keys" in str(info.value)


@pytest.mark.parametrize("case", ["private-b64-pkcs8", "private-b64-pkcs1", "private-b64-encrypted"])
def test_a_base64_private_key_in_platform_keys_is_called_one(keys: Keys, case: str) -> None:
    with pytest.raises(ConfigurationError, match="this is a private key"):
        load_public_key(dict(public_key_cases(keys))[case], "platform_keys['X']")


# -- accepted forms: they load, sign, and leave no trace --------------------------------------------------
def accepted_private_forms(keys: Keys, tmp_path: Path) -> dict[str, tuple[Any, str | None]]:
    der_file = tmp_path / "apiclient_key.der"
    der_file.write_bytes(keys.der8)
    b64_file = tmp_path / "apiclient_key.b64"
    b64_file.write_text(keys.b64_1 + "\n")
    wrapped = "\n".join(keys.b64_8[i : i + 64] for i in range(0, len(keys.b64_8), 64))
    return {
        "pem-pkcs8": (keys.pem8, None),
        "pem-pkcs1": (keys.pem1, None),
        "pem-escaped-newlines": (keys.pem8.replace("\n", "\\n"), None),  # as an env file often holds it
        "b64-pkcs8": (keys.b64_8, None),
        "b64-pkcs1": (keys.b64_1, None),
        "b64-padded-with-whitespace": (f"\n  {keys.b64_8}  \n", None),
        "b64-wrapped-without-armour": (wrapped, None),
        "b64-unpadded": (keys.b64_1.rstrip("="), None),
        "b64-urlsafe": (base64.urlsafe_b64encode(keys.der8).decode(), None),
        "b64-bytes": (keys.b64_8.encode(), None),
        "der-bytes": (keys.der1, None),
        "der-file": (der_file, None),
        "b64-file-url": (b64_file.as_uri(), None),
        "pem-encrypted": (keys.enc_pem, PASSPHRASE),
        "b64-encrypted": (keys.enc_b64, PASSPHRASE),
    }


ACCEPTED = [
    "pem-pkcs8",
    "pem-pkcs1",
    "pem-escaped-newlines",
    "b64-pkcs8",
    "b64-pkcs1",
    "b64-padded-with-whitespace",
    "b64-wrapped-without-armour",
    "b64-unpadded",
    "b64-urlsafe",
    "b64-bytes",
    "der-bytes",
    "der-file",
    "b64-file-url",
    "pem-encrypted",
    "b64-encrypted",
]


@pytest.mark.parametrize("form", ACCEPTED)
def test_every_accepted_private_key_form_loads_the_same_key(keys: Keys, tmp_path: Path, form: str) -> None:
    source, passphrase = accepted_private_forms(keys, tmp_path)[form]
    loaded = load_private_key(source, passphrase)
    assert loaded.public_key().public_numbers() == keys.merchant.public_key().public_numbers()
    assert loaded.private_numbers() == keys.merchant.private_numbers()
    signature = base64.b64decode(rsa_sign(loaded, b"GET\n/v3/certificates\n"))
    keys.merchant.public_key().verify(signature, b"GET\n/v3/certificates\n", padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize("form", ACCEPTED)
def test_a_client_built_from_any_accepted_form_shows_no_key(
    keys: Keys, tmp_path: Path, caplog: pytest.LogCaptureFixture, form: str
) -> None:
    source, passphrase = accepted_private_forms(keys, tmp_path)[form]
    caplog.set_level(logging.DEBUG)
    client = AsyncClient(**client_options(keys, private_key=source, passphrase=passphrase, offload_crypto="never"))
    shown = [repr(client), str(client), repr(client.keys), repr(client._config), repr(client._config.signer)]
    text = "\n".join([*shown, caplog.text])
    keys.assert_clean(text)
    assert "PRIVATE" not in text


async def test_a_one_line_base64_key_signs_requests_the_server_accepts(
    keys: Keys, peer: WirePeer, memory: MemoryTransport
) -> None:
    async with AsyncClient(**client_options(keys, private_key=keys.b64_1, transport=memory)) as client:
        response = await client.v3.certificates.get()
    assert response.status == 200
    assert peer.seen[-1].signature_ok


def test_base64_der_public_keys_and_certificates_load(keys: Keys) -> None:
    public = keys.platform.public_key()
    spki = b64(public.public_bytes(serialization.Encoding.DER, SPKI))
    pkcs1 = b64(public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1))
    for source in (spki, pkcs1, spki.rstrip("="), spki.encode()):
        key, serial = load_public_key(source)
        assert key.public_numbers() == public.public_numbers() and serial is None
    v = VECTORS["signed_notification"]
    cert = x509.load_pem_x509_certificate(v["certificate_pem"].encode())
    key, serial = load_public_key(b64(cert.public_bytes(serialization.Encoding.DER)))
    assert serial == v["certificate_serial_hex"].upper()
    assert key.public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]
    client = AsyncClient(
        **client_options(
            keys,
            private_key=keys.b64_8,
            platform_keys={PUB_KEY_ID: pkcs1, serial: b64(cert.public_bytes(serialization.Encoding.DER))},
        )
    )
    assert set(client.keys) == {PUB_KEY_ID, serial}


def test_a_relative_path_still_reads_as_a_path(keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "apiclient_key.pem").write_text(keys.pem8)
    monkeypatch.chdir(tmp_path)
    assert load_private_key("apiclient_key.pem").private_numbers() == keys.merchant.private_numbers()


# -- the command line ----------------------------------------------------------------------------------------
def run_certificates(private_key: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # The subprocess must import the same wxpay_chain as this test (a checkout given by PYTHONPATH, say).
    package_root = str(Path(wxpay_chain.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-m", "wxpay_chain", "certificates", "-m", MCHID, "-s", "ABC"]
    argv += ["-f", private_key, *extra, "-k", APIV3_KEY, "-o", str(tmp_path / "out"), "-u", "http://127.0.0.1:9/"]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)


CLI_CASES = ["b64-pkcs8", "b64-pkcs1", "truncated-b64", "apiv3-key", "public-b64", "pem-words-unquoted"]


@pytest.mark.parametrize("case", CLI_CASES)
def test_the_certificates_command_never_echoes_a_key(keys: Keys, tmp_path: Path, case: str) -> None:
    extra: tuple[str, ...] = ()
    source = {
        "b64-pkcs8": keys.b64_8,
        "b64-pkcs1": keys.b64_1,
        "truncated-b64": keys.b64_8[:700],
        "apiv3-key": APIV3_KEY,
        "public-b64": keys.spki_b64,
        "pem-words-unquoted": str(tmp_path / "apiclient_key.pem"),
    }[case]
    if case == "pem-words-unquoted":
        (tmp_path / "apiclient_key.pem").write_text(keys.pem8)
        extra = tuple(keys.pem8.splitlines()[1:4])  # as from an unquoted $(cat key.pem) after a path
    result = run_certificates(source, tmp_path, *extra)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output
    assert output.strip(), "the command must say what went wrong"
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr  # one line (argparse adds its usage)
    keys.assert_clean(output)
    assert_no_secret(output, source)


def test_the_command_line_help_mentions_base64(capsys: pytest.CaptureFixture[str]) -> None:
    from wxpay_chain.__main__ import main

    with pytest.raises(SystemExit):
        main(["certificates", "--help"])
    assert "base64" in capsys.readouterr().out


def test_which_copy_is_under_test() -> None:
    print("wxpay_chain imported from", wxpay_chain.__file__)  # shown with -s: a checkout via PYTHONPATH


# -- a traceback recorded with its local variables (an error tracker's default) ---------------------------
def locals_text(exc: BaseException) -> str:
    return "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())


async def test_a_forged_notifications_traceback_with_locals_shows_no_apiv3_key(
    make_client: Any, platform_key: rsa.RSAPrivateKey
) -> None:
    # Anyone can POST a notification: its SignatureError, recorded with locals, showed apiv3_key = '...' in
    # the frames it passed through (the client's and the module function's alike).
    import time

    from wxpay_chain import SignatureError
    from wxpay_chain.notifications import parse_notification

    headers = {
        "Wechatpay-Timestamp": str(int(time.time())),
        "Wechatpay-Nonce": "n" * 16,
        "Wechatpay-Signature": base64.b64encode(b"x" * 256).decode(),
        "Wechatpay-Serial": PUB_KEY_ID,
    }
    body = b'{"id":"1","resource":{"algorithm":"AEAD_AES_256_GCM","ciphertext":"AA","nonce":"n"}}'
    client = make_client(apiv3_key=APIV3_KEY)
    with pytest.raises(SignatureError) as by_client:
        await client.parse_notification(headers, body)
    with pytest.raises(SignatureError) as by_function:
        parse_notification(headers, body, keys=client.keys, apiv3_key=APIV3_KEY, now=time.time())
    for caught in (by_client, by_function):
        recorded = locals_text(caught.value)
        assert "apiv3_key = '<secret>'" in recorded and APIV3_KEY not in recorded


def test_a_client_that_fails_to_build_can_be_recorded_with_its_locals(merchant_key: rsa.RSAPrivateKey) -> None:
    # The half-built client's repr raised AttributeError, so the traceback could not be recorded at all.
    from wxpay_chain import Client

    pem = merchant_key.private_bytes(serialization.Encoding.PEM, PKCS8, serialization.NoEncryption()).decode()
    for cls in (AsyncClient, Client):
        with pytest.raises(ConfigurationError) as caught:
            cls(mchid=MCHID, serial="not-a-serial", private_key=pem, apiv3_key=APIV3_KEY)
        assert "(not built)>" in locals_text(caught.value)  # the arguments are in it, as the caller gave them
