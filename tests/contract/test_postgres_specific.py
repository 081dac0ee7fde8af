"""What only the PostgreSQL backend promises: triggers, migrations, connections, availability."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from kaiku_tui.audit.chain import ChainVerifier
from kaiku_tui.errors import IndexUnavailable, StoreError
from kaiku_tui.index.postgres import PostgresIndex
from kaiku_tui.index.postgres_schema import MIGRATIONS
from tests.contract import pg
from tests.contract.rows import MAC_KEY, event, stored_org

LATEST = len(MIGRATIONS)


@pytest.fixture
async def dsn(pg_server: pg.PgServer) -> AsyncIterator[str]:
    async with pg_server.schema() as fresh:
        yield fresh


@pytest.fixture
async def pg_index(dsn: str) -> AsyncIterator[PostgresIndex]:
    index = await PostgresIndex.open(dsn, MAC_KEY, create=True)
    try:
        yield index
    finally:
        await index.close()


async def fetch(dsn: str, query: str) -> list[tuple[Any, ...]]:
    """Rows of one query on a plain connection of its own."""
    conn = await asyncpg.connect(dsn)
    try:
        return [tuple(r) for r in await conn.fetch(query)]
    finally:
        await conn.close()


async def versions(dsn: str) -> list[tuple[Any, ...]]:
    return await fetch(dsn, "SELECT version FROM schema_version ORDER BY version")


# -- the audit table is append-only -----------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET mac = '\\x00' WHERE seq = 1",
        "DELETE FROM audit_event",
        "DELETE FROM audit_event WHERE seq = 99",  # matches no row: refused all the same
        "TRUNCATE audit_event",
    ],
)
async def test_audit_rows_cannot_be_changed_or_deleted(
    pg_index: PostgresIndex, dsn: str, statement: str
) -> None:
    await pg_index.append_audit(event("login"))
    before = await pg_index.audit_rows(0, 10)
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await fetch(dsn, statement)
    assert await pg_index.audit_rows(0, 10) == before and len(before) == 1


async def test_concurrent_appends_make_one_chain(pg_index: PostgresIndex) -> None:
    """Appends on several pooled connections at once: the advisory lock makes them take
    turns, so none reads a head another is about to replace (a duplicate seq)."""
    seqs = await asyncio.gather(*(pg_index.append_audit(event("login", n)) for n in range(40)))
    assert sorted(seqs) == list(range(1, 41))
    verifier = ChainVerifier(MAC_KEY)
    async for rows in pg_index.audit_scan(batch=7):
        verifier.feed(rows)
    assert verifier.finish() is None and verifier.count == 40


# -- migrations ---------------------------------------------------------------------------


async def test_reopening_does_not_migrate_again(dsn: str) -> None:
    index = await PostgresIndex.open(dsn, MAC_KEY, create=True)
    try:
        await index.add_org(stored_org("HKI"), event("org.manage"))
    finally:
        await index.close()
    for create in (False, True):
        index = await PostgresIndex.open(dsn, MAC_KEY, create=create)
        try:
            assert await index.get_org("HKI") == stored_org("HKI")
            assert (await index.audit_head() or (0,))[0] == 1
        finally:
            await index.close()
        assert await versions(dsn) == [(n,) for n in range(1, LATEST + 1)]


async def test_an_empty_database_without_create_is_a_store_error(dsn: str) -> None:
    with pytest.raises(StoreError, match="has no register"):
        await PostgresIndex.open(dsn, MAC_KEY)
    assert await fetch(dsn, "SELECT to_regclass('schema_version')") == [(None,)]


async def test_a_newer_schema_is_a_store_error(dsn: str) -> None:
    await (await PostgresIndex.open(dsn, MAC_KEY, create=True)).close()
    await fetch(dsn, f"INSERT INTO schema_version (version) VALUES ({LATEST + 1})")
    with pytest.raises(StoreError, match="newer than this kaiku-tui knows"):
        await PostgresIndex.open(dsn, MAC_KEY)
    assert await versions(dsn) == [(n,) for n in range(1, LATEST + 2)]


async def test_an_unreachable_server_is_index_unavailable() -> None:
    url = "postgresql://nobody@127.0.0.1:1/register"  # port 1: nothing listens there
    with pytest.raises(IndexUnavailable) as caught:
        await PostgresIndex.open(url, MAC_KEY)
    message = str(caught.value)
    assert message.startswith("index 127.0.0.1:1/register is unreachable (")
    assert "nothing was done; check that the database server is running" in message
    assert "\n" not in message and "nobody" not in message  # one line, no login
    assert caught.value.exit_code == 5 and isinstance(caught.value, StoreError)


# -- closing ------------------------------------------------------------------------------


async def connections_to(dsn: str, database: str) -> int:
    """Backends connected to `database`, the asking one not counted."""
    rows = await fetch(
        dsn,
        "SELECT count(*) FROM pg_stat_activity "
        f"WHERE datname = '{database}' AND pid <> pg_backend_pid()",
    )
    return int(rows[0][0])


async def test_close_leaves_no_connection(pg_server: pg.PgServer) -> None:
    """In a database of its own, so that no other test's connections are counted."""
    async with pg_server.database() as dsn:
        database = urlsplit(dsn).path.lstrip("/")
        for _ in range(3):
            index = await PostgresIndex.open(dsn, MAC_KEY, create=True)
            try:
                await index.append_audit(event("login"))
                assert await connections_to(pg_server.admin_dsn, database) >= 1
            finally:
                await index.close()
            assert await connections_to(pg_server.admin_dsn, database) == 0
        assert await connections_to(pg_server.admin_dsn, database) == 0
    # leaving database() dropped it without FORCE: that too fails on a leftover connection


async def test_a_failed_open_closes_its_pool(pg_server: pg.PgServer) -> None:
    async with pg_server.database() as dsn:
        database = urlsplit(dsn).path.lstrip("/")
        with pytest.raises(StoreError):
            await PostgresIndex.open(dsn, MAC_KEY)  # no register, no create
        assert await connections_to(pg_server.admin_dsn, database) == 0


# -- where there is no server -------------------------------------------------------------


def test_without_a_server_tests_skip_but_fail_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no server here"):
        pg.unavailable("no server here")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required under CI and no server here"):
        pg.unavailable("no server here")
