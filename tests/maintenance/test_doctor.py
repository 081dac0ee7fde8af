"""The doctor: healthy, then each kind of breakage reported as fail with its fix."""

from __future__ import annotations

import os
import pwd
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kaiku_tui.config import Config, load
from kaiku_tui.errors import AccessDenied
from kaiku_tui.maintenance.checks import (
    DOCTOR_FAILURES,
    DOCTOR_OK,
    DOCTOR_WARNINGS,
    Check,
    Status,
    exit_code,
    warn,
)
from kaiku_tui.register.upkeep.diagnose import diagnose
from kaiku_tui.vault.keys import MasterKey
from tests.conftest import data_key_file
from tests.maintenance.conftest import ADMIN, SUPERVISOR, maintain_events, opened


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


async def test_healthy_register_is_all_ok(config_file: Path, config: Config) -> None:
    # Through a door: a register with a second person is healthy there (next test).
    checks = await diagnose(config_file, replace(ADMIN, door="sudo"), environ={})
    assert [c for c in checks if c.status is not Status.OK] == []
    names = set(by_name(checks))
    assert {"configuration", "master key", "index migration", "register opens", "audit chain",
            "clock", "checkpoint file", "blob store", "index integrity", "audio",
            "session"} <= names  # fmt: skip
    assert exit_code(checks) == DOCTOR_OK
    assert maintain_events(config, "doctor"), "the doctor's run is audited"


async def test_the_mode_is_said_and_single_user_with_persons_warns(config_file: Path) -> None:
    through = by_name(await diagnose(config_file, replace(ADMIN, door="ssh"), environ={}))
    assert through["mode"].status is Status.OK and "the ssh door" in through["mode"].detail
    # Single-user mode (the fixture's register names the admin and a supervisor).
    local = by_name(await diagnose(config_file, replace(ADMIN, door="local"), environ={}))
    assert local["mode"].status is Status.WARN
    assert "single-user, with 2 active persons" in local["mode"].detail
    assert "the audit log is advisory: every person holds the key" in local["mode"].detail
    assert "kaiku-tui install" in local["mode"].fix


async def test_single_user_with_one_person_is_ok(config_file: Path, config: Config) -> None:
    admin = await opened(config, ADMIN)
    try:
        await admin.persons.disable(SUPERVISOR.login)
    finally:
        await admin.close()
    local = by_name(await diagnose(config_file, replace(ADMIN, door="local"), environ={}))
    assert local["mode"].status is Status.OK and "single-user" in local["mode"].detail


async def test_under_ssh_is_said(config_file: Path) -> None:
    checks = by_name(await diagnose(config_file, ADMIN, environ={"SSH_CLIENT": "10.1.2.3 5 22"}))
    assert "under SSH from 10.1.2.3" in checks["session"].detail


async def test_bad_key_mode_fails_with_chmod(config_file: Path, config: Config) -> None:
    os.chmod(data_key_file(config), 0o644)
    checks = by_name(await diagnose(config_file, ADMIN, environ={}))
    assert checks["master key"].status is Status.FAIL
    assert "chmod 600" in checks["master key"].fix
    assert "register opens" not in checks  # nothing opened with a key anyone may read


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another login")
async def test_key_owned_by_another_login_fails_with_chown(
    config_file: Path, config: Config
) -> None:
    nobody = pwd.getpwnam("nobody")
    os.chown(data_key_file(config), nobody.pw_uid, nobody.pw_gid)
    checks = by_name(await diagnose(config_file, ADMIN, environ={}))
    key = checks["master key"]
    assert key.status is Status.FAIL, key
    assert f"owned by uid {nobody.pw_uid}" in key.detail
    me = pwd.getpwuid(os.getuid()).pw_name
    assert f"owned by nobody: chown {me} {data_key_file(config)}" in key.fix
    assert "register opens" not in checks  # nothing opened with a key another login owns
    assert exit_code(list(checks.values())) == DOCTOR_FAILURES


async def test_wrong_key_fails_to_open(config_file: Path, config: Config, tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    MasterKey.create_file(other)
    other.replace(data_key_file(config))
    checks = await diagnose(config_file, ADMIN, environ={})
    opens = by_name(checks)["register opens"]
    assert opens.status is Status.FAIL and "is not the key of the register" in opens.detail
    assert "master key" in opens.fix
    assert exit_code(checks) == DOCTOR_FAILURES


async def test_tampered_chain_fails(config_file: Path, config: Config) -> None:
    db = sqlite3.connect(config.sqlite_path)
    db.execute("DROP TRIGGER audit_event_no_update")
    db.execute("UPDATE audit_event SET body = replace(body, '\"ok\"', '\"denied\"') WHERE seq = 3")
    db.commit()
    db.close()
    chain = by_name(await diagnose(config_file, ADMIN, environ={}))["audit chain"]
    assert chain.status is Status.FAIL and "incident" in chain.fix


async def test_a_checkpoint_file_that_cannot_be_appended_to_fails(
    config_file: Path, config: Config
) -> None:
    """Even for root (these tests' login), whom `os.access` would answer yes: the doctor
    opens it for appending, as the register does."""
    config.checkpoint_file.unlink()
    config.checkpoint_file.mkdir()  # what no login can append to
    check = by_name(await diagnose(config_file, ADMIN, environ={}))["checkpoint file"]
    assert check.status is Status.FAIL and "cannot be appended to" in check.detail
    assert "write access" in check.fix
    closing = by_name(await diagnose(config_file, ADMIN, environ={}))["register closes"]
    assert closing.status is Status.FAIL and "checkpoint" in closing.detail


async def test_missing_blob_dir_fails(config_file: Path, config: Config) -> None:
    config.blob_dir.rename(config.blob_dir.with_name("gone"))
    store = by_name(await diagnose(config_file, ADMIN, environ={}))["blob store"]
    assert store.status is Status.FAIL and "does not exist" in store.detail
    assert "[blobs] path" in store.fix


async def test_old_migration_fails_before_opening(config_file: Path, config: Config) -> None:
    db = sqlite3.connect(config.sqlite_path)
    db.execute("PRAGMA user_version = 1")
    db.close()
    checks = by_name(await diagnose(config_file, ADMIN, environ={}))
    assert checks["index migration"].status is Status.FAIL
    assert "migration 1" in checks["index migration"].detail
    assert "backup" in checks["index migration"].fix
    assert "register opens" not in checks  # opening would have migrated it


async def test_clock_behind_the_log_fails(config: Config) -> None:
    register = await opened(config)
    try:
        checks = by_name(await register.upkeep.health(lambda: datetime(2020, 1, 1, tzinfo=UTC)))
    finally:
        await register.close()
    assert checks["clock"].status is Status.FAIL and "behind" in checks["clock"].detail


async def test_bad_config_fails_first(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[register]\nno_such_key = 1\n", encoding="utf-8")
    checks = await diagnose(path, ADMIN, environ={})
    assert [c.name for c in checks] == ["configuration"] and checks[0].status is Status.FAIL


async def test_non_admin_is_refused_and_audited(config_file: Path, config: Config) -> None:
    with pytest.raises(AccessDenied):
        await diagnose(config_file, SUPERVISOR, environ={})
    denied = [e for e in maintain_events(config, "doctor") if e["outcome"] == "denied"]
    assert denied and denied[0]["actor"] == SUPERVISOR.login


def test_exit_codes() -> None:
    assert exit_code([warn("a", "b", "c")]) == DOCTOR_WARNINGS
    assert exit_code([]) == DOCTOR_OK


async def test_config_loads(config_file: Path) -> None:
    assert load(config_file).audio_sink == "none"


async def test_the_tui_gets_the_same_checks_from_an_open_register(
    config_file: Path, config: Config
) -> None:

    register = await opened(config, replace(ADMIN, door="sudo"))
    try:
        checks = await register.upkeep.doctor(environ={})
    finally:
        await register.close()
    fresh = await diagnose(config_file, replace(ADMIN, door="sudo"), environ={})
    assert [c.name for c in checks] == [c.name for c in fresh]
    assert {c.status for c in checks} == {Status.OK}
