"""The key store: one 0600 file per purpose in a 0700 directory of the login's own;
independent secrets for a new register; an old master key split into what it derived."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kaiku_tui.config import from_mapping, register_name
from kaiku_tui.errors import ConfigError
from kaiku_tui.vault.keys import ENV_VAR, MasterKey
from kaiku_tui.vault.keystore import DATA_FILE, FILES, SEARCH_FILE, KeyStore


def public(store: KeyStore) -> bytes:
    return store.checkpoint_signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_a_new_store_holds_four_independent_secrets(tmp_path: Path) -> None:
    store = KeyStore.create(tmp_path / "keys")
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == sorted(FILES)
    for name in FILES:
        assert (tmp_path / "keys" / name).stat().st_mode & 0o777 == 0o600
    data = store.data
    derived = (data.audit_mac_key(), data.search_key(), public(KeyStore.derived(data, tmp_path)))
    assert store.audit_mac_key not in derived and store.search_key not in derived
    assert public(store) not in derived, "nothing is derived from the data key"
    assert len({store.audit_mac_key, store.search_key, public(store)}) == 3
    again = KeyStore.open(tmp_path / "keys")
    assert again.same_keys(store) and again.key_id == store.key_id
    assert not any(p.name.endswith(".tmp") for p in (tmp_path / "keys").iterdir())


def test_a_store_is_never_overwritten(tmp_path: Path) -> None:
    first = KeyStore.create(tmp_path / "keys")
    with pytest.raises(ConfigError, match="already holds keys"):
        KeyStore.create(tmp_path / "keys")
    with pytest.raises(ConfigError, match="already holds keys"):
        KeyStore.split(MasterKey.generate(), tmp_path / "keys")
    assert KeyStore.open(tmp_path / "keys").same_keys(first)


def test_split_writes_what_the_master_key_derived(tmp_path: Path) -> None:
    master = MasterKey.generate()
    rotated = master.rotated()  # a key file after a rotation carries the first key's parts
    for key, folder in ((master, "a"), (rotated, "b")):
        store = KeyStore.split(key, tmp_path / folder)
        assert store.key_id == key.key_id
        assert store.audit_mac_key == master.audit_mac_key()
        assert store.search_key == master.search_key()
        assert public(store) == public(KeyStore.derived(master, tmp_path))
        wrapped = key.wrap_org_key("ORG", bytes(32))
        assert store.data.unwrap_org_key("ORG", wrapped) == bytes(32)
    data_text = (tmp_path / "b" / DATA_FILE).read_text()
    assert len(data_text.strip().splitlines()) == 1, "the data key file holds the data key only"


@pytest.mark.parametrize("where", ["directory", "file"])
def test_modes_others_can_reach_are_refused(tmp_path: Path, where: str) -> None:
    KeyStore.create(tmp_path / "keys")
    path = tmp_path / "keys" if where == "directory" else tmp_path / "keys" / SEARCH_FILE
    path.chmod(0o755 if where == "directory" else 0o644)
    with pytest.raises(
        ConfigError, match=f"readable by others.*chmod {'700' if where == 'directory' else '600'}"
    ):
        KeyStore.open(tmp_path / "keys")


def test_a_symlinked_store_is_refused(tmp_path: Path) -> None:
    KeyStore.create(tmp_path / "keys")
    (tmp_path / "link").symlink_to(tmp_path / "keys")
    with pytest.raises(ConfigError, match="not a directory"):
        KeyStore.open(tmp_path / "link")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another login")
def test_a_file_of_another_login_is_refused(tmp_path: Path) -> None:
    KeyStore.create(tmp_path / "keys")
    os.chown(tmp_path / "keys" / SEARCH_FILE, 65534, 65534)
    with pytest.raises(ConfigError, match="owned by uid 65534"):
        KeyStore.open(tmp_path / "keys")


def test_a_swapped_file_is_refused(tmp_path: Path) -> None:
    KeyStore.create(tmp_path / "keys")
    audit = (tmp_path / "keys" / "audit-mac.key").read_bytes()
    (tmp_path / "keys" / SEARCH_FILE).write_bytes(audit)
    with pytest.raises(ConfigError, match="blind-index key"):
        KeyStore.open(tmp_path / "keys")


def test_the_variable_supplies_only_the_data_key(tmp_path: Path) -> None:
    store = KeyStore.create(tmp_path / "keys")
    other = MasterKey.generate()
    raw = base64.b64encode(bytes(range(32))).decode()
    opened = KeyStore.open(tmp_path / "keys", {ENV_VAR: raw})
    assert opened.key_id == MasterKey.from_bytes(bytes(range(32))).key_id != store.key_id
    assert opened.audit_mac_key == store.audit_mac_key and opened.search_key == store.search_key
    assert public(opened) == public(store) and other.key_id != opened.key_id
    (tmp_path / "keys" / "audit-mac.key").unlink()
    with pytest.raises(ConfigError, match="audit-mac.key does not exist"):
        KeyStore.open(tmp_path / "keys", {ENV_VAR: raw})


def test_the_default_key_store_is_outside_data_dir(tmp_path: Path) -> None:
    config = from_mapping({"register": {"data_dir": str(tmp_path / "reg")}}, None)
    assert not config.key_store.is_relative_to(config.data_dir)
    assert config.key_store.name == register_name(tmp_path / "reg")
    assert config.key_store.parent == Path(os.environ["XDG_CONFIG_HOME"]) / "kaiku-tui" / "keys"
    assert len(register_name(tmp_path)) == 16 and register_name(tmp_path) != register_name(
        tmp_path / "reg"
    )
    with pytest.raises(ConfigError, match="key_store .* is inside data_dir"):
        from_mapping(
            {"register": {"data_dir": str(tmp_path), "key_store": str(tmp_path / "keys")}}, None
        )
