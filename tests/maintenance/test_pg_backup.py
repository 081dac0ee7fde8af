"""Backup and restore of a PostgreSQL register against the real server, a new database
for each side: pg_dump of an exported snapshot, checked and read back; pg_restore into
an empty database only, with this database's application role's grants; then the
restored register verifies and scans clean. The password goes through the register's
password file, never a command line or the manifest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import asyncpg
import pytest

from kaiku_tui.config import Config, load
from kaiku_tui.domain.access import Person, Role
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.errors import AccessDenied, StoreError, UsageError
from kaiku_tui.maintenance import pg_tools
from kaiku_tui.maintenance.backup import BackupReport
from kaiku_tui.register.audit_log import VerifyReport
from kaiku_tui.register.upkeep.facet import ScanReport
from kaiku_tui.register.upkeep.restore import restore
from tests.conftest import copy_key_store
from tests.contract import pg
from tests.maintenance.conftest import ADMIN, SUPERVISOR, opened
from tests.maintenance.test_postgres import pg_register, with_password_file
from tests.register.test_concurrency import configure

MAINTAIN = "register.maintain"
GRANTS = """
    SELECT table_name::text, privilege_type::text FROM information_schema.role_table_grants
    WHERE grantee = current_database() || '_app'
    UNION ALL
    SELECT routine_name::text, privilege_type::text FROM information_schema.role_routine_grants
    WHERE grantee IN (current_database() || '_app', 'PUBLIC') AND routine_name LIKE 'kaiku%'
    ORDER BY 1, 2
"""


def _password() -> str:
    """The test role's password, from the PGPASSFILE line the tests run with; a private
    cluster of the tests' own trusts its socket, and any password will do."""
    if "PGPASSFILE" not in os.environ:
        return "trusted-socket"
    line = Path(os.environ["PGPASSFILE"]).read_text(encoding="utf-8").splitlines()[0]
    return line.rsplit(":", 1)[1]


async def grants(dsn: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [(r[0], r[1]) for r in await conn.fetch(GRANTS)]
    finally:
        await conn.close()


async def test_backup_then_restore_into_an_empty_database(
    pg_server: pg.PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup = tmp_path / "backup"
    password = _password()
    async with pg_server.database() as source_dsn, pg_server.database() as target_dsn:
        source_file = await pg_register(tmp_path / "source", source_dsn)
        with_password_file(source_file, tmp_path, password)
        source = load(source_file)
        target = _restore_config(tmp_path / "target", target_dsn, source, password)
        with monkeypatch.context() as only_the_password_file:
            only_the_password_file.delenv("PGPASSFILE", raising=False)
            await _add_supervisor(source)
            report, head = await _backup(source, backup)
            # A non-admin's restore: refused by the restored database, which stays with
            # the refusal in its log; the admin's restore continues from it.
            with pytest.raises(AccessDenied, match="keeps the refusal"):
                await restore(target, SUPERVISOR, backup, environ={})
            restored = await restore(target, ADMIN, backup, environ={})
            verified, scanned, tasks = await _check(target)
            again = _restore_config(tmp_path / "again", target_dsn, source, password)
            with pytest.raises(UsageError, match="is not empty"):
                await restore(again, ADMIN, backup, environ={})
            as_sqlite = load(configure(tmp_path / "sqlite", ""))
            with pytest.raises(UsageError, match="a backup of a postgresql index"):
                await restore(as_sqlite, ADMIN, backup, environ={})
            found = pg_tools.check_dump(source, backup / "index.pgdump")
            broken = tmp_path / "broken.pgdump"
            data = (backup / "index.pgdump").read_bytes()
            broken.write_bytes(data[: len(data) // 2])
            with pytest.raises(StoreError, match="failed"):
                pg_tools.check_dump(source, broken)
        assert await grants(target_dsn) == await grants(source_dsn) != []
    manifest_text = (backup / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(manifest_text)
    assert manifest["index_kind"] == "postgresql" and "index.pgdump" in manifest
    assert report.blobs == 2 == len(manifest["blobs"]) and password not in manifest_text
    assert manifest["audit_rows"] == report.head_seq == found.rows < head
    assert found.head is not None and found.head[1].hex() == manifest["audit_head_hash"]
    assert (backup / "audit-checkpoints.jsonl").exists()
    assert restored.blobs == 2 and restored.head_seq == report.head_seq
    assert verified.problem is None and verified.head_seq > report.head_seq
    assert scanned.findings == () and scanned.blobs == 2
    # The backup's first event is in the snapshot, the ones after it are not; the
    # restore is recorded in the restored register.
    assert [t for t in tasks if t[0] in ("backup", "restore")] == [
        ("backup", "ok"),
        ("restore", "denied"),
        ("restore", "ok"),
    ]


async def _add_supervisor(config: Config) -> None:
    register = await opened(config)
    try:
        await register.persons.add(Person(SUPERVISOR.login, "Sari", frozenset({Role.SUPERVISOR})))
    finally:
        await register.close()


async def _backup(config: Config, to: Path) -> tuple[BackupReport, int]:
    register = await opened(config)
    try:
        report = await register.upkeep.backup(to, link=False)
        return report, (await register.audit.verify()).head_seq
    finally:
        await register.close()


async def _check(config: Config) -> tuple[VerifyReport, ScanReport, list[tuple[object, str]]]:
    register = await opened(config)
    try:
        verified = await register.audit.verify()
        scanned = await register.upkeep.scan(
            org=None, sample=None, full=True, progress=lambda d, t: None
        )
        events = await register.audit.events(AuditQuery(action=MAINTAIN, limit=100))
    finally:
        await register.close()
    tasks = [(e.criteria.get("task"), e.outcome) for _, e in events if e.criteria]
    return verified, scanned, tasks


def _restore_config(folder: Path, dsn: str, source: Config, password: str) -> Config:
    config_file = configure(folder, dsn)
    config_file.write_text(
        config_file.read_text(encoding="utf-8") + '\n[audio]\nsink = "none"\n', encoding="utf-8"
    )
    with_password_file(config_file, folder, password)
    target = load(config_file)
    copy_key_store(source, target)
    return target
