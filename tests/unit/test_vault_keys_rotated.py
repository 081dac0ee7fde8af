"""A rotated master key: a new wrapping key, the audit, search and checkpoint keys carried;
its file round-trips; the old wrapping key cannot be derived from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaiku_tui.errors import ConfigError, VaultError
from kaiku_tui.vault.keys import MasterKey, new_data_key


def test_rotated_key_carries_the_integrity_keys_not_the_wrap(tmp_path: Path) -> None:
    first = MasterKey.generate()
    org_key = new_data_key()
    wrapped = first.wrap_org_key("ITU", org_key)
    second = first.rotated()
    assert second.key_id != first.key_id
    assert second.audit_mac_key() == first.audit_mac_key()
    assert second.search_key() == first.search_key()
    assert second.checkpoint_signing_key().public_key() == (
        first.checkpoint_signing_key().public_key()
    )
    with pytest.raises(VaultError):
        second.unwrap_org_key("ITU", wrapped)
    path = tmp_path / "k"
    second.write_new_file(path)
    text = path.read_bytes()
    assert first._raw not in text and b"kaiku-tui master key v2" in text
    again = MasterKey.from_env_or_file(path, {})
    assert again.key_id == second.key_id and again.audit_mac_key() == first.audit_mac_key()
    third = again.rotated()
    assert third.audit_mac_key() == first.audit_mac_key() and third.key_id != second.key_id


def test_incomplete_rotated_file_is_refused(tmp_path: Path) -> None:
    key = MasterKey.generate().rotated()
    path = tmp_path / "k"
    key.write_new_file(path)
    lines = path.read_text().splitlines()
    broken = tmp_path / "broken"
    broken.write_text("\n".join(lines[:-1]) + "\n")
    broken.chmod(0o600)
    with pytest.raises(ConfigError, match="not a complete rotated master key"):
        MasterKey.from_env_or_file(broken, {})
    assert "MasterKey(key_id=" in repr(key) and key._raw.hex() not in repr(key)
