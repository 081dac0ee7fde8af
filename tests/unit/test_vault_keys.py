"""Master key loading and checks, the key hierarchy's wraps, encrypted fields, blind index."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature

from kaiku_tui.errors import ConfigError, UsageError, VaultError
from kaiku_tui.vault import (
    MasterKey,
    OrgKey,
    RecordKey,
    blind_index,
    decrypt_field,
    encrypt_field,
    new_data_key,
)

RAW = bytes(range(32))
RAW_B64 = base64.b64encode(RAW).decode()


def key_spellings(key: bytes) -> list[str]:
    """Ways a key could leak into a message: hex (both cases) and base64 variants."""
    return [
        key.hex(),
        key.hex().upper(),
        base64.b64encode(key).decode(),
        base64.urlsafe_b64encode(key).decode(),
        repr(key),
    ]


def assert_no_key_material(message: str, *keys: bytes) -> None:
    for key in keys:
        for spelling in key_spellings(key):
            assert spelling not in message


def write_key_file(path: Path, content: str, mode: int = 0o600) -> Path:
    path.write_text(content)
    path.chmod(mode)
    return path


# --- MasterKey basics -------------------------------------------------------


def test_key_id_is_16_hex_and_stable_per_key() -> None:
    a = MasterKey.from_bytes(RAW)
    assert a.key_id == MasterKey.from_bytes(RAW).key_id
    assert len(a.key_id) == 16
    int(a.key_id, 16)
    assert a.key_id != MasterKey.generate().key_id
    assert a.key_id not in RAW.hex()


def test_master_key_repr_hides_key() -> None:
    key = MasterKey.from_bytes(RAW)
    text = repr(key) + str(key)
    assert key.key_id in text
    assert_no_key_material(text, RAW)


def test_master_key_is_frozen() -> None:
    key = MasterKey.generate()
    with pytest.raises(AttributeError):
        key.key_id = "0" * 16  # type: ignore[misc]


def test_master_key_wrong_length_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes, got 31"):
        MasterKey.from_bytes(bytes(31))


def test_derived_keys_are_distinct_and_deterministic() -> None:
    key = MasterKey.from_bytes(RAW)
    again = MasterKey.from_bytes(RAW)
    audit, search = key.audit_mac_key(), key.search_key()
    assert len(audit) == len(search) == 32
    assert audit != search
    assert RAW not in (audit, search)
    assert audit == again.audit_mac_key()
    assert search == again.search_key()
    assert audit != MasterKey.generate().audit_mac_key()


def test_checkpoint_signing_key_is_stable_and_signs() -> None:
    key = MasterKey.from_bytes(RAW)
    signer = key.checkpoint_signing_key()
    signature = signer.sign(b"seq=1")
    MasterKey.from_bytes(RAW).checkpoint_signing_key().public_key().verify(signature, b"seq=1")
    other = MasterKey.generate().checkpoint_signing_key().public_key()
    with pytest.raises(InvalidSignature):
        other.verify(signature, b"seq=1")


def test_new_data_key_is_random_32_bytes() -> None:
    a, b = new_data_key(), new_data_key()
    assert len(a) == 32
    assert a != b


# --- Master key from the environment or a file ------------------------------


def test_env_var_wins_over_file(tmp_path: Path) -> None:
    other = MasterKey.generate()
    path = tmp_path / "master.key"
    MasterKey.create_file(path)
    env = {"KAIKU_MASTER_KEY": base64.b64encode(other._raw).decode()}
    assert MasterKey.from_env_or_file(path, env).key_id == other.key_id


def test_env_var_whitespace_stripped_and_no_file_needed(tmp_path: Path) -> None:
    env = {"KAIKU_MASTER_KEY": f"  {RAW_B64[:20]}\n{RAW_B64[20:]}\n"}
    key = MasterKey.from_env_or_file(tmp_path / "absent.key", env)
    assert key.key_id == MasterKey.from_bytes(RAW).key_id


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64!",
        base64.b64encode(bytes(31)).decode(),
        base64.b64encode(RAW + b"x").decode(),
        base64.urlsafe_b64encode(b"\xfb" * 32).decode(),
        "ä" * 44,
    ],
)
def test_env_var_bad_value(value: str) -> None:
    with pytest.raises(ConfigError) as err:
        MasterKey.from_env_or_file(None, {"KAIKU_MASTER_KEY": value})
    message = str(err.value)
    assert "KAIKU_MASTER_KEY" in message
    assert "\n" not in message
    if value.strip():
        assert value not in message


def test_no_env_and_no_path() -> None:
    with pytest.raises(ConfigError, match="KAIKU_MASTER_KEY"):
        MasterKey.from_env_or_file(None, {})


def test_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    created = MasterKey.create_file(path)
    loaded = MasterKey.from_env_or_file(path, {})
    assert loaded.key_id == created.key_id
    assert loaded.audit_mac_key() == created.audit_mac_key()


def test_file_missing(tmp_path: Path) -> None:
    path = tmp_path / "nope.key"
    with pytest.raises(ConfigError) as err:
        MasterKey.from_env_or_file(path, {})
    assert str(path) in str(err.value)
    assert "does not exist" in str(err.value)
    assert err.value.exit_code == UsageError.exit_code


def test_file_is_a_directory(tmp_path: Path) -> None:
    path = tmp_path / "dir.key"
    path.mkdir(mode=0o700)
    with pytest.raises(ConfigError, match="not a regular file"):
        MasterKey.from_env_or_file(path, {})


def test_file_is_a_fifo_does_not_hang(tmp_path: Path) -> None:
    path = tmp_path / "fifo.key"
    os.mkfifo(path, 0o600)
    with pytest.raises(ConfigError, match="not a regular file"):
        MasterKey.from_env_or_file(path, {})


def test_file_mode_0644_refused_with_chmod_hint(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / "master.key", RAW_B64 + "\n", 0o644)
    with pytest.raises(ConfigError) as err:
        MasterKey.from_env_or_file(path, {})
    message = str(err.value)
    assert message == (
        f"master key file {path} is readable by others (mode 0644); run chmod 600 {path}"
    )
    assert_no_key_material(message, RAW)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o601, 0o660])
def test_file_any_group_or_other_bit_refused(tmp_path: Path, mode: int) -> None:
    path = write_key_file(tmp_path / "master.key", RAW_B64 + "\n", mode)
    with pytest.raises(ConfigError, match=f"mode {mode:04o}"):
        MasterKey.from_env_or_file(path, {})


def test_file_0400_accepted(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / "master.key", RAW_B64 + "\n", 0o400)
    assert MasterKey.from_env_or_file(path, {}).key_id == MasterKey.from_bytes(RAW).key_id


def test_file_owned_by_someone_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_key_file(tmp_path / "master.key", RAW_B64 + "\n")
    real_uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real_uid + 4242)
    with pytest.raises(ConfigError) as err:
        MasterKey.from_env_or_file(path, {})
    assert str(path) in str(err.value)
    assert "owned by uid" in str(err.value)


@pytest.mark.parametrize(
    "content",
    [
        "",
        "\n",
        "hello world\n",
        base64.b64encode(bytes(16)).decode() + "\n",
        RAW_B64 + RAW_B64 + "\n",
        "x" * 10_000,
    ],
)
def test_file_bad_content(tmp_path: Path, content: str) -> None:
    path = write_key_file(tmp_path / "master.key", content)
    with pytest.raises(ConfigError) as err:
        MasterKey.from_env_or_file(path, {})
    message = str(err.value)
    assert str(path) in message
    assert "base64 of 32 bytes" in message
    assert "\n" not in message
    assert_no_key_material(message, RAW)


def test_create_file_mode_0600_and_format(tmp_path: Path) -> None:
    old_umask = os.umask(0)  # even a permissive umask must not widen the mode
    try:
        path = tmp_path / "master.key"
        key = MasterKey.create_file(path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_text()
    assert content.endswith("\n")
    assert content.count("\n") == 1
    assert base64.b64decode(content, validate=False) == key._raw


def test_create_file_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    MasterKey.create_file(path)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="already exists"):
        MasterKey.create_file(path)
    assert path.read_bytes() == before


def test_create_file_refuses_symlink(tmp_path: Path) -> None:
    target = tmp_path / "target"
    link = tmp_path / "master.key"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match="already exists"):
        MasterKey.create_file(link)
    assert not target.exists()


def test_create_file_in_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "no" / "master.key"
    with pytest.raises(ConfigError, match="cannot be created"):
        MasterKey.create_file(path)


# --- Organisation keys ------------------------------------------------------


def test_org_key_wrap_round_trip_and_format() -> None:
    master = MasterKey.generate()
    org_key = new_data_key()
    wrapped = master.wrap_org_key("HUS", org_key)
    assert wrapped[0] == 1
    assert len(wrapped) == 1 + 12 + 32 + 16
    assert org_key not in wrapped
    assert master.unwrap_org_key("HUS", wrapped) == org_key
    assert master.wrap_org_key("HUS", org_key) != wrapped  # random nonce


def test_open_org_key_gives_org_key() -> None:
    master = MasterKey.generate()
    org_key = new_data_key()
    opened = master.open_org_key("HUS", master.wrap_org_key("HUS", org_key))
    assert opened.code == "HUS"
    assert opened._key == org_key


def test_org_key_wrong_master_key() -> None:
    org_key = new_data_key()
    master = MasterKey.generate()
    other = MasterKey.generate()
    wrapped = master.wrap_org_key("HUS", org_key)
    with pytest.raises(VaultError) as err:
        other.unwrap_org_key("HUS", wrapped)
    assert str(err.value) == (
        "organisation key of 'HUS' does not open with this master key "
        "(wrong master key or altered key)"
    )
    assert_no_key_material(str(err.value), org_key, master._raw, other._raw)


def test_org_key_bound_to_org_code() -> None:
    master = MasterKey.generate()
    wrapped = master.wrap_org_key("HUS", new_data_key())
    with pytest.raises(VaultError, match="'TAYS'"):
        master.unwrap_org_key("TAYS", wrapped)


@pytest.mark.parametrize("position", [0, 1, 13, 40, -1])
def test_org_key_altered(position: int) -> None:
    master = MasterKey.generate()
    wrapped = bytearray(master.wrap_org_key("HUS", new_data_key()))
    wrapped[position] ^= 0x01
    with pytest.raises(VaultError, match="'HUS'"):
        master.unwrap_org_key("HUS", bytes(wrapped))


@pytest.mark.parametrize("wrapped", [b"", b"\x01", b"\x01" + bytes(27)])
def test_org_key_short_input(wrapped: bytes) -> None:
    with pytest.raises(VaultError, match="'HUS'"):
        MasterKey.generate().unwrap_org_key("HUS", wrapped)


def test_org_key_repr_hides_key() -> None:
    raw = new_data_key()
    org = OrgKey("HUS", raw)
    assert "HUS" in repr(org)
    assert_no_key_material(repr(org) + str(org), raw)


# --- Record keys ------------------------------------------------------------


def test_record_key_wrap_round_trip() -> None:
    org = OrgKey("HUS", new_data_key())
    record_key = new_data_key()
    wrapped = org.wrap_record_key("HUS/1699999999.42", record_key)
    opened = org.unwrap_record_key("HUS/1699999999.42", wrapped)
    assert isinstance(opened, RecordKey)
    assert opened.ref == "HUS/1699999999.42"
    assert opened._key == record_key
    assert opened.blob_key == RecordKey("HUS/1699999999.42", record_key).blob_key


def test_record_key_wrong_org_key() -> None:
    org = OrgKey("HUS", new_data_key())
    other = OrgKey("HUS", new_data_key())
    record_key = new_data_key()
    wrapped = org.wrap_record_key("HUS/1", record_key)
    with pytest.raises(VaultError) as err:
        other.unwrap_record_key("HUS/1", wrapped)
    assert str(err.value) == (
        "record HUS/1: its key does not open "
        "(wrong organisation key, or the key was altered or destroyed)"
    )
    assert_no_key_material(str(err.value), record_key, org._key, other._key)


def test_record_key_bound_to_record_ref_and_org() -> None:
    raw = new_data_key()
    org = OrgKey("HUS", raw)
    wrapped = org.wrap_record_key("HUS/1", new_data_key())
    with pytest.raises(VaultError, match="record HUS/2:"):
        org.unwrap_record_key("HUS/2", wrapped)
    with pytest.raises(VaultError, match="record HUS/1:"):
        OrgKey("TAYS", raw).unwrap_record_key("HUS/1", wrapped)


def test_record_key_altered() -> None:
    org = OrgKey("HUS", new_data_key())
    wrapped = bytearray(org.wrap_record_key("HUS/1", new_data_key()))
    wrapped[20] ^= 0x80
    with pytest.raises(VaultError, match="record HUS/1:"):
        org.unwrap_record_key("HUS/1", bytes(wrapped))


def test_record_key_subkeys_distinct_and_repr_hidden() -> None:
    raw = new_data_key()
    key = RecordKey("HUS/1", raw)
    assert len({raw, key.blob_key, key.field_key}) == 3
    text = repr(key) + str(key)
    assert "HUS/1" in text
    assert_no_key_material(text, raw, key.blob_key, key.field_key)


def test_nul_in_ids_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        OrgKey("HU\x00S", new_data_key())
    with pytest.raises(ValueError, match="NUL"):
        RecordKey("HUS/1\x00x", new_data_key())


# --- Encrypted fields -------------------------------------------------------


def test_field_round_trip() -> None:
    key = RecordKey("HUS/123", new_data_key())
    blob = encrypt_field(key, "transcript", b'[{"text": "hei"}]')
    assert b"hei" not in blob
    assert blob[0] == 1
    assert decrypt_field(key, "transcript", blob) == b'[{"text": "hei"}]'
    assert decrypt_field(key, "phone", encrypt_field(key, "phone", b"")) == b""


def test_field_wrong_key_message() -> None:
    key = RecordKey("HUS/123", new_data_key())
    other = RecordKey("HUS/123", new_data_key())
    blob = encrypt_field(key, "transcript", b"secret")
    with pytest.raises(VaultError) as err:
        decrypt_field(other, "transcript", blob)
    assert str(err.value) == (
        "record HUS/123: the transcript does not decrypt (altered, or under another key)"
    )
    assert_no_key_material(str(err.value), key._key, key.field_key, other._key)


def test_field_bound_to_record_and_field_name() -> None:
    raw = new_data_key()
    key = RecordKey("HUS/123", raw)
    blob = encrypt_field(key, "phone", b"+358401234567")
    with pytest.raises(VaultError, match="the transcript"):
        decrypt_field(key, "transcript", blob)
    with pytest.raises(VaultError, match="record HUS/124:"):
        decrypt_field(RecordKey("HUS/124", raw), "phone", blob)


def test_field_altered() -> None:
    key = RecordKey("HUS/123", new_data_key())
    blob = bytearray(encrypt_field(key, "phone", b"+358401234567"))
    for position in (0, 5, 15, len(blob) - 1):
        altered = bytearray(blob)
        altered[position] ^= 0x04
        with pytest.raises(VaultError, match="record HUS/123: the phone"):
            decrypt_field(key, "phone", bytes(altered))


# --- Blind index ------------------------------------------------------------


def test_blind_index_same_for_same_number() -> None:
    search = MasterKey.from_bytes(RAW).search_key()
    a = blind_index(search, "+358401234567")
    assert a == blind_index(MasterKey.from_bytes(RAW).search_key(), "+358401234567")
    assert len(a) == 16


def test_blind_index_differs_by_key_and_number() -> None:
    a = blind_index(MasterKey.generate().search_key(), "+358401234567")
    b = blind_index(MasterKey.generate().search_key(), "+358401234567")
    c = blind_index(bytes(32), "+358401234567")
    d = blind_index(bytes(32), "+358401234568")
    assert len({a, b, c, d}) == 4
