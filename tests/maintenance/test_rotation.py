"""Key rotation: organisation keys re-wrapped, nothing else changes; a crash at each
step leaves a register that opens (the old state or the new); old backups need the
retired key."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kaiku_tui.config import Config
from kaiku_tui.domain.access import Purpose
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.phone import normalise
from kaiku_tui.errors import ConfigError, UsageError
from kaiku_tui.register.upkeep import rotation
from kaiku_tui.register.upkeep.restore import restore
from kaiku_tui.vault.keys import MasterKey
from kaiku_tui.vault.keystore import KeyStore
from tests.conftest import data_key_file
from tests.maintenance.conftest import ADMIN, SUPERVISOR, blob_of, maintain_events, opened
from tests.maintenance.test_backup import backup, empty_target


async def rotate(config: Config, *, destroy_old: bool = False) -> None:
    register = await opened(config)
    try:
        await register.upkeep.rotate_keys({}, destroy_old=destroy_old)
    finally:
        await register.close()


async def assert_usable(config: Config, key_id: str) -> None:
    """Opens with the key the index names; chain verifies; content and phone search work."""
    register = await opened(config)  # finishes a rotation that committed
    assert MasterKey.from_env_or_file(data_key_file(config), {}).key_id == key_id
    try:
        assert (await register.audit.verify()).problem is None
        scanned = await register.upkeep.scan(
            org=None, sample=None, full=True, progress=lambda d, t: None
        )
        assert scanned.findings == ()
    finally:
        await register.close()
    supervisor = await opened(config, SUPERVISOR)
    try:
        recording = await supervisor.recordings.open_recording(1, Purpose.QUALITY)
        assert recording.transcript[0].text == "viesti 0"
        found = await supervisor.recordings.search(RecordingFilter(phone=normalise("040 123 4567")))
        assert len(found.rows) == 6, "the blind index survives: the search key is carried"
    finally:
        await supervisor.close()


async def test_rotation_rewraps_and_retires(config: Config) -> None:
    old = MasterKey.from_env_or_file(data_key_file(config), {})
    old_store = KeyStore.open(config.key_store)  # the audit MAC key: a file of its own
    blob = blob_of(config, 1).read_bytes()
    await rotate(config)
    new = MasterKey.from_env_or_file(data_key_file(config), {})
    assert new.key_id != old.key_id
    assert KeyStore.open(config.key_store).audit_mac_key == old_store.audit_mac_key
    retired = rotation.retired_file(data_key_file(config), old.key_id)
    assert MasterKey.from_env_or_file(retired, {}).key_id == old.key_id
    assert oct(retired.stat().st_mode & 0o777) == "0o600"
    assert not rotation.pending_file(data_key_file(config)).exists()
    assert blob_of(config, 1).read_bytes() == blob, "a blob is never re-encrypted"
    await assert_usable(config, new.key_id)
    [rotated] = maintain_events(config, "keys.rotate")  # committed with the re-wrapping
    assert rotated["criteria"] == {"task": "keys.rotate", "from": old.key_id, "to": new.key_id}
    assert rotated["result_count"] == 2
    [retire] = maintain_events(config, "keys.retire")
    assert retire["target"] == str(retired)
    await rotate(config, destroy_old=True)  # a second rotation from a rotated key
    newer = MasterKey.from_env_or_file(data_key_file(config), {})
    assert not rotation.retired_file(data_key_file(config), new.key_id).exists()
    await assert_usable(config, newer.key_id)


async def test_the_old_key_no_longer_opens_the_index(config: Config) -> None:
    old = MasterKey.from_env_or_file(data_key_file(config), {})
    await rotate(config)
    shutil.copy2(rotation.retired_file(data_key_file(config), old.key_id), data_key_file(config))
    with pytest.raises(ConfigError, match="is not the key of the register"):
        await opened(config)


async def test_crash_before_the_commit_leaves_the_old_state(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = MasterKey.from_env_or_file(data_key_file(config), {})

    async def crash(*args: object) -> None:
        raise OSError("power cut")

    register = await opened(config)
    monkeypatch.setattr(type(register._index), "rewrap_org_keys", crash)
    try:
        with pytest.raises(OSError):
            await register.upkeep.rotate_keys({})
    finally:
        await register.close()
    monkeypatch.undo()
    assert rotation.pending_file(data_key_file(config)).exists()  # the stray new key
    await assert_usable(config, old.key_id)
    await rotate(config)  # the stray is replaced, the rotation goes through
    assert MasterKey.from_env_or_file(data_key_file(config), {}).key_id != old.key_id


async def test_crash_after_the_commit_is_finished_on_open(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(rotation, "finish", crash)
    register = await opened(config)
    try:
        with pytest.raises(OSError):
            await register.upkeep.rotate_keys({})
    finally:
        await register.close()
    monkeypatch.undo()
    pending = MasterKey.from_env_or_file(rotation.pending_file(data_key_file(config)), {})
    await assert_usable(config, pending.key_id)  # opening took the .new and swapped the files
    assert not rotation.pending_file(data_key_file(config)).exists()


KILLER = """
import asyncio, os, signal, sys
from kaiku_tui.config import load
from kaiku_tui.domain.access import Identity
from kaiku_tui.register.upkeep import rotation
from kaiku_tui.register import Register

step = sys.argv[2]
real_start, real_finish = rotation.start, rotation.finish

def start(*a):
    key = real_start(*a)
    if step == "after-new-file":
        os.kill(os.getpid(), signal.SIGKILL)
    return key

def finish(key_file, old_id):
    if step == "after-commit":
        os.kill(os.getpid(), signal.SIGKILL)
    os.link(key_file, rotation.retired_file(key_file, old_id))
    if step == "after-link":
        os.kill(os.getpid(), signal.SIGKILL)
    return real_finish(key_file, old_id)

rotation.start, rotation.finish = start, finish

async def main():
    from pathlib import Path
    register = await Register.open(load(Path(sys.argv[1])), Identity("admin.aalto"), {})
    await register.upkeep.rotate_keys({})

asyncio.run(main())
"""


@pytest.mark.parametrize("step", ["after-new-file", "after-commit", "after-link"])
async def test_killed_midway_leaves_a_usable_register(
    config_file: Path, config: Config, step: str
) -> None:
    old = MasterKey.from_env_or_file(data_key_file(config), {})
    env = {k: v for k, v in os.environ.items() if k != "KAIKU_MASTER_KEY"}
    done = subprocess.run(
        [sys.executable, "-c", KILLER, str(config_file), step], env=env, capture_output=True
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    committed = step != "after-new-file"
    expected = (
        MasterKey.from_env_or_file(rotation.pending_file(data_key_file(config)), {}).key_id
        if committed
        else old.key_id
    )
    await assert_usable(config, expected)


async def test_old_backups_need_the_retired_key(config: Config, tmp_path: Path) -> None:
    old = MasterKey.from_env_or_file(data_key_file(config), {})
    to = tmp_path / "backup"
    await backup(config, to)
    await rotate(config)
    target = empty_target(tmp_path, config)  # the current (new) key
    with pytest.raises(ConfigError, match="not the key of this backup"):
        await restore(target, ADMIN, to, environ={})
    data_key_file(target).unlink()
    shutil.copy2(rotation.retired_file(data_key_file(config), old.key_id), data_key_file(target))
    await restore(target, ADMIN, to, environ={})
    await assert_usable(target, old.key_id)


async def test_rotation_refuses_a_key_from_the_environment(config: Config) -> None:
    register = await opened(config)
    try:
        with pytest.raises(UsageError, match="key file"):
            await register.upkeep.rotate_keys({"KAIKU_MASTER_KEY": "x"})
    finally:
        await register.close()
