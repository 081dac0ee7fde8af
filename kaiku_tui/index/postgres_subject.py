"""Data subjects' rights in PostgreSQL (the SQL is subject_sql.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.domain.subject import Disclosure, SubjectRequest
from kaiku_tui.errors import UsageError
from kaiku_tui.index import annotation_sql as asql
from kaiku_tui.index import rowformat
from kaiku_tui.index import subject_sql as ssql
from kaiku_tui.index.postgres_core import (
    DIALECT,
    PostgresCore,
    affected,
)
from kaiku_tui.index.protocols import (
    SubjectStore,
)
from kaiku_tui.index.records import (
    StoredRecording,
)

if TYPE_CHECKING:
    from kaiku_tui.index.postgres_core import Connection


class PostgresSubject(PostgresCore, SubjectStore):
    """`SubjectStore` on PostgreSQL."""

    async def recordings_of_subject(
        self, phone_bidx: bytes, orgs: tuple[str, ...]
    ) -> list[StoredRecording]:
        query = asql.numbered(
            f"SELECT {DIALECT.summary}, {rowformat.STORED_COLUMNS} FROM recording r "
            f"{ssql.SUBJECT_WHERE}{ssql.org_terms(orgs)}{ssql.SUBJECT_ORDER}"
        )
        return [rowformat.stored_of(tuple(r)) for r in await self.fetch(query, phone_bidx, *orgs)]

    async def subject_events(
        self,
        subject: str | None,
        targets: Sequence[str],
        *,
        since: int | None = None,
        until: int | None = None,
    ) -> list[tuple[int, bytes]]:
        at, at_params = ssql.at_terms(since, until)
        body = "convert_to(body, 'UTF8')"
        rows: list[Any] = []
        if subject is not None:
            query = asql.numbered(ssql.events_by_subject(body, at))
            rows += await self.fetch(query, subject, *at_params)
        if targets:
            query = asql.numbered(ssql.events_by_target(body, TARGET, "= ANY(?::text[])", at))
            rows += await self.fetch(query, list(targets), *at_params)
        return ssql.merged(rows)

    async def revealing_events(
        self, names: Sequence[str], *, since: int | None = None, until: int | None = None
    ) -> list[tuple[int, bytes]]:
        if not names:
            return []
        at, at_params = ssql.at_terms(since, until)
        query = asql.numbered(ssql.REVEALING_POSTGRES + at).replace("ANY_OF", "?|")
        rows: list[Any] = await self.fetch(query, list(names), *at_params)
        return ssql.merged(rows)

    async def add_subject_request(self, request: SubjectRequest, event: AuditEvent) -> None:
        async def change(conn: Connection) -> None:
            if await conn.fetchval(_INSERT_REQUEST, *ssql.request_values(request)) is None:
                raise UsageError(f"request {request.ref!r} is recorded already")

        await self.audited(event, change)

    async def subject_request(self, ref: str) -> SubjectRequest | None:
        rows = await self.fetch(_GET_REQUEST, ref)
        return ssql.request_of(tuple(rows[0])) if rows else None

    async def subject_requests(self) -> list[SubjectRequest]:
        return [ssql.request_of(tuple(r)) for r in await self.fetch(ssql.LIST_REQUESTS)]

    async def answer_subject_request(self, ref: str, answered: str, event: AuditEvent) -> bool:
        async def change(conn: Connection) -> bool:
            return affected(await conn.execute(_ANSWER_REQUEST, answered, ref)) > 0

        return (await self.audited(event, change))[1]

    async def add_disclosure(self, disclosure: Disclosure, event: AuditEvent) -> int:
        async def change(conn: Connection) -> int:
            values = ssql.disclosure_values(disclosure)
            return int(await conn.fetchval(_INSERT_DISCLOSURE, *values))

        return (await self.audited(event, change))[1]

    async def disclosures(self, limit: int) -> list[Disclosure]:
        rows = await self.fetch(_LIST_DISCLOSURES, limit)
        return [ssql.disclosure_of(tuple(r)) for r in rows]


_INSERT_REQUEST = asql.numbered(ssql.INSERT_REQUEST)
_GET_REQUEST = asql.numbered(ssql.GET_REQUEST)
_ANSWER_REQUEST = asql.numbered(ssql.ANSWER_REQUEST)
_INSERT_DISCLOSURE = asql.numbered(ssql.INSERT_DISCLOSURE)
_LIST_DISCLOSURES = asql.numbered(ssql.LIST_DISCLOSURES)
# The expression of the index audit_by_target (migration 6), spelt the same to be used.
TARGET = "(audit_json(body) ->> 'target')"
