"""Copying a whole register into or out of PostgreSQL (`kaiku-tui migrate`).

Out: one REPEATABLE READ, READ ONLY transaction on a connection of its own, so
every table is read from the same snapshot while others go on working. In:
each batch is one transaction of binary COPY (`copy_records_to_table`), the
fastest way into PostgreSQL; COPY writes the given ids into the identity
column (as OVERRIDING SYSTEM VALUE would), so the sequence is moved past them
when the copy is finished.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

import asyncpg

from kaiku_tui.errors import StoreError
from kaiku_tui.index import transfer
from kaiku_tui.index.postgres_core import PostgresCore
from kaiku_tui.index.protocols import Transfer
from kaiku_tui.index.records import Export, Row

if TYPE_CHECKING:
    Pool = asyncpg.Pool[asyncpg.Record]
    Connection = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]

DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
# Every table with an identity column; one statement each, run as one script.
_FOLLOW_IDS = ";".join(
    f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), max(id)) FROM {t} "
    "HAVING max(id) IS NOT NULL"
    for t in ("recording", "note", "feedback_case", "coaching_sample", "legal_hold", "disclosure")
)


def _dollar(n: int) -> str:
    return f"${n}"


@asynccontextmanager
async def export(pool: Pool, location: str) -> AsyncIterator[Export]:
    try:
        async with pool.acquire() as conn:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                yield _PostgresExport(conn, location)
    except DRIVER_ERRORS as exc:
        raise StoreError(f"index {location}: reading for the copy failed ({exc})") from None


class _PostgresExport(Export):
    def __init__(self, conn: Connection, location: str) -> None:
        self._conn = conn
        self._location = location

    async def rows(self, table: str, after: Row | None, limit: int) -> list[Row]:
        t = transfer.table(table)
        return await transfer.batch(self._fetch, t, _dollar, after, limit)

    async def last(self, table: str) -> Row | None:
        found = await self._fetch(transfer.queries(transfer.table(table), _dollar)[3], ())
        return found[0] if found else None

    async def _fetch(self, query: str, params: Sequence[object]) -> list[Row]:
        try:
            return [tuple(r) for r in await self._conn.fetch(query, *params)]
        except DRIVER_ERRORS as exc:
            raise StoreError(f"index {self._location}: reading for the copy ({exc})") from None


async def import_rows(pool: Pool, location: str, table: str, rows: Sequence[Row]) -> None:
    t = transfer.table(table)
    try:
        async with pool.acquire() as conn, conn.transaction():
            if t is transfer.REGISTER_INFO:
                await conn.executemany(transfer.upsert_info(_dollar), rows)
            else:
                await conn.copy_records_to_table(t.name, records=rows, columns=t.columns)
    except DRIVER_ERRORS as exc:
        raise StoreError(f"index {location}: the copy was refused ({exc})") from None


async def finish_import(pool: Pool, location: str, drop_info: str, facts: Sequence[Row]) -> None:
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM register_info WHERE name = $1", drop_info)
            await conn.executemany(transfer.upsert_info(_dollar), facts)
            await conn.execute(_FOLLOW_IDS)
    except DRIVER_ERRORS as exc:
        raise StoreError(f"index {location}: finishing the copy failed ({exc})") from None


class PostgresTransfer(PostgresCore, Transfer):
    """`Transfer` on PostgreSQL: the methods are this module's functions on the pool."""

    def export(self) -> AbstractAsyncContextManager[Export]:
        return export(self.pool, self.location)  # the module's function, on this pool

    async def import_rows(self, table: str, rows: Sequence[Row]) -> None:
        await import_rows(self.pool, self.location, table, rows)

    async def finish_import(self, drop_info: str, facts: Sequence[Row]) -> None:
        await finish_import(self.pool, self.location, drop_info, facts)
