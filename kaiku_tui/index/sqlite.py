"""The embedded index: SQLite in WAL mode, one read connection and one write connection.

Reads go through aiosqlite, one `execute_fetchall` per page (each call costs a
thread hop, ~0.06 ms here). Writes run as one plain function per transaction
on a dedicated writer thread: BEGIN IMMEDIATE, the audit event, the change,
COMMIT — a single hop, and no `await` while SQLite's write lock is held, so
another process waits for microseconds, not for our event loop. That is what
makes ≥ 2,000 durable audited actions a second possible (docs/ARCHITECTURE.md).

The methods live in one mixin per interface of `protocols.py`, each on
`SqliteCore` (sqlite_core.py: the connections and the audited transaction):
sqlite_audit.py, sqlite_directory.py, sqlite_recordings.py,
sqlite_annotations.py, sqlite_retention.py, sqlite_subject.py,
sqlite_transfer.py. This module opens, migrates and closes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

from kaiku_tui.errors import StoreError
from kaiku_tui.index.base import Index
from kaiku_tui.index.sqlite_annotations import SqliteAnnotations
from kaiku_tui.index.sqlite_audit import SqliteAudit
from kaiku_tui.index.sqlite_core import Writer, open_reader
from kaiku_tui.index.sqlite_directory import SqliteDirectory
from kaiku_tui.index.sqlite_recordings import SqliteRecordings
from kaiku_tui.index.sqlite_retention import SqliteRetention
from kaiku_tui.index.sqlite_schema import MIGRATIONS
from kaiku_tui.index.sqlite_subject import SqliteSubject
from kaiku_tui.index.sqlite_transfer import SqliteTransfer


class SqliteIndex(
    SqliteAudit,
    SqliteDirectory,
    SqliteRecordings,
    SqliteAnnotations,
    SqliteRetention,
    SqliteSubject,
    SqliteTransfer,
    Index,
):
    """Open with `await SqliteIndex.open(path, mac_key)`; close with `await index.close()`."""

    @classmethod
    async def open(
        cls, path: Path, mac_key: bytes, *, busy_timeout_ms: int = 5000, create: bool = False
    ) -> SqliteIndex:
        if not create and not path.exists():
            raise StoreError(f"index {path} does not exist (run 'kaiku-tui init')")
        writer = Writer(path, mac_key, busy_timeout_ms)
        readers: list[aiosqlite.Connection] = []
        try:
            await writer.run(_migrate)
            for _ in range(2):
                readers.append(await open_reader(path, busy_timeout_ms))
        except BaseException as exc:
            for reader in readers:
                await reader.close()
            await writer.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"index {path}: {exc}") from None
            raise
        return cls(path, (readers[0], readers[1]), writer)


def _migrate(db: sqlite3.Connection) -> None:
    """Run the migrations not yet run, each in its own transaction."""
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > len(MIGRATIONS):
        raise StoreError(
            f"index is at migration {current}, newer than this kaiku-tui knows "
            f"({len(MIGRATIONS)}); upgrade kaiku-tui"
        )
    for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    """Split a migration into statements (triggers hold ';' inside BEGIN ... END)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
