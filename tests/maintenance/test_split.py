"""`keys split`: an old register (one master key file) is refused until its key is split
into a key store; the split is an admin's, audited, written before the old file goes."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from kaiku_tui.config import load
from kaiku_tui.domain.access import Identity
from kaiku_tui.errors import AccessDenied, ConfigError, UsageError
from kaiku_tui.register import Register
from kaiku_tui.vault.keys import MasterKey
from kaiku_tui.vault.keystore import KeyStore
from tests.e2e.conftest import run_cli

VECTOR = Path(__file__).resolve().parents[1] / "vectors" / "data" / "register"
ADMIN = Identity("vector.admin")
SUPERVISOR = Identity("vector.super")


@pytest.fixture
def old_register(tmp_path: Path) -> Path:
    """A copy of the committed register made before the key store."""
    folder = tmp_path / "register"
    shutil.copytree(VECTOR, folder)
    os.chmod(folder / "master.key", 0o600)
    return folder / "config.toml"


def split_events(config_file: Path) -> list[dict[str, object]]:
    db = sqlite3.connect(load(config_file).sqlite_path)
    try:
        bodies = [json.loads(b) for (b,) in db.execute("SELECT body FROM audit_event")]
    finally:
        db.close()
    return [b for b in bodies if (b.get("criteria") or {}).get("task") == "keys.split"]


def test_an_old_register_is_refused_in_one_line_naming_the_command(old_register: Path) -> None:
    result = run_cli(old_register, "query")
    assert result.code == 2 and result.out == ""
    assert len(result.err.strip().splitlines()) == 1
    assert "kaiku-tui keys split" in result.err and "master.key" in result.err


async def test_split_keeps_everything_valid_and_removes_the_old_file(old_register: Path) -> None:
    config = load(old_register)
    old = MasterKey.from_env_or_file(config.master_key_file, {})
    report = await Register.split_keys(config, ADMIN, environ={})
    assert report.key_id == old.key_id and report.key_store == config.key_store
    assert not config.master_key_file.exists(), "the old all-in-one key is gone"
    assert KeyStore.open(config.key_store).same_keys(KeyStore.derived(old, config.key_store))
    [event] = split_events(old_register)
    assert event["outcome"] == "ok" and event["actor"] == ADMIN.login
    assert event["criteria"]["key_id"] == old.key_id  # type: ignore[index]
    admin = await Register.open(config, ADMIN, environ={})
    try:
        assert (await admin.audit.verify()).problem is None  # old MACs and checkpoints hold
    finally:
        await admin.close()
    with pytest.raises(UsageError, match="split already"):
        await Register.split_keys(config, ADMIN, environ={})


async def test_a_split_by_a_non_admin_is_refused_audited_and_writes_nothing(
    old_register: Path,
) -> None:
    config = load(old_register)
    with pytest.raises(AccessDenied):
        await Register.split_keys(config, SUPERVISOR, environ={})
    assert not KeyStore.present(config.key_store) and config.master_key_file.exists()
    [event] = split_events(old_register)
    assert event["outcome"] == "denied" and event["actor"] == SUPERVISOR.login
    unknown = run_cli(old_register, "keys", "split")  # this login is no person of it
    assert unknown.code == 4 and not KeyStore.present(config.key_store)


async def test_a_wrong_master_key_is_refused_before_anything_is_written(
    old_register: Path,
) -> None:
    config = load(old_register)
    config.master_key_file.unlink()
    MasterKey.create_file(config.master_key_file)
    with pytest.raises(ConfigError, match="is not the key of the register"):
        await Register.split_keys(config, ADMIN, environ={})
    assert not KeyStore.present(config.key_store)


async def test_a_store_that_does_not_read_back_is_removed(
    old_register: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written, but read back as other keys: removed, and the old file stays the one key."""
    config = load(old_register)

    def other_store(directory: Path, environ: object = None) -> KeyStore:
        return KeyStore.derived(MasterKey.generate(), directory)

    monkeypatch.setattr(KeyStore, "open", staticmethod(other_store))
    with pytest.raises(ConfigError, match="does not read back"):
        await Register.split_keys(config, ADMIN, environ={})
    monkeypatch.undo()
    assert config.master_key_file.exists() and not KeyStore.present(config.key_store)
    assert config.key_store.is_dir()  # the empty directory: a later split writes into it
    await Register.split_keys(config, ADMIN, environ={})
    assert not config.master_key_file.exists() and KeyStore.present(config.key_store)
