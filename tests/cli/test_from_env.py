"""AsyncClient.from_env() / Client.from_env(): the WXPAY_* variables, keyword overrides, and errors that
name the variable but never repeat its value."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from wxpay_chain import AsyncClient, Client, ConfigurationError
from wxpay_chain.sandbox import DEMO_APPID, DEMO_OPENIDS, Sandbox, ThreadedSandbox

from .conftest import sandbox_env

RICH = DEMO_OPENIDS[0]
BUSIFAVOR = "v3/marketing/busifavor/users/{openid}/coupons"
BRAND_LIST = "brand/marketing/product-coupon/users/{openid}/coupons"


def coupons_total(client: Client) -> int:
    answer = client[BUSIFAVOR].get(openid=RICH, query={"appid": DEMO_APPID})
    assert answer.status == 200
    return int(answer.json()["total_count"])


def key_der_b64(pem: str) -> str:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return base64.b64encode(der).decode()


@pytest.mark.parametrize("form", ["path", "file-url", "pem", "pem-escaped", "base64"])
def test_the_private_key_in_every_form_signs_for_the_sandbox(
    wxpay_sandbox: ThreadedSandbox, tmp_path: Path, form: str
) -> None:
    env = sandbox_env(wxpay_sandbox, tmp_path)
    pem = wxpay_sandbox.credentials.private_key
    env["WXPAY_PRIVATE_KEY"] = {
        "path": env["WXPAY_PRIVATE_KEY"],
        "file-url": Path(env["WXPAY_PRIVATE_KEY"]).as_uri(),
        "pem": pem,
        "pem-escaped": pem.replace("\n", "\\n"),  # as an env file or a JSON secret keeps it
        "base64": key_der_b64(pem),
    }[form]
    with Client.from_env(env) as client:
        assert coupons_total(client) == 7


def test_from_env_reads_the_process_environment_by_default(wxpay_env: dict[str, str]) -> None:
    with Client.from_env() as client:
        assert isinstance(client, Client)
        assert coupons_total(client) == 7


async def test_async_from_env_gives_an_async_client(wxpay_env: dict[str, str]) -> None:
    async with AsyncClient.from_env() as client:
        assert isinstance(client, AsyncClient)
        answer = await client[BUSIFAVOR].get(openid=RICH, query={"appid": DEMO_APPID})
        assert answer.json()["total_count"] == 7


def test_platform_keys_as_json_instead_of_the_public_key_pair(wxpay_sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    env = sandbox_env(wxpay_sandbox, tmp_path)
    key_id, key = env.pop("WXPAY_PUBLIC_KEY_ID"), env.pop("WXPAY_PUBLIC_KEY")
    creds = wxpay_sandbox.credentials
    env["WXPAY_PLATFORM_KEYS"] = json.dumps({key_id: key, creds.platform_serial: creds.platform_certificate})
    with Client.from_env(env) as client:
        assert set(client.keys) == {key_id, creds.platform_serial}
        assert coupons_total(client) == 7


def test_the_apiv3_key_alone_downloads_platform_certificates(tmp_path: Path) -> None:
    with Sandbox.in_thread(answer_mode="certificate") as sb:
        env = sandbox_env(sb, tmp_path)
        del env["WXPAY_PUBLIC_KEY_ID"], env["WXPAY_PUBLIC_KEY"]
        with Client.from_env(env) as client:
            assert coupons_total(client) == 7
            assert [c.serial for c in client.certificates] == [sb.credentials.platform_serial]


def test_the_brand_id_makes_a_brand_client(wxpay_sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    env = sandbox_env(wxpay_sandbox, tmp_path)
    creds = wxpay_sandbox.credentials
    del env["WXPAY_MCHID"]
    env.update(WXPAY_BRAND_ID=creds.brand_id, WXPAY_SERIAL=creds.brand_serial)
    env["WXPAY_PRIVATE_KEY"] = creds.brand_private_key
    with Client.from_env(env) as client:
        assert client.mode == "brand"
        assert client[BRAND_LIST].get(openid=RICH, query={"appid": DEMO_APPID}).json()["total_count"] == 8


def test_keywords_win_over_the_environment(wxpay_sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    env = sandbox_env(wxpay_sandbox, tmp_path)
    good_url = env["WXPAY_BASE_URL"]
    env["WXPAY_BASE_URL"] = "http://127.0.0.1:9/"  # nothing listens there
    env["WXPAY_PUBLIC_KEY"] = "not a key at all"  # never read: platform_keys= is given
    env["WXPAY_BRAND_ID"] = "120344"  # both identities set, but mchid= decides
    creds = wxpay_sandbox.credentials
    with Client.from_env(
        env, mchid=creds.mchid, base_url=good_url, platform_keys={creds.pub_key_id: creds.pub_key}, timeout=5
    ) as client:
        assert client.mode == "merchant"
        assert coupons_total(client) == 7


def test_empty_variables_count_as_unset(wxpay_sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    env = {**sandbox_env(wxpay_sandbox, tmp_path), "WXPAY_BRAND_ID": "", "WXPAY_APIV2_KEY": " "}
    with Client.from_env(env) as client:
        assert client.mode == "merchant"


def test_the_apiv2_key_reaches_the_client(wxpay_sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    key = "A" * 16 + "b" * 16
    with Client.from_env({**sandbox_env(wxpay_sandbox, tmp_path), "WXPAY_APIV2_KEY": key}) as client:
        assert client.async_client._config.apiv2_key == key
        assert key not in repr(client) and key not in repr(client.async_client._config)


# -- errors name the variable, never its value -----------------------------------------------------

SECRET_PEM_LINE = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
APIV3_LIKE = "Zq8sK2mN4pR6tV8xB0dF2hJ4kL6nP8rT"


def bad(env: dict[str, str], **changes: str | None) -> dict[str, str]:
    out = dict(env)
    for name, value in changes.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


CASES: dict[str, tuple[dict[str, str | None], tuple[str, ...]]] = {
    "no identity": ({"WXPAY_MCHID": None}, ("WXPAY_MCHID", "WXPAY_BRAND_ID")),
    "two identities": ({"WXPAY_BRAND_ID": "120344"}, ("WXPAY_MCHID", "WXPAY_BRAND_ID", "not both")),
    "no serial": ({"WXPAY_SERIAL": None}, ("WXPAY_SERIAL",)),
    "no private key": ({"WXPAY_PRIVATE_KEY": None}, ("WXPAY_PRIVATE_KEY",)),
    "the APIv3 key as private key": ({"WXPAY_PRIVATE_KEY": APIV3_LIKE}, ("WXPAY_PRIVATE_KEY", "APIv3 key")),
    "a missing key file": ({"WXPAY_PRIVATE_KEY": "/nowhere/apiclient_key_8f3a.pem"}, ("WXPAY_PRIVATE_KEY",)),
    "truncated base64": ({"WXPAY_PRIVATE_KEY": SECRET_PEM_LINE * 3}, ("WXPAY_PRIVATE_KEY",)),
    "a half public key pair": ({"WXPAY_PUBLIC_KEY": None}, ("WXPAY_PUBLIC_KEY_ID", "WXPAY_PUBLIC_KEY")),
    "a private key as public key": ({"WXPAY_PUBLIC_KEY": "$private"}, ("WXPAY_PUBLIC_KEY", "private key")),
    "platform keys not JSON": (
        {"WXPAY_PLATFORM_KEYS": "{'PUB_KEY_ID_1': " + SECRET_PEM_LINE},
        ("WXPAY_PLATFORM_KEYS",),
    ),
    "a bad platform key": (
        {"WXPAY_PLATFORM_KEYS": json.dumps({"PUB_KEY_ID_0114232134912410000000000000": SECRET_PEM_LINE * 9})},
        ("WXPAY_PLATFORM_KEYS", "entry 1 of 1"),
    ),
    "the APIv3 key as serial": ({"WXPAY_SERIAL": APIV3_LIKE}, ("WXPAY_SERIAL", "hex digits")),
    "the APIv3 key as mchid": ({"WXPAY_MCHID": APIV3_LIKE}, ("WXPAY_MCHID", "its digits")),
    "the APIv3 key as public key id": ({"WXPAY_PUBLIC_KEY_ID": APIV3_LIKE}, ("WXPAY_PUBLIC_KEY_ID", "PUB_KEY_ID_")),
    "a short APIv3 key": ({"WXPAY_APIV3_KEY": APIV3_LIKE[:31]}, ("WXPAY_APIV3_KEY", "31 characters")),
    "a short APIv2 key": ({"WXPAY_APIV2_KEY": APIV3_LIKE[:20]}, ("WXPAY_APIV2_KEY",)),
    "a base URL with a password": (
        {"WXPAY_BASE_URL": "https://merchant:hunter2secret@api.example/"},
        ("WXPAY_BASE_URL",),
    ),
    "nothing to verify with": (
        {"WXPAY_PUBLIC_KEY_ID": None, "WXPAY_PUBLIC_KEY": None, "WXPAY_APIV3_KEY": None},
        ("WXPAY_PUBLIC_KEY", "WXPAY_PLATFORM_KEYS", "WXPAY_APIV3_KEY"),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_errors_name_the_variable_and_never_its_value(
    wxpay_sandbox: ThreadedSandbox, tmp_path: Path, case: str
) -> None:
    env = sandbox_env(wxpay_sandbox, tmp_path)
    changes, named = CASES[case]
    if changes.get("WXPAY_PUBLIC_KEY") == "$private":
        changes = {"WXPAY_PUBLIC_KEY": wxpay_sandbox.credentials.private_key}
    broken = bad(env, **changes)
    with pytest.raises(ConfigurationError) as info:
        Client.from_env(broken)
    message = str(info.value)
    for name in named:
        assert name in message, message
    assert info.value.__cause__ is None and info.value.__context__ is None
    for value in changes.values():
        if value:
            for piece in (value, *value.split("\n")[1:3], value[8:40]):
                assert len(piece.strip()) < 6 or piece.strip() not in message, (case, message)
    for name, value in env.items():
        if name not in ("WXPAY_MCHID", "WXPAY_BASE_URL") and value:
            assert value not in message, (name, message)


def test_a_brand_without_a_public_key_is_told_which_variables(wxpay_sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    env = sandbox_env(wxpay_sandbox, tmp_path)
    creds = wxpay_sandbox.credentials
    env = bad(env, WXPAY_MCHID=None, WXPAY_BRAND_ID=creds.brand_id, WXPAY_PUBLIC_KEY_ID=None, WXPAY_PUBLIC_KEY=None)
    with pytest.raises(ConfigurationError, match="WXPAY_PUBLIC_KEY_ID and WXPAY_PUBLIC_KEY"):
        Client.from_env(env)


def test_a_misspelt_variable_is_named_when_a_setting_is_missing(wxpay_sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    env = sandbox_env(wxpay_sandbox, tmp_path)
    env["WXPAY_MCH_ID"] = env.pop("WXPAY_MCHID")
    with pytest.raises(ConfigurationError, match="set but unknown here: WXPAY_MCH_ID") as info:
        AsyncClient.from_env(env)
    assert env["WXPAY_MCH_ID"] not in str(info.value)


def test_a_misspelt_key_of_a_config_file_is_named_when_a_setting_is_missing(
    wxpay_sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    # The same slip in --config was ignored without a word: only "keys are missing" was said.
    from wxpay_chain._env import _CONFIG_FILE_KEYS, options_from_config
    from wxpay_chain.sandbox import CONFIG_KEYS

    path = wxpay_sandbox.write_config(tmp_path)
    assert set(json.loads(path.read_text())) == set(CONFIG_KEYS) <= _CONFIG_FILE_KEYS  # the sandbox's: all known
    options_from_config(path, {})
    settings = json.loads(path.read_text())
    for key in ("pub_key_id", "pub_key", "platform_serial", "platform_certificate"):
        del settings[key]
    settings["apiv3key"] = settings.pop("apiv3_key")
    path.write_text(json.dumps(settings))
    with pytest.raises(ConfigurationError, match=r"in the file but unknown here: apiv3key\)$") as info:
        options_from_config(path, {})
    assert settings["apiv3key"] not in str(info.value)
