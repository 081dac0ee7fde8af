"""The register's facts, persons and organisations in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import asyncpg

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.domain.access import Person
from kaiku_tui.domain.org import Organisation
from kaiku_tui.errors import StoreError, UsageError
from kaiku_tui.index import annotation_sql as asql
from kaiku_tui.index import rowformat
from kaiku_tui.index.postgres_core import (
    PostgresCore,
    affected,
)
from kaiku_tui.index.protocols import (
    Directory,
)
from kaiku_tui.index.records import OrgRewrap, StoredOrg, StoredPerson

if TYPE_CHECKING:
    from kaiku_tui.index.postgres_core import Connection


class PostgresDirectory(PostgresCore, Directory):
    """`Directory` on PostgreSQL."""

    async def get_info(self, name: str) -> str | None:
        rows = await self.fetch("SELECT value FROM register_info WHERE name = $1", name)
        return str(rows[0][0]) if rows else None

    async def put_info(self, name: str, value: str, event: AuditEvent) -> None:
        async def change(conn: Connection) -> None:
            await conn.execute(
                "INSERT INTO register_info (name, value) VALUES ($1, $2) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                name, value,
            )  # fmt: skip

        await self.audited(event, change)

    async def rewrap_org_keys(
        self, wrapped: Sequence[OrgRewrap], master_key_id: str, event: AuditEvent
    ) -> None:
        async def change(conn: Connection) -> None:
            for w in wrapped:
                done = await conn.execute(
                    "UPDATE organisation SET wrapped_key = $1, master_key_id = $2, mac = $3 "
                    "WHERE code = $4 AND wrapped_key IS NOT NULL "
                    "AND mac IS NOT DISTINCT FROM $5",
                    w.wrapped_key, master_key_id, w.mac, w.code, w.was,
                )  # fmt: skip
                if affected(done) != 1:
                    raise StoreError(f"organisation {w.code}: its key could not be re-wrapped")
            await conn.execute(
                "UPDATE register_info SET value = $1 WHERE name = 'master_key_id'", master_key_id
            )

        await self.audited(event, change)

    async def get_person(self, login: str) -> StoredPerson | None:
        rows = await self.fetch(
            f"SELECT {rowformat.PERSON_COLUMNS} FROM person WHERE login = $1", login
        )
        return rowformat.person_of(tuple(rows[0])) if rows else None

    async def list_persons(self) -> list[StoredPerson]:
        rows = await self.fetch(f"SELECT {rowformat.PERSON_COLUMNS} FROM person ORDER BY login")
        return [rowformat.person_of(tuple(r)) for r in rows]

    async def put_person(
        self, person: Person, event: AuditEvent, *, new: bool, mac: bytes, was: bytes | None
    ) -> None:
        values = (*rowformat.person_values(person), mac)

        async def change(conn: Connection) -> None:
            if new:
                await _insert_new(conn, _INSERT_PERSON, values, f"person {person.login!r}")
                return
            if affected(await conn.execute(_UPDATE_PERSON, *values, was)) == 1:
                return
            if await conn.fetchval("SELECT 1 FROM person WHERE login = $1", person.login):
                raise StoreError(f"person {person.login!r} was changed meanwhile; try again")
            raise UsageError(f"person {person.login!r} does not exist")

        await self.audited(event, change)

    async def add_org(self, org: StoredOrg, event: AuditEvent) -> None:
        o = org.org
        values = (
            o.code, o.name, o.contract_start, o.contract_end, o.retention_days, org.wrapped_key,
            org.master_key_id, org.mac,
        )  # fmt: skip

        async def change(conn: Connection) -> None:
            await _insert_new(conn, _INSERT_ORG, values, f"organisation {o.code!r}")

        await self.audited(event, change)

    async def get_org(self, code: str) -> StoredOrg | None:
        rows = await self.fetch(f"{_ORG_SELECT} WHERE code = $1", code)
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
        async def change(conn: Connection) -> None:
            await _insert_new(conn, _INSERT_FACT, fact, f"the row seal ({fact[0]})")
            for statement, rows, what in (
                (_SEAL_PERSON, persons, "person"),
                (_SEAL_ORG, orgs, "organisation"),
            ):
                for key, mac in rows:
                    if affected(await conn.execute(statement, mac, key)) != 1:
                        raise StoreError(f"{what} {key}: its row could not be sealed")

        await self.audited(event, change)


async def _insert_new(
    conn: Connection, statement: str, values: Sequence[object], what: str
) -> None:
    """An INSERT ... ON CONFLICT DO NOTHING that must insert: a duplicate is a UsageError."""
    if affected(await conn.execute(statement, *values)) == 0:
        raise UsageError(f"{what} exists already")


_INSERT_PERSON = (
    "INSERT INTO person (display_name, roles, orgs, active, login, mac) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (login) DO NOTHING"
)
_UPDATE_PERSON = (
    "UPDATE person SET display_name = $1, roles = $2, orgs = $3, active = $4, mac = $6 "
    "WHERE login = $5 AND mac IS NOT DISTINCT FROM $7"
)
_ORG_SELECT = f"SELECT {rowformat.ORG_COLUMNS} FROM organisation"
_INSERT_ORG = (
    f"INSERT INTO organisation ({rowformat.ORG_COLUMNS}) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code) DO NOTHING"
)
_INSERT_FACT = (
    "INSERT INTO register_info (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"
)
_SEAL_PERSON = asql.numbered(rowformat.SEAL_PERSON)
_SEAL_ORG = asql.numbered(rowformat.SEAL_ORG)


def _org(row: asyncpg.Record) -> StoredOrg:
    org = Organisation(row[0], row[1], row[2], row[3], row[4])
    return StoredOrg(org, row[5], row[6], None if row[7] is None else bytes(row[7]))
