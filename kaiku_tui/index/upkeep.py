"""Index upkeep per backend: integrity, privileges, statistics, vacuum, snapshots.

Kept beside the backends rather than in the `Index` contract: these are an
admin's tools, not what the register needs to run, and each backend does them
in its own words (PRAGMAs, catalog queries). They use each backend's upkeep
door: SQLite's `on_writer` (the write connection, on its thread) and
PostgreSQL's `acquire` (a pooled connection); nothing else should.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from kaiku_tui.errors import StoreError
from kaiku_tui.index.base import Index

if TYPE_CHECKING:
    from kaiku_tui.index.postgres_core import PostgresCore

# What migration 3 of the PostgreSQL schema grants the application role on the
# audit log: append and read, never change or remove.
T = TypeVar("T")

AUDIT_GRANTED = ("INSERT", "SELECT")
AUDIT_REFUSED = ("UPDATE", "DELETE", "TRUNCATE")


@dataclass(frozen=True)
class Step:
    """One upkeep statement and how long it took."""

    what: str
    seconds: float
    detail: str = ""


def is_sqlite(index: object) -> bool:
    from kaiku_tui.index.sqlite_core import SqliteCore

    return isinstance(index, SqliteCore)


async def _run_sqlite(index: object, fn: Callable[[sqlite3.Connection], T]) -> T:
    from kaiku_tui.index.sqlite_core import SqliteCore

    assert isinstance(index, SqliteCore)
    # The writer's connection: upkeep statements queue behind writes, never beside them.
    return await index.on_writer(fn)


def _postgres(index: Index) -> PostgresCore:
    from kaiku_tui.index.postgres_core import PostgresCore

    assert isinstance(index, PostgresCore)
    return index


async def integrity(index: Index) -> list[str]:
    """Problems found by the database's own check; an empty list when it is sound.

    SQLite: `PRAGMA quick_check` — it reads every page and row (O(N)) but skips
    matching each index entry to its row, which `integrity_check` does in
    O(N log N): minutes at 10 M rows, too long for a glance. PostgreSQL has no
    online equivalent; connectivity and a catalog query stand for it."""
    if is_sqlite(index):
        rows = await _run_sqlite(index, lambda db: db.execute("PRAGMA quick_check").fetchall())
        found = [str(r[0]) for r in rows]
        return [] if found == ["ok"] else found
    await _pg_fetch(index, "SELECT 1")
    return []


async def schema_version(index: Index) -> int:
    if is_sqlite(index):
        return int(
            await _run_sqlite(index, lambda db: db.execute("PRAGMA user_version").fetchone()[0])
        )
    rows = await _pg_fetch(index, "SELECT coalesce(max(version), 0) FROM schema_version")
    return int(str(rows[0][0]))


def known_migrations(index: Index) -> int:
    if is_sqlite(index):
        from kaiku_tui.index.sqlite_schema import MIGRATIONS
    else:
        from kaiku_tui.index.postgres_schema import MIGRATIONS
    return len(MIGRATIONS)


async def audit_privileges(index: Index) -> dict[str, bool] | None:
    """The application role's privileges on audit_event (PostgreSQL), or None on SQLite."""
    if is_sqlite(index):
        return None
    from kaiku_tui.index.postgres_schema import APP_ROLE_SUFFIX

    rows = await _pg_fetch(
        index,
        "SELECT p, has_table_privilege(current_database() || $1, 'audit_event', p) "
        "FROM unnest($2::text[]) AS p",
        APP_ROLE_SUFFIX,
        list(AUDIT_GRANTED + AUDIT_REFUSED),
    )
    return {str(r[0]): bool(r[1]) for r in rows}


async def upkeep(index: Index, *, vacuum: bool) -> list[Step]:
    """ANALYZE, a WAL checkpoint and (when asked) VACUUM; each step timed."""
    if is_sqlite(index):
        statements = ["ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"]
        statements += ["VACUUM"] if vacuum else []
        return [await _timed_sqlite(index, s) for s in statements]
    # PostgreSQL: VACUUM reclaims dead rows' space for reuse (it does not shrink the
    # files; VACUUM FULL would, under an exclusive lock — not done here), CHECKPOINT
    # needs superuser or pg_checkpoint, so it is left to the server's own schedule.
    statements = ["VACUUM (ANALYZE)"] if vacuum else ["ANALYZE"]
    return [await _timed_pg(index, s) for s in statements]


async def after_purge(index: object) -> Step | None:
    """SQLite: write the WAL back and truncate it, so destroyed rows (zeroed in place by
    `secure_delete`) leave no older page image behind. PostgreSQL: nothing here — dead
    rows stay in their pages until VACUUM, which only the tables' owner may run
    (`kaiku-tui maintenance --vacuum`; README, "Retention and legal holds")."""
    if not is_sqlite(index):
        return None
    return await _timed_sqlite(index, "PRAGMA wal_checkpoint(TRUNCATE)")


async def _timed_sqlite(index: object, statement: str) -> Step:
    start = time.perf_counter()
    rows = await _run_sqlite(index, lambda db: db.execute(statement).fetchall())
    detail = ""
    if statement.startswith("PRAGMA wal_checkpoint") and rows:
        busy, logged, done = rows[0]
        detail = f"{done} of {logged} WAL pages written back" + (", busy" if busy else "")
    return Step(statement, time.perf_counter() - start, detail)


async def _timed_pg(index: Index, statement: str) -> Step:
    start = time.perf_counter()
    await _pg_execute(index, statement)
    return Step(statement, time.perf_counter() - start)


async def snapshot(index: Index, target: Path) -> None:
    """A consistent copy of a SQLite index at `target` with the online backup API.

    It copies page by page inside one read transaction of the writer's connection,
    so writers wait for it and the copy is one moment of the register."""
    if not is_sqlite(index):
        raise StoreError("a PostgreSQL index is backed up with pg_dump (see README)")

    def copy(db: sqlite3.Connection) -> None:
        out = sqlite3.connect(target)
        try:
            db.backup(out)
            # A self-contained file: the copy takes the source's WAL mode, and a -wal
            # beside it would be one more file for a backup to lose.
            out.execute("PRAGMA journal_mode = DELETE")
        finally:
            out.close()

    await _run_sqlite(index, copy)


@dataclass(frozen=True)
class PgSnapshot:
    """What one exported PostgreSQL snapshot sees: what its pg_dump must hold."""

    id: str  # for pg_dump --snapshot
    blob_refs: list[str]
    audit_rows: int
    audit_head: tuple[int, bytes] | None


# Whether this login reads every row: the table's owner or BYPASSRLS. Any other login
# is filtered by row-level security, and pg_dump would refuse (or, told to, dump less).
_SEES_EVERY_ROW = """
    SELECT r.rolbypassrls OR r.rolsuper OR pg_has_role(current_user, c.relowner, 'MEMBER')
    FROM pg_roles r, pg_class c
    WHERE r.rolname = current_user AND c.oid = 'recording'::regclass
"""


@asynccontextmanager
async def pg_snapshot(index: Index) -> AsyncIterator[PgSnapshot]:
    """A REPEATABLE READ transaction's snapshot, exported and held open while the
    caller runs `pg_dump --snapshot`: the dump and the blob references read here are
    one moment of the register."""
    async with (
        _postgres(index).acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        if not await conn.fetchval(_SEES_EVERY_ROW):
            raise StoreError(
                f"index {index.location}: this login does not see every row (row-level "
                "security); back a PostgreSQL register up with a configuration whose [index] "
                "url names the tables' owner (README, 'Backup and restore')"
            )
        snapshot_id = str(await conn.fetchval("SELECT pg_export_snapshot()"))
        refs = await conn.fetch(
            "SELECT blob_ref FROM recording WHERE blob_ref IS NOT NULL ORDER BY blob_ref"
        )
        count = int(await conn.fetchval("SELECT count(*) FROM audit_event"))
        head = await conn.fetchrow("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
        yield PgSnapshot(
            snapshot_id,
            [str(r[0]) for r in refs],
            count,
            None if head is None else (int(head[0]), bytes(head[1])),
        )


async def pg_grant(index: Index) -> None:
    """After a restore: the application role of this database, with its privileges."""
    from kaiku_tui.index.postgres_schema import APP_PRIVILEGES

    await _pg_execute(index, APP_PRIVILEGES)


async def _pg_fetch(index: Index, query: str, *params: object) -> list[tuple[object, ...]]:
    async with _postgres(index).acquire() as conn:
        return [tuple(r) for r in await conn.fetch(query, *params)]


async def _pg_execute(index: Index, statement: str) -> None:
    async with _postgres(index).acquire() as conn:
        await conn.execute(statement)
