"""Data subjects' rights in SQLite (the SQL is subject_sql.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.domain.subject import Disclosure, SubjectRequest
from kaiku_tui.errors import UsageError
from kaiku_tui.index import rowformat, sql
from kaiku_tui.index import subject_sql as ssql
from kaiku_tui.index.protocols import (
    SubjectStore,
)
from kaiku_tui.index.records import (
    StoredRecording,
)
from kaiku_tui.index.sqlite_core import SqliteCore


class SqliteSubject(SqliteCore, SubjectStore):
    """`SubjectStore` on SQLite."""

    async def recordings_of_subject(
        self, phone_bidx: bytes, orgs: tuple[str, ...]
    ) -> list[StoredRecording]:
        query = (
            f"SELECT {sql.SUMMARY_COLUMNS}, {rowformat.STORED_COLUMNS} FROM recording r "
            f"{ssql.SUBJECT_WHERE}{ssql.org_terms(orgs)}{ssql.SUBJECT_ORDER}"
        )
        return [rowformat.stored_of(r) for r in await self.fetch(query, (phone_bidx, *orgs))]

    async def subject_events(
        self,
        subject: str | None,
        targets: Sequence[str],
        *,
        since: int | None = None,
        until: int | None = None,
    ) -> list[tuple[int, bytes]]:
        at, at_params = ssql.at_terms(since, until)
        body = "CAST(body AS BLOB)"
        rows: list[Any] = []
        if subject is not None:
            rows += await self.fetch(ssql.events_by_subject(body, at), (subject, *at_params))
        for i in range(0, len(targets), ssql.TARGETS_PER_QUERY):
            chunk = targets[i : i + ssql.TARGETS_PER_QUERY]
            marks = f"IN ({', '.join('?' * len(chunk))})"
            query = ssql.events_by_target(body, TARGET, marks, at)
            rows += await self.fetch(query, (*chunk, *at_params))
        return ssql.merged(rows)

    async def revealing_events(
        self, names: Sequence[str], *, since: int | None = None, until: int | None = None
    ) -> list[tuple[int, bytes]]:
        at, at_params = ssql.at_terms(since, until)
        rows: list[Any] = []
        for i in range(0, len(names), ssql.TARGETS_PER_QUERY):
            chunk = names[i : i + ssql.TARGETS_PER_QUERY]
            marks = ", ".join("?" * len(chunk))
            rows += await self.fetch(ssql.revealing_sqlite(marks, at), (*chunk, *at_params))
        return ssql.merged(rows)

    async def add_subject_request(self, request: SubjectRequest, event: AuditEvent) -> None:
        def change(db: sqlite3.Connection) -> None:
            if db.execute(ssql.INSERT_REQUEST, ssql.request_values(request)).fetchone() is None:
                raise UsageError(f"request {request.ref!r} is recorded already")

        await self.audited(event, change)

    async def subject_request(self, ref: str) -> SubjectRequest | None:
        rows = await self.fetch(ssql.GET_REQUEST, (ref,))
        return ssql.request_of(rows[0]) if rows else None

    async def subject_requests(self) -> list[SubjectRequest]:
        return [ssql.request_of(r) for r in await self.fetch(ssql.LIST_REQUESTS)]

    async def answer_subject_request(self, ref: str, answered: str, event: AuditEvent) -> bool:
        def change(db: sqlite3.Connection) -> bool:
            return db.execute(ssql.ANSWER_REQUEST, (answered, ref)).rowcount > 0

        return await self.audited(event, change)

    async def add_disclosure(self, disclosure: Disclosure, event: AuditEvent) -> int:
        values = ssql.disclosure_values(disclosure)

        def change(db: sqlite3.Connection) -> int:
            return int(db.execute(ssql.INSERT_DISCLOSURE, values).fetchone()[0])

        return await self.audited(event, change)

    async def disclosures(self, limit: int) -> list[Disclosure]:
        return [ssql.disclosure_of(r) for r in await self.fetch(ssql.LIST_DISCLOSURES, (limit,))]


# The expression of the index audit_by_target (migration 6), spelt the same to be used.
TARGET = "json_extract(body, '$.target')"
