"""The network index: PostgreSQL through an asyncpg connection pool.

Reads are one `fetch` on any pooled connection. A write is one transaction on
one connection: an advisory transaction lock serialises the audit chain (every
writer, in every process, takes the same fixed key before it reads the head),
the sealed event is inserted, then the change; both commit or neither does.
The lock is held only until COMMIT, so a crashed client cannot leave it taken.

The password is never in the URL: it comes from `[index] password_file`
(read once, at open), else asyncpg reads ~/.pgpass (or $PGPASSFILE) by
itself, as libpq does.

A lost server is survived: the pool replaces a dead connection on the next
acquire, so the next action after a restart simply works. The action that was
under way when the connection went fails as `IndexUnavailable`, saying whether
anything may have landed (only a lost COMMIT leaves that open, and then the
change and its audit event landed together or not at all).

The methods live in one mixin per interface of `protocols.py`, each on
`PostgresCore` (postgres_core.py: the pool and the audited transaction):
postgres_audit.py, postgres_directory.py, postgres_recordings.py,
postgres_annotations.py, postgres_retention.py, postgres_subject.py,
postgres_transfer.py. This module connects, migrates and closes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import asyncpg

from kaiku_tui.errors import StoreError
from kaiku_tui.index.base import Index
from kaiku_tui.index.postgres_annotations import PostgresAnnotations
from kaiku_tui.index.postgres_audit import PostgresAudit
from kaiku_tui.index.postgres_core import DRIVER_ERRORS, server_lost, unavailable
from kaiku_tui.index.postgres_directory import PostgresDirectory
from kaiku_tui.index.postgres_password import read_password_file
from kaiku_tui.index.postgres_recordings import PostgresRecordings
from kaiku_tui.index.postgres_retention import PostgresRetention
from kaiku_tui.index.postgres_schema import MIGRATIONS
from kaiku_tui.index.postgres_subject import PostgresSubject
from kaiku_tui.index.postgres_transfer import PostgresTransfer

if TYPE_CHECKING:
    from kaiku_tui.index.postgres_core import Connection
MIGRATION_LOCK = int.from_bytes(b"kaiku-mg", "big")  # fixed: every process takes the same


class PostgresIndex(
    PostgresAudit,
    PostgresDirectory,
    PostgresRecordings,
    PostgresAnnotations,
    PostgresRetention,
    PostgresSubject,
    PostgresTransfer,
    Index,
):
    """Open with `await PostgresIndex.open(url, mac_key)`; close with `await index.close()`."""

    @classmethod
    async def open(
        cls,
        url: str,
        mac_key: bytes,
        *,
        create: bool = False,
        pool_size: int = 4,
        password_file: Path | None = None,
    ) -> PostgresIndex:
        """Connect and migrate; `create` allows a database without the register's tables."""
        location = _location(url)
        password = None if password_file is None else read_password_file(password_file)
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_size, password=password)
        except DRIVER_ERRORS as exc:
            if lost := server_lost(exc):
                raise unavailable(location, lost, "nothing was done") from None
            raise StoreError(f"index {location}: cannot connect ({exc})") from None
        try:
            async with pool.acquire() as conn:
                await _migrate(conn, location, create)
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, DRIVER_ERRORS) and (lost := server_lost(exc)):
                raise unavailable(location, lost, "nothing was done") from None
            if isinstance(exc, DRIVER_ERRORS):
                raise StoreError(f"index {location}: {exc}") from None
            raise
        return cls(location, pool, mac_key)

    def __repr__(self) -> str:  # the location only: never a login or a password
        return f"<PostgresIndex {self.location}>"

    async def session_login(self) -> str:
        """The database login these connections authenticated as (`session_user`, which
        SET ROLE does not change): the person when `[access] identity = "database"`."""
        rows = await self.fetch("SELECT session_user")
        return str(rows[0][0])


async def _migrate(conn: Connection, location: str, create: bool) -> None:
    """Run the migrations not yet run.

    All in one transaction (PostgreSQL's DDL is transactional: an upgrade lands
    whole or not at all) under an advisory lock, so two processes opening a new
    register at once do not both create it. `schema_version` holds one row per
    migration run, as SQLite's `user_version` holds the last number.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        encoding = await conn.fetchval("SHOW server_encoding")
        if encoding != "UTF8":
            raise StoreError(f"index {location}: the database encoding is {encoding}, not UTF8")
        if await conn.fetchval("SELECT to_regclass('schema_version') IS NULL"):
            if not create:
                raise StoreError(f"index {location} has no register (run 'kaiku-tui init')")
            await conn.execute(_CREATE_SCHEMA_VERSION)
        current = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version")
        if current > len(MIGRATIONS):
            raise StoreError(
                f"index {location} is at migration {current}, newer than this kaiku-tui knows "
                f"({len(MIGRATIONS)}); upgrade kaiku-tui"
            )
        for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
            try:
                if script.strip():  # a placeholder ("") only takes its number
                    await conn.execute(script)
            except asyncpg.InsufficientPrivilegeError as exc:
                # An application login opened a register that an upgrade of kaiku-tui
                # has not yet migrated: only the owner of the tables may.
                raise StoreError(
                    f"index {location} needs migration {number} of {len(MIGRATIONS)}, which "
                    f"only the owner of its tables may run ({exc}); open it once as the owner"
                ) from None
            await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", number)


def _location(url: str) -> str:
    """host:port/database for messages and the status line; never the user or a password."""
    parts = urlsplit(url)
    try:
        port = parts.port or 5432
    except ValueError:
        port = 5432
    return f"{parts.hostname or 'localhost'}:{port}/{parts.path.lstrip('/')}"


_CREATE_SCHEMA_VERSION = """
    CREATE TABLE schema_version (
        version integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""


async def relations_in(url: str, password_file: Path | None) -> int:
    """How many tables, views and sequences the database of `url` holds outside the
    system schemas: a restore goes only into a database where this is 0."""
    location = _location(url)
    password = None if password_file is None else read_password_file(password_file)
    try:
        conn = await asyncpg.connect(url, password=password)
    except DRIVER_ERRORS as exc:
        raise StoreError(f"index {location}: cannot connect ({exc})") from None
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND n.nspname NOT IN "
                "('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
            )
        )
    finally:
        await conn.close()
