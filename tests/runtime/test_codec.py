"""The payload codec and its keys: what is sealed opens again with the same key, names its key,
opens with an old key after a rotation, and refuses what it cannot open, saying why."""

from __future__ import annotations

import base64
import json

import pytest
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import pydantic_data_converter
from typer.testing import CliRunner

from missionflow.cli import app
from missionflow.runtime.codec import ENCODING, KEY_ID, SealingCodec, UnsealError
from missionflow.runtime.settings import GENERATED_KEY_ID, Settings, new_sealing_key
from missionflow.runtime.temporal import data_converter

KEY_A = b"A" * 32
KEY_B = b"B" * 32
SECRET = "Jana Weber <jana.weber@example.org>"


def plain(text: str = SECRET) -> Payload:
    return pydantic_data_converter.payload_converter.to_payloads([text])[0]


async def test_round_trip_names_the_key_and_hides_the_text() -> None:
    codec = SealingCodec(current="a", keys={"a": KEY_A})
    [sealed] = await codec.encode([plain()])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == b"a"
    assert b"jana" not in sealed.SerializeToString().lower()
    [opened] = await codec.decode([sealed])
    assert opened == plain()


async def test_the_same_payload_seals_differently_each_time() -> None:
    codec = SealingCodec(current="a", keys={"a": KEY_A})
    first, second = await codec.encode([plain(), plain()])
    assert first.data != second.data, "a nonce reused would show equal answers as equal"


async def test_an_old_key_still_opens_after_a_rotation() -> None:
    before = SealingCodec(current="a", keys={"a": KEY_A})
    after = SealingCodec(current="b", keys={"a": KEY_A, "b": KEY_B})
    [old] = await before.encode([plain("sealed before")])
    [new] = await after.encode([plain("sealed after")])
    assert new.metadata[KEY_ID] == b"b"
    assert await after.decode([old, new]) == [plain("sealed before"), plain("sealed after")]


async def test_a_payload_not_sealed_passes_through() -> None:
    """Histories recorded before payloads were sealed still replay."""
    codec = SealingCodec(current="a", keys={"a": KEY_A})
    assert await codec.decode([plain()]) == [plain()]


async def test_an_unknown_key_is_refused_by_name() -> None:
    [sealed] = await SealingCodec(current="a", keys={"a": KEY_A}).encode([plain()])
    dropped = SealingCodec(current="b", keys={"b": KEY_B})
    with pytest.raises(UnsealError, match=r"sealed with key 'a', which is not configured.*\bb\b"):
        await dropped.decode([sealed])


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: Payload(metadata=p.metadata, data=p.data[:-1] + bytes([p.data[-1] ^ 1])),
        lambda p: Payload(metadata=p.metadata, data=p.data[:20]),
        lambda p: Payload(metadata=p.metadata, data=b""),
        lambda p: Payload(metadata={**p.metadata, KEY_ID: b"b"}, data=p.data),
    ],
    ids=["a bit flipped", "cut short", "empty", "another key's id"],
)
async def test_tampered_ciphertext_is_refused(tamper) -> None:
    keys = {"a": KEY_A, "b": KEY_B}
    [sealed] = await SealingCodec(current="a", keys=keys).encode([plain()])
    with pytest.raises(UnsealError, match="sealed with key"):
        await SealingCodec(current="a", keys=keys).decode([tamper(sealed)])


async def test_the_same_id_with_other_key_bytes_is_refused() -> None:
    [sealed] = await SealingCodec(current="a", keys={"a": KEY_A}).encode([plain()])
    with pytest.raises(UnsealError, match="does not open with the key configured"):
        await SealingCodec(current="a", keys={"a": KEY_B}).decode([sealed])


async def test_the_data_converter_seals_values_and_failures() -> None:
    converter = data_converter(Settings(encryption_keys={"a": base64.b64encode(KEY_A).decode()}))
    [payload] = await converter.encode([{"contact_email": "jana.weber@example.org"}])
    assert payload.metadata["encoding"] == ENCODING
    assert await converter.decode([payload], [dict]) == [
        {"contact_email": "jana.weber@example.org"}
    ]
    failure = Failure()
    await converter.encode_failure(RuntimeError("550 no such user jana@example.org"), failure)
    assert "jana" not in failure.message and "jana" not in failure.stack_trace
    assert failure.encoded_attributes.metadata["encoding"] == ENCODING
    assert "jana@example.org" in str(await converter.decode_failure(failure))


# Settings: the keys as an operator writes them, and refusals that name the setting.


def test_keys_in_base64_urlsafe_unpadded_or_hex() -> None:
    raw = bytes(range(32))
    for written in (
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
    ):
        keys = Settings(encryption_keys={"k": written}).sealing_keys()
        assert keys.current == "k" and keys.keys == {"k": raw}


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        (base64.b64encode(b"x" * 16).decode(), "is 16 bytes; AES-256-GCM needs 32"),
        ("not base64 at all!", "is neither base64 nor 64 hexadecimal digits"),
        ("abcde", "is not valid base64"),
        ("", "is neither base64"),
    ],
)
def test_a_malformed_key_is_refused_naming_the_setting(written: str, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(encryption_keys={"2025-06": written})
    assert "MISSIONFLOW_ENCRYPTION_KEYS: the key '2025-06' " + reason in str(refused.value)
    assert written not in str(refused.value) or not written, "a key never shows in an error"


def test_a_malformed_key_from_the_environment_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("MISSIONFLOW_ENCRYPTION_KEYS", json.dumps({"old": "c2hvcnQ="}))
    with pytest.raises(ValidationError, match="MISSIONFLOW_ENCRYPTION_KEYS: the key 'old' is 5"):
        Settings()


def test_keys_from_the_environment_with_the_current_one_named(monkeypatch) -> None:
    a, b = new_sealing_key(), new_sealing_key()
    monkeypatch.setenv("MISSIONFLOW_ENCRYPTION_KEYS", json.dumps({"2024-11": a, "2025-06": b}))
    monkeypatch.setenv("MISSIONFLOW_ENCRYPTION_KEY_ID", "2025-06")
    keys = Settings().sealing_keys()
    assert keys.current == "2025-06"
    assert keys.keys == {"2024-11": base64.b64decode(a), "2025-06": base64.b64decode(b)}


def test_several_keys_need_the_current_one_named() -> None:
    keys = {"a": new_sealing_key(), "b": new_sealing_key()}
    with pytest.raises(ValidationError, match="set MISSIONFLOW_ENCRYPTION_KEY_ID"):
        Settings(encryption_keys=keys)
    with pytest.raises(ValidationError, match="MISSIONFLOW_ENCRYPTION_KEY_ID is 'c', which is not"):
        Settings(encryption_keys=keys, encryption_key_id="c")
    with pytest.raises(ValidationError, match=r"MISSIONFLOW_ENCRYPTION_KEY_ID is 'a'.*none is set"):
        Settings(encryption_key_id="a")


def test_a_key_id_is_a_plain_name() -> None:
    with pytest.raises(ValidationError, match="the key id 'a b' must be"):
        Settings(encryption_keys={"a b": new_sealing_key()})


def test_production_needs_its_own_keys() -> None:
    """Several processes on several machines must share them: a key generated into each
    one's `home` would seal what the others cannot open."""
    deployment = {
        "environment": "production",
        "temporal_address": "temporal:7233",
        "database_url": "postgresql+psycopg://u@db/missionflow",
        "smtp_host": "mail",
        "api_token": "a-real-coordinator-token",
        "secret_key": "a-real-secret",
        "public_url": "https://missions.example.org",
    }
    with pytest.raises(ValidationError, match="MISSIONFLOW_ENCRYPTION_KEYS"):
        Settings(**deployment)
    Settings(**deployment, encryption_keys={"2025-06": new_sealing_key()})


def test_with_no_keys_one_is_generated_into_home_and_kept(tmp_path) -> None:
    first = Settings(home=tmp_path).sealing_keys()
    assert first.current == GENERATED_KEY_ID and len(first.keys[GENERATED_KEY_ID]) == 32
    assert (tmp_path / "encryption_key").stat().st_mode & 0o777 == 0o600
    again = Settings(home=tmp_path).sealing_keys()
    assert again == first, "a restart must open what was sealed before it"


@pytest.mark.parametrize("command", [["worker"], ["api"], ["dev"]])
def test_a_malformed_key_stops_a_process_at_start_up(command: list[str]) -> None:
    short = base64.b64encode(b"k" * 16).decode()
    refused = CliRunner().invoke(
        app, command, env={"MISSIONFLOW_ENCRYPTION_KEYS": json.dumps({"2025-06": short})}
    )
    assert refused.exit_code == 2, refused.output
    assert "MISSIONFLOW_ENCRYPTION_KEYS: the key '2025-06' is 16 bytes" in refused.output
    assert short not in refused.output and "Traceback" not in refused.output


def test_any_refused_setting_is_named() -> None:
    refused = CliRunner().invoke(app, ["worker"], env={"MISSIONFLOW_API_PORT": "eighty"})
    assert refused.exit_code == 2
    assert "MISSIONFLOW_API_PORT: Input should be a valid integer" in refused.output
