"""The audit log in PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.audit.format import MAX_SEQ
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.index import rowformat, sql
from kaiku_tui.index.postgres_core import (
    AUDIT_HEAD,
    DIALECT,
    PostgresCore,
)
from kaiku_tui.index.protocols import (
    AuditStore,
)
from kaiku_tui.index.records import (
    AuditRow,
)

if TYPE_CHECKING:
    from kaiku_tui.index.postgres_core import Connection


class PostgresAudit(PostgresCore, AuditStore):
    """`AuditStore` on PostgreSQL."""

    async def append_audit(self, event: AuditEvent) -> int:
        return (await self.audited(event, _no_change))[0]

    async def audit_rows(self, after_seq: int, limit: int) -> list[AuditRow]:
        rows = await self.fetch(_AUDIT_ROWS, after_seq, MAX_SEQ, limit)
        return [AuditRow(*r) for r in rows]

    async def audit_scan(
        self, after_seq: int = 0, until_seq: int | None = None, batch: int = 20_000
    ) -> AsyncGenerator[Sequence[AuditRow], None]:
        """Batches bounded by `until_seq` in SQL, each one fetch; the body comes as the
        bytea of its UTF-8 text, so the verifier gets the bytes that were hashed."""
        last = MAX_SEQ if until_seq is None else until_seq
        while rows := await self.fetch(_AUDIT_ROWS, after_seq, last, batch):
            yield [AuditRow(*r) for r in rows]
            after_seq = rows[-1][0]

    async def audit_bodies(self, query: AuditQuery) -> list[bytes]:
        q = sql.Query(DIALECT)
        terms = [] if query.since is None else [f"at >= {q.p(rowformat.since_text(query.since))}"]
        terms += [
            f"{column} = {q.p(value)}"
            for column in ("actor", "action")
            if (value := getattr(query, column)) is not None
        ]
        cond = " AND ".join(terms) or "true"
        rows = await self.fetch(
            "SELECT convert_to(body, 'UTF8') FROM (SELECT seq, body FROM audit_event "
            f"WHERE {cond} ORDER BY seq DESC LIMIT {q.p(query.limit)}) AS e ORDER BY seq",
            *q.params,
        )
        return [r[0] for r in rows]

    async def audit_head(self) -> tuple[int, bytes] | None:
        rows = await self.fetch(AUDIT_HEAD)
        return (rows[0][0], rows[0][1]) if rows else None

    async def cut_audit(self, upto: int, upto_hash: bytes, event: AuditEvent) -> int:
        """Through `kaiku_audit_cut` (migration 7), the one door past the application
        role's missing DELETE privilege: it checks the caller, the row and its hash."""

        async def change(conn: Connection) -> int:
            return int(await conn.fetchval("SELECT kaiku_audit_cut($1, $2)", upto, upto_hash))

        return (await self.audited(event, change))[1]


async def _no_change(conn: Connection) -> None:
    """The change of an audit event on its own."""


_AUDIT_ROWS = (
    "SELECT seq, convert_to(body, 'UTF8'), prev_hash, hash, mac FROM audit_event "
    "WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
)
