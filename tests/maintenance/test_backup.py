"""backup -> restore into an empty directory -> verify + scan pass; what restore refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kaiku_tui.config import Config, load
from kaiku_tui.domain.access import Identity
from kaiku_tui.errors import AccessDenied, ConfigError, StoreError, UsageError
from kaiku_tui.register.upkeep.restore import restore
from kaiku_tui.vault.keys import MasterKey
from tests.conftest import copy_key_store, data_key_file
from tests.maintenance.conftest import (
    ADMIN,
    SUPERVISOR,
    events,
    maintain_events,
    opened,
    write_config,
)


async def backup(config: Config, to: Path, *, link: bool = False) -> None:
    register = await opened(config)
    try:
        report = await register.upkeep.backup(to, link=link)
        assert report.missing == ()
        assert await register.upkeep.last_backup() is not None
    finally:
        await register.close()


def empty_target(tmp_path: Path, source: Config) -> Config:
    """A new data directory with only the master key, put there from where it is kept."""
    folder = tmp_path / "restored"
    folder.mkdir()
    target = load(write_config(folder))
    target.data_dir.mkdir(mode=0o700)
    copy_key_store(source, target)
    return target


@pytest.mark.parametrize("link", [False, True], ids=["copy", "link"])
async def test_round_trip(config: Config, tmp_path: Path, link: bool) -> None:
    to = tmp_path / "backup"
    await backup(config, to, link=link)
    manifest = json.loads((to / "manifest.json").read_text())
    assert len(manifest["blobs"]) == 5 and "index.sqlite3" in manifest
    assert not any("master" in p.name for p in to.rglob("*")), "the key never goes in a backup"
    assert not (to / "index.sqlite3-wal").exists()
    assert [e["outcome"] for e in maintain_events(config, "backup")] == ["ok", "ok"]

    target = empty_target(tmp_path, config)
    report = await restore(target, ADMIN, to, environ={})
    assert report.blobs == 5
    register = await opened(target)
    try:
        verified = await register.audit.verify()
        assert verified.problem is None and verified.checkpoints > 0
        scanned = await register.upkeep.scan(
            org=None, sample=None, full=True, progress=lambda d, t: None
        )
        assert scanned.findings == () and scanned.blobs == 5
    finally:
        await register.close()
    restored = maintain_events(target, "restore")
    assert restored and restored[0]["criteria"]["from"] == str(to)  # type: ignore[index]
    # the backup's own start event travelled with the snapshot
    assert any(e.get("criteria", {}).get("task") == "backup" for e in events(target))  # type: ignore[union-attr]


async def test_a_refused_restore_stays_audited_and_an_admin_continues_from_it(
    config: Config, tmp_path: Path
) -> None:
    """The person's role is asked of the restored index before any blob is placed; the
    refusal is audited there and the index stays (never the content: no blob). An admin's
    restore of the same backup continues from that index, the refusals in its log."""
    to = tmp_path / "backup"
    await backup(config, to)
    target = empty_target(tmp_path, config)
    with pytest.raises(AccessDenied, match="keeps the refusal in its audit log"):
        await restore(target, SUPERVISOR, to, environ={})
    with pytest.raises(AccessDenied, match="not an active named person"):
        await restore(target, Identity("vieras"), to, environ={})
    assert not target.blob_dir.exists() or not any(target.blob_dir.iterdir())
    refused = [(e["actor"], e["outcome"]) for e in maintain_events(target, "restore")]
    assert refused == [(SUPERVISOR.login, "denied")]
    assert [e["actor"] for e in events(target) if e["outcome"] == "denied"][-1] == "vieras"

    report = await restore(target, ADMIN, to, environ={})
    assert report.blobs == 5
    register = await opened(target)
    try:
        assert (await register.audit.verify()).problem is None
        scanned = await register.upkeep.scan(
            org=None, sample=None, full=True, progress=lambda d, t: None
        )
        assert scanned.findings == () and scanned.blobs == 5
    finally:
        await register.close()
    done = [(e["actor"], e["outcome"], e["criteria"].get("resumed"))  # type: ignore[union-attr]
            for e in maintain_events(target, "restore")]  # fmt: skip
    assert done == [(SUPERVISOR.login, "denied", None), (ADMIN.login, "ok", True)]
    with pytest.raises(UsageError, match="exists; restore only into an empty"):
        await restore(target, ADMIN, to, environ={})  # finished: never again over it


async def test_restore_checks_every_byte(config: Config, tmp_path: Path) -> None:
    to = tmp_path / "backup"
    await backup(config, to)
    blob = next((to / "blobs").iterdir())
    data = bytearray(blob.read_bytes())
    data[10] ^= 1
    blob.write_bytes(bytes(data))
    target = empty_target(tmp_path, config)
    with pytest.raises(StoreError, match="does not match its SHA-256"):
        await restore(target, ADMIN, to, environ={})
    assert not target.sqlite_path.exists()


async def test_restore_refuses_a_live_register(config: Config, tmp_path: Path) -> None:
    to = tmp_path / "backup"
    await backup(config, to)
    with pytest.raises(UsageError, match="empty data directory"):
        await restore(config, ADMIN, to, environ={})


async def test_restore_needs_the_backups_key(config: Config, tmp_path: Path) -> None:
    to = tmp_path / "backup"
    await backup(config, to)
    target = empty_target(tmp_path, config)
    data_key_file(target).unlink()
    MasterKey.create_file(data_key_file(target))
    with pytest.raises(ConfigError, match="not the key of this backup"):
        await restore(target, ADMIN, to, environ={})


async def test_backup_refuses_a_non_empty_target(config: Config, tmp_path: Path) -> None:
    to = tmp_path / "backup"
    to.mkdir()
    (to / "something").write_text("x")
    with pytest.raises(UsageError, match="not an empty directory"):
        await backup(config, to)


async def test_maintenance_says_what_it_did(config: Config) -> None:
    register = await opened(config)
    try:
        steps = await register.upkeep.tidy(vacuum=True)
        status = await register.upkeep.key_status()
    finally:
        await register.close()
    assert [s.what for s in steps] == ["ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM"]
    assert all(s.seconds >= 0 for s in steps)
    assert maintain_events(config, "maintenance")[0]["detail"].startswith("ANALYZE")  # type: ignore[union-attr]
    assert [(o.code, o.present) for o in status.orgs] == [("ITU", True), ("KESKI", True)]
    assert all(o.master_key_id == status.master_key_id for o in status.orgs)
    assert all(o.added is not None for o in status.orgs)
