"""The register's facts, persons and organisations in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date
from typing import Any

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.domain.access import Person
from kaiku_tui.domain.org import Organisation
from kaiku_tui.errors import StoreError, UsageError
from kaiku_tui.index import rowformat
from kaiku_tui.index.protocols import (
    Directory,
)
from kaiku_tui.index.records import OrgRewrap, StoredOrg, StoredPerson
from kaiku_tui.index.sqlite_core import SqliteCore, date_text


class SqliteDirectory(SqliteCore, Directory):
    """`Directory` on SQLite."""

    async def get_info(self, name: str) -> str | None:
        rows = await self.fetch("SELECT value FROM register_info WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    async def put_info(self, name: str, value: str, event: AuditEvent) -> None:
        def change(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO register_info (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

        await self.audited(event, change)

    async def rewrap_org_keys(
        self, wrapped: Sequence[OrgRewrap], master_key_id: str, event: AuditEvent
    ) -> None:
        def change(db: sqlite3.Connection) -> None:
            for w in wrapped:
                done = db.execute(
                    "UPDATE organisation SET wrapped_key = ?, master_key_id = ?, mac = ? "
                    "WHERE code = ? AND wrapped_key IS NOT NULL AND mac IS ?",
                    (w.wrapped_key, master_key_id, w.mac, w.code, w.was),
                )
                if done.rowcount != 1:
                    raise StoreError(f"organisation {w.code}: its key could not be re-wrapped")
            db.execute(
                "UPDATE register_info SET value = ? WHERE name = 'master_key_id'",
                (master_key_id,),
            )

        await self.audited(event, change)

    async def get_person(self, login: str) -> StoredPerson | None:
        rows = await self.fetch(
            f"SELECT {rowformat.PERSON_COLUMNS} FROM person WHERE login = ?", (login,)
        )
        return rowformat.person_of(rows[0]) if rows else None

    async def list_persons(self) -> list[StoredPerson]:
        rows = await self.fetch(f"SELECT {rowformat.PERSON_COLUMNS} FROM person ORDER BY login")
        return [rowformat.person_of(r) for r in rows]

    async def put_person(
        self, person: Person, event: AuditEvent, *, new: bool, mac: bytes, was: bytes | None
    ) -> None:
        values = (*rowformat.person_values(person), mac)

        def change(db: sqlite3.Connection) -> None:
            if new:
                _insert_new(
                    db,
                    "INSERT INTO person (display_name, roles, orgs, active, login, mac) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    values,
                    f"person {person.login!r} exists already",
                )
                return
            done = db.execute(
                "UPDATE person SET display_name = ?, roles = ?, orgs = ?, active = ?, mac = ? "
                "WHERE login = ? AND mac IS ?",
                (*values[:4], mac, person.login, was),
            )
            if done.rowcount:
                return
            if db.execute("SELECT 1 FROM person WHERE login = ?", (person.login,)).fetchone():
                raise StoreError(f"person {person.login!r} was changed meanwhile; try again")
            raise UsageError(f"person {person.login!r} does not exist")

        await self.audited(event, change)

    async def add_org(self, org: StoredOrg, event: AuditEvent) -> None:
        o = org.org
        values = (
            o.code,
            o.name,
            date_text(o.contract_start),
            date_text(o.contract_end),
            o.retention_days,
            org.wrapped_key,
            org.master_key_id,
            org.mac,
        )

        def change(db: sqlite3.Connection) -> None:
            _insert_new(
                db,
                f"INSERT INTO organisation ({rowformat.ORG_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                values,
                f"organisation {o.code!r} exists already",
            )

        await self.audited(event, change)

    async def get_org(self, code: str) -> StoredOrg | None:
        rows = await self.fetch(f"{_ORG_SELECT} WHERE code = ?", (code,))
        return _org(rows[0]) if rows else None

    async def list_orgs(self) -> list[StoredOrg]:
        return [_org(r) for r in await self.fetch(f"{_ORG_SELECT} ORDER BY code")]

    async def seal_rows(
        self,
        persons: Sequence[tuple[str, bytes]],
        orgs: Sequence[tuple[str, bytes]],
        fact: tuple[str, str],
        event: AuditEvent,
    ) -> None:
        def change(db: sqlite3.Connection) -> None:
            _insert_new(
                db,
                "INSERT INTO register_info (name, value) VALUES (?, ?)",
                fact,
                f"the rows were sealed already ({fact[0]})",
            )
            for statement, rows, what in (
                (rowformat.SEAL_PERSON, persons, "person"),
                (rowformat.SEAL_ORG, orgs, "organisation"),
            ):
                for key, mac in rows:
                    if db.execute(statement, (mac, key)).rowcount != 1:
                        raise StoreError(f"{what} {key}: its row could not be sealed")

        await self.audited(event, change)


def _insert_new(
    db: sqlite3.Connection, statement: str, values: tuple[object, ...], dup: str
) -> None:
    try:
        db.execute(statement, values)
    except sqlite3.IntegrityError:
        raise UsageError(dup) from None


_ORG_SELECT = f"SELECT {rowformat.ORG_COLUMNS} FROM organisation"


def _org(row: Sequence[Any]) -> StoredOrg:
    org = Organisation(row[0], row[1], _date(row[2]), _date(row[3]), row[4])
    return StoredOrg(org, row[5], row[6], row[7])


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
