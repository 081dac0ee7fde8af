"""The maintenance commands on a PostgreSQL register: the doctor's privilege check,
ANALYZE/VACUUM, backup's refusal of a schema, key rotation in one transaction."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from kaiku_tui.config import load
from kaiku_tui.domain.access import Identity, Person, Role
from kaiku_tui.domain.org import Organisation
from kaiku_tui.errors import StoreError
from kaiku_tui.index.postgres_schema import MIGRATIONS
from kaiku_tui.maintenance.checks import Status
from kaiku_tui.register import Register
from kaiku_tui.register.upkeep.diagnose import diagnose
from kaiku_tui.vault.keys import MasterKey
from tests.conftest import copy_key_store, data_key_file
from tests.contract import pg
from tests.maintenance.conftest import ADMIN, opened, recording
from tests.register.test_concurrency import configure


async def pg_register(tmp_path: Path, dsn: str) -> Path:
    config_file = configure(tmp_path, dsn)
    config_file.write_text(config_file.read_text() + '\n[audio]\nsink = "none"\n')
    admin = await Register.initialise(load(config_file), ADMIN, "Admin")
    try:
        await admin.orgs.add(Organisation("ITU", "Itä", None, None))
        await admin.intake.add_recordings([recording(n) for n in range(2)], source="test")
    finally:
        await admin.close()
    return config_file


async def test_doctor_checks_the_audit_privileges(pg_server: pg.PgServer, tmp_path: Path) -> None:
    async with pg_server.schema() as dsn:
        config_file = await pg_register(tmp_path, dsn)
        checks = {c.name: c for c in await diagnose(config_file, ADMIN, environ={})}
        assert [c for c in checks.values() if c.status is not Status.OK] == []
        assert "only INSERT and SELECT" in checks["audit privileges"].detail
        app = await pg_server.app_role()
        db = await asyncpg.connect(dsn)
        try:
            await db.execute(f"GRANT UPDATE ON audit_event TO {app}")
            try:
                checks = {c.name: c for c in await diagnose(config_file, ADMIN, environ={})}
            finally:
                await db.execute(f"REVOKE UPDATE ON audit_event FROM {app}")
        finally:
            await db.close()
    bad = checks["audit privileges"]
    assert bad.status is Status.FAIL and "UPDATE" in bad.detail and "REVOKE" in bad.fix


async def test_upkeep_backup_and_rotation(pg_server: pg.PgServer, tmp_path: Path) -> None:
    async with pg_server.schema() as dsn:
        config = load(await pg_register(tmp_path, dsn))
        register = await opened(config)
        try:
            steps = await register.upkeep.tidy(vacuum=True)
            assert [s.what for s in steps] == ["VACUUM (ANALYZE)"]
            # A register in a schema of its own (as each test here) is the DBA's to dump;
            # tests/maintenance/test_pg_backup.py backs whole databases up.
            with pytest.raises(StoreError, match="search_path"):
                await register.upkeep.backup(tmp_path / "b", link=False)
            report = await register.upkeep.rotate_keys({})
        finally:
            await register.close()
        assert MasterKey.from_env_or_file(data_key_file(config), {}).key_id == report.new_key_id
        register = await opened(config)
        try:
            assert (await register.audit.verify()).problem is None
            scanned = await register.upkeep.scan(
                org=None, sample=None, full=True, progress=lambda d, t: None
            )
            assert scanned.findings == () and scanned.blobs == 2
        finally:
            await register.close()


async def test_doctor_names_a_migration_only_the_owner_may_run(
    pg_server: pg.PgServer, tmp_path: Path
) -> None:
    """An application login on a register one migration behind: the register does not
    open, and the fix says who may migrate it."""
    async with pg_server.schema() as dsn, pg_server.login(await pg_server.app_role()) as login:
        owner_file = await pg_register(tmp_path / "owner", dsn)
        admin = await opened(load(owner_file))
        try:
            await admin.persons.add(Person(login.name, "App", frozenset({Role.ADMIN})))
        finally:
            await admin.close()
        owner = await asyncpg.connect(dsn)
        try:
            await owner.execute("DELETE FROM schema_version WHERE version = $1", LAST)
        finally:
            await owner.close()
        as_login = _login_config(tmp_path, login.dsn(dsn), login.password)
        checks = await diagnose(as_login, Identity(login.name), environ={})
    opens = {c.name: c for c in checks}.get("register opens")
    assert opens is not None, checks
    assert opens.status is Status.FAIL and f"needs migration {LAST} of {LAST}" in opens.detail
    assert "names the tables' owner" in opens.fix


LAST = len(MIGRATIONS)  # the newest migration, which the test takes back


def with_password_file(config_file: Path, folder: Path, password: str) -> None:
    """`[index] password_file` in the configuration, a 0600 file holding `password`."""
    secret = folder / "pg-password"
    secret.write_text(password + "\n", encoding="utf-8")
    secret.chmod(0o600)
    text = config_file.read_text(encoding="utf-8")
    text = text.replace("[index]\n", f'[index]\npassword_file = "{secret}"\n')
    config_file.write_text(text, encoding="utf-8")


def _login_config(tmp_path: Path, dsn: str, password: str) -> Path:
    config_file = configure(tmp_path / "login", dsn)
    with_password_file(config_file, tmp_path / "login", password)
    with config_file.open("a", encoding="utf-8") as out:
        out.write('\n[audio]\nsink = "none"\n')
    copy_key_store(load(tmp_path / "owner" / "config.toml"), load(config_file))
    return config_file
