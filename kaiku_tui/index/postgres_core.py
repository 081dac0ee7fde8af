"""The base of the PostgreSQL mixins: the pool, reads, the audited write, lost servers.

postgres.py says how a write is serialised and how a lost server is survived.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg

from kaiku_tui.audit.chain import GENESIS, AuditEvent, canonical_body, seal
from kaiku_tui.errors import AuditFailure, IndexUnavailable, StoreError
from kaiku_tui.index import sql

if TYPE_CHECKING:  # asyncpg's classes are generic in its stubs only
    from asyncpg.pool import PoolConnectionProxy

    Connection = PoolConnectionProxy[asyncpg.Record]
    Pool = asyncpg.Pool[asyncpg.Record]

T = TypeVar("T")
Change = Callable[["Connection"], Awaitable[T]]

DIALECT = sql.Dialect(
    indexed_by=False,
    param="$",
    summary=sql.summary_columns("string_agg(t.tag, chr(31))"),
    lateral_probe=True,
)
# Advisory lock keys: fixed, so every process serialises on the same ones.
AUDIT_LOCK = int.from_bytes(b"kaiku-au", "big")

# What the driver raises for a refused statement or a lost server.
DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
# Of those, the ones that mean the server is gone (not that it said no): a refused
# or reset socket (OSError, TimeoutError among them), a connection closed under a
# query, a server shutting down, crashed or still starting.
LOST_ERRORS = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
)
_WHAT_TO_DO = (
    "check that the database server is running and reachable from this host, then try again"
)
AUDIT_HEAD = "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"
_INSERT_AUDIT = (
    "INSERT INTO audit_event (seq, body, prev_hash, hash, mac) VALUES ($1, $2, $3, $4, $5)"
)


class PostgresCore:
    """What every PostgreSQL mixin stands on: the pool, reads, and the audited write.

    Reads: `fetch` (or `_rows` for a built query) on any pooled connection. Writes:
    `audited` / `audited_all`, one transaction holding the audit lock.
    """

    dialect = DIALECT

    def __init__(self, location: str, pool: Pool, mac_key: bytes) -> None:
        self.location = location
        self._pool = pool
        self._mac_key = mac_key

    def acquire(self) -> AbstractAsyncContextManager[Connection]:
        """A pooled connection, given back when the block ends: for upkeep (index/upkeep.py:
        catalog queries, VACUUM, an exported snapshot), which the contract leaves out."""
        return self._pool.acquire()

    @property
    def pool(self) -> Pool:
        """The pool itself: for copying the whole register (postgres_transfer.py)."""
        return self._pool

    async def close(self) -> None:
        """Close every pooled connection (waits for those in use to come back)."""
        await self._pool.close()

    async def fetch(self, query: str, *params: object) -> list[asyncpg.Record]:
        try:
            return await self._pool.fetch(query, *params)
        except DRIVER_ERRORS as exc:
            if lost := server_lost(exc):
                raise unavailable(self.location, lost, "nothing was shown") from None
            raise StoreError(f"index {self.location}: {exc}") from None

    async def _rows(self, query: sql.Query) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self.fetch(query.sql, *query.params)]

    async def audited(self, event: AuditEvent, change: Change[T]) -> tuple[int, T]:
        """One transaction: the audit event, then the change (see `audited_all`)."""
        return await self.audited_all((event,), change)

    async def audited_all(self, events: Sequence[AuditEvent], change: Change[T]) -> tuple[int, T]:
        """One transaction: the audit events, then the change; all commit or none.

        As in SQLite: failing to start the write or to append the event is an
        AuditFailure; a failing change, or COMMIT, is the change refused. A lost
        connection is IndexUnavailable: before COMMIT nothing landed (the server
        rolls back a transaction whose client is gone); during COMMIT the client
        cannot know, and says so."""
        step = "audit"  # how far the transaction got: what a failure may have left
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                seq = 0
                for event in events:
                    seq = await self._append(conn, event)
                step = "change"
                result = await change(conn)
                step = "commit"  # leaving the block commits
        except DRIVER_ERRORS as exc:
            if (lost := server_lost(exc)) and step == "commit":
                raise unavailable(self.location, lost, _UNKNOWN_OUTCOME) from None
            if lost:
                raise unavailable(self.location, lost, "nothing was changed or shown") from None
            if step == "audit":
                raise self._audit_failure(exc) from None
            raise StoreError(f"index {self.location}: the change was refused ({exc})") from None
        return seq, result

    async def _append(self, conn: Connection, event: AuditEvent) -> int:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", AUDIT_LOCK)
        head = await conn.fetchrow(AUDIT_HEAD)
        seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
        row = seal(seq, prev, canonical_body(seq, event), self._mac_key)
        body = row.body.decode("utf-8")
        await conn.execute(_INSERT_AUDIT, seq, body, row.prev_hash, row.hash, row.mac)
        return seq

    def _audit_failure(self, exc: BaseException) -> AuditFailure:
        return AuditFailure(
            f"audit log {self.location}: the event could not be written ({exc}); "
            "nothing was changed or shown"
        )


_UNKNOWN_OUTCOME = (
    "the action and its audit event were committed together or not at all: "
    "see 'kaiku-tui audit show' before doing it again"
)


def server_lost(exc: BaseException) -> BaseException | None:
    """The error that says the server is gone, if that is what `exc` comes from.

    Leaving `async with conn.transaction()` on a dead connection raises an
    InterfaceError ("the underlying connection is closed") whose context is the
    real cause, so the chain is followed."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, LOST_ERRORS):
            return seen
        if isinstance(seen, asyncpg.InterfaceError) and "connection is closed" in str(seen):
            return seen
        seen = seen.__context__
    return None


def unavailable(location: str, exc: BaseException, outcome: str) -> IndexUnavailable:
    """One line: where, why (the driver's words hold no password), what landed, what to do."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return IndexUnavailable(f"index {location} is unreachable ({reason}); {outcome}; {_WHAT_TO_DO}")


def affected(status: str) -> int:
    """The row count of a command tag such as 'INSERT 0 1' or 'UPDATE 0'."""
    return int(status.rsplit(" ", 1)[-1])
