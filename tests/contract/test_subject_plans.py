"""The log report's audit queries use the indexes (migration 6), on each backend's planner."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest

from kaiku_tui.index import subject_sql as ssql
from kaiku_tui.index.annotation_sql import numbered
from kaiku_tui.index.postgres import PostgresIndex
from kaiku_tui.index.postgres_subject import TARGET as PG_TARGET
from kaiku_tui.index.sqlite import SqliteIndex
from kaiku_tui.index.sqlite_subject import TARGET as SQLITE_TARGET
from tests.contract import pg
from tests.contract import test_postgres_roles as roles
from tests.contract.rows import MAC_KEY, event


async def test_sqlite_reads_a_persons_events_from_the_indexes(tmp_path: Path) -> None:
    index = await SqliteIndex.open(tmp_path / "index.sqlite3", MAC_KEY, create=True)
    try:
        for n in range(50):
            await index.append_audit(event("search", n, target=str(n), subject="ab"))
    finally:
        await index.close()
    at, _ = ssql.at_terms(1, 2)
    by_target = ssql.events_by_target("body", SQLITE_TARGET, "IN (?, ?)", at)
    by_subject = ssql.events_by_subject("body", at)
    with closing(sqlite3.connect(tmp_path / "index.sqlite3")) as db:
        target_plan = " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + by_target,
                                                         ("1", "2", "a", "b")))  # fmt: skip
        subject_plan = " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + by_subject,
                                                          ("ab", "a", "b")))  # fmt: skip
    assert "USING INDEX audit_by_target" in target_plan, target_plan
    assert "USING INDEX audit_by_subject" in subject_plan, subject_plan


@pytest.fixture
async def dsn(pg_server: pg.PgServer) -> AsyncIterator[str]:
    async with pg_server.schema() as fresh:
        yield fresh


async def test_postgres_reads_a_persons_events_from_the_indexes(dsn: str) -> None:
    index = await PostgresIndex.open(dsn, MAC_KEY, create=True)
    try:
        for n in range(50):
            await index.append_audit(event("search", n, target=str(n), subject="ab"))
    finally:
        await index.close()
    by_target = numbered(ssql.events_by_target("body", PG_TARGET, "= ANY(?::text[])", ""))
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("ANALYZE audit_event")
        await conn.execute("SET enable_seqscan = off")  # a small table: ask what it can use
        plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + by_target, ["1", "2"]))
    finally:
        await conn.close()
    assert "audit_by_target" in plan, plan


async def test_the_events_that_showed_a_recording_come_from_migration_9(
    tmp_path: Path, dsn: str
) -> None:
    """SQLite: the side table's key, then the event by seq; PostgreSQL: the GIN index."""
    sqlite = await SqliteIndex.open(tmp_path / "index.sqlite3", MAC_KEY, create=True)
    postgres = await PostgresIndex.open(dsn, MAC_KEY, create=True)
    try:
        for index in (sqlite, postgres):
            for n in range(50):
                await index.append_audit(event("search", n, revealed=(str(n), str(n + 1))))
    finally:
        await sqlite.close()
        await postgres.close()
    at, _ = ssql.at_terms(1, 2)
    with closing(sqlite3.connect(tmp_path / "index.sqlite3")) as db:
        query = "EXPLAIN QUERY PLAN " + ssql.revealing_sqlite("?, ?", at)
        sqlite_plan = " ".join(r[3] for r in db.execute(query, ("1", "2", "a", "b")))
    assert "SEARCH v USING PRIMARY KEY (name=?)" in sqlite_plan, sqlite_plan
    assert "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)" in sqlite_plan, sqlite_plan
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("ANALYZE audit_event")
        await conn.execute("SET enable_seqscan = off")
        query = numbered(ssql.REVEALING_POSTGRES).replace("ANY_OF", "?|")
        plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + query, ["1", "2"]))
    finally:
        await conn.close()
    assert "audit_by_revealed" in plan, plan


# -- the database keeps the policy on requests and the disclosure log too ---------------

register = roles.register  # the fixture: a register with logins of each kind of person


async def test_requests_and_disclosures_are_the_dpos_in_the_database(
    register: roles.Register,
) -> None:
    owner = await asyncpg.connect(register.dsn)
    try:
        await owner.execute(
            "INSERT INTO subject_request VALUES ('R-1', 'access', '2026-01-01', NULL, 'ab', 'x')"
        )
        await owner.execute(
            "INSERT INTO disclosure (at, disclosed_by, authority, legal_basis, request_ref, "
            "record_ids, manifest_sha256) VALUES (1, 'x', 'Poliisi', 'L', 'R-1', '[1]', 'ab')"
        )
    finally:
        await owner.close()
    seen = {}
    for who in ("dpo", "hki", "two", "retired", "stranger"):
        conn = await register.connect(who)
        try:
            seen[who] = (
                await roles.values(conn, "SELECT ref FROM subject_request"),
                await roles.values(conn, "SELECT authority FROM disclosure"),
            )
            if who != "dpo":
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
                    await conn.execute(
                        "INSERT INTO subject_request VALUES ('R-2', 'log', '2026-01-02', NULL, "
                        "'ab', 'x')"
                    )
        finally:
            await conn.close()
    assert seen.pop("dpo") == (["R-1"], ["Poliisi"])
    assert all(v == ([], []) for v in seen.values()), seen
