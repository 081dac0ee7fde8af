"""Tampering with a PostgreSQL register's audit log: refused by the database, and where a
role that owns the table (or a superuser) disables the trigger, found by `audit verify`
at the first bad seq."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from kaiku_tui.config import load
from kaiku_tui.domain.access import Identity
from kaiku_tui.register import Register
from tests.contract import pg
from tests.register.test_concurrency import configure

ADMIN = Identity("admin.aalto")


async def verify(config_file: Path) -> str | None:
    register = await Register.open(load(config_file), ADMIN, environ={})
    try:
        report = await register.audit.verify()
    finally:
        await register.close()
    return None if report.problem is None else report.problem.message


@pytest.mark.parametrize(
    ("statement", "seq"),
    [
        ("UPDATE audit_event SET body = replace(body, 'org.list', 'org.lost') WHERE seq = 7", 7),
        ("DELETE FROM audit_event WHERE seq = 5", 5),
        ("TRUNCATE audit_event", 1),
    ],
    ids=["update", "delete", "truncate"],
)
async def test_tampering_past_the_trigger_is_found(
    pg_server: pg.PgServer, tmp_path: Path, statement: str, seq: int
) -> None:
    async with pg_server.schema() as dsn:
        config_file = configure(tmp_path, dsn)
        register = await Register.initialise(load(config_file), ADMIN, "Admin")
        try:
            for _ in range(10):
                await register.orgs.listing()
        finally:
            await register.close()
        db = await asyncpg.connect(dsn)
        try:
            with pytest.raises(asyncpg.PostgresError, match="append-only"):
                await db.execute(statement)
            # Every trigger of the table: from migration 7 a second one bounds any DELETE
            # by the recorded audit cut.
            await db.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
            await db.execute(statement)
        finally:
            await db.close()
        problem = await verify(config_file)
    assert problem is not None, "tampering not found"
    if statement.startswith("TRUNCATE"):
        # The next session starts a new chain at seq 1; the signed checkpoints of the
        # old one lie beyond it.
        assert "the tail was truncated" in problem, problem
    else:
        assert problem.startswith(f"seq {seq}: "), problem
