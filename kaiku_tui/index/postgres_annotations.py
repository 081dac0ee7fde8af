"""Notes, tags, cases, samples and scores in PostgreSQL (annotation_sql.py, shared with SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import asyncpg

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.errors import UsageError
from kaiku_tui.index import annotation_sql as asql
from kaiku_tui.index.postgres_core import (
    PostgresCore,
    affected,
)
from kaiku_tui.index.protocols import (
    Annotations,
)
from kaiku_tui.index.records import (
    StoredCase,
    StoredNote,
    StoredSample,
    StoredScore,
)

if TYPE_CHECKING:
    from kaiku_tui.index.postgres_core import Connection


class PostgresAnnotations(PostgresCore, Annotations):
    """`Annotations` on PostgreSQL."""

    async def add_note(self, note: StoredNote, event: AuditEvent) -> int:
        async def change(conn: Connection) -> int:
            try:
                return int(await conn.fetchval(_INSERT_NOTE, *asql.note_values(note)))
            except asyncpg.UniqueViolationError:
                raise UsageError(
                    f"note {note.note_id} has a version {note.version} already: "
                    "someone changed it meanwhile; read it again"
                ) from None

        return (await self.audited(event, change))[1]

    async def notes(self, record_id: int) -> list[StoredNote]:
        return [asql.note_of(tuple(r)) for r in await self.fetch(_NOTES_OF_RECORDING, record_id)]

    async def note_history(self, note_id: int) -> list[StoredNote]:
        return [asql.note_of(tuple(r)) for r in await self.fetch(_NOTE_HISTORY, note_id)]

    async def set_tag(self, record_id: int, tag: str, present: bool, event: AuditEvent) -> bool:
        statement = _ADD_TAG if present else _DELETE_TAG

        async def change(conn: Connection) -> bool:
            return affected(await conn.execute(statement, tag, record_id)) > 0

        return (await self.audited(event, change))[1]

    async def tag_counts(self, orgs: tuple[str, ...]) -> list[tuple[str, int]]:
        query, params = asql.tag_counts(orgs)
        return [(r[0], r[1]) for r in await self.fetch(asql.numbered(query), *params)]

    async def add_case(self, case: StoredCase, event: AuditEvent) -> int:
        async def change(conn: Connection) -> int:
            found = await conn.fetchval(_INSERT_CASE, *asql.case_values(case))
            if found is None:
                raise UsageError(f"case {case.ref!r} of {case.org} exists already")
            return int(found)

        return (await self.audited(event, change))[1]

    async def update_case(self, case: StoredCase, event: AuditEvent) -> None:
        values = (case.status, case.owner, case.findings_enc, case.resolution_enc, case.id)

        async def change(conn: Connection) -> None:
            if affected(await conn.execute(_UPDATE_CASE, *values)) == 0:
                raise UsageError(f"case {case.id} does not exist")

        await self.audited(event, change)

    async def link_case(self, case_id: int, record_ids: Sequence[int], event: AuditEvent) -> int:
        ids = list(dict.fromkeys(record_ids))

        async def change(conn: Connection) -> int:
            return affected(await conn.execute(_LINK_MANY, case_id, ids))

        return (await self.audited(event, change))[1]

    async def get_case(self, case_id: int) -> StoredCase | None:
        rows = await self.fetch(_GET_CASE, case_id)
        if not rows:
            return None
        records = await self.fetch(_CASE_RECORDS, case_id)
        return asql.case_of(tuple(rows[0]), [r[0] for r in records])

    async def list_cases(
        self, status: str | None, orgs: tuple[str, ...], *, before_id: int | None, limit: int
    ) -> list[StoredCase]:
        query, params = asql.list_cases(status, orgs, before_id, limit)
        return [asql.case_of(tuple(r)) for r in await self.fetch(asql.numbered(query), *params)]

    async def add_sample(self, sample: StoredSample, event: AuditEvent) -> int:
        async def change(conn: Connection) -> int:
            return int(await conn.fetchval(_INSERT_SAMPLE, *asql.sample_values(sample)))

        return (await self.audited(event, change))[1]

    async def get_sample(self, sample_id: int) -> StoredSample | None:
        rows = await self.fetch(_GET_SAMPLE, sample_id)
        return asql.sample_of(tuple(rows[0])) if rows else None

    async def samples(self, *, before_id: int | None, limit: int) -> list[StoredSample]:
        below = asql.NO_ID_ABOVE if before_id is None else before_id
        rows = await self.fetch(_LIST_SAMPLES, below, limit)
        return [asql.sample_of(tuple(r)) for r in rows]

    async def add_score(self, score: StoredScore, event: AuditEvent) -> None:
        async def change(conn: Connection) -> None:
            if affected(await conn.execute(_INSERT_SCORE, *asql.score_values(score))) == 0:
                raise UsageError(f"recording {score.record_id} of this sample is scored already")

        await self.audited(event, change)

    async def scores(self, sample_id: int) -> list[StoredScore]:
        return [asql.score_of(tuple(r)) for r in await self.fetch(_SCORES, sample_id)]


_INSERT_NOTE = asql.numbered(asql.INSERT_NOTE)
_NOTES_OF_RECORDING = asql.numbered(asql.NOTES_OF_RECORDING)
_NOTE_HISTORY = asql.numbered(asql.NOTE_HISTORY)
_ADD_TAG = asql.numbered(asql.ADD_TAG)
_DELETE_TAG = asql.numbered(asql.DELETE_TAG)
_INSERT_CASE = asql.numbered(asql.INSERT_CASE)
_UPDATE_CASE = asql.numbered(asql.UPDATE_CASE)
_GET_CASE = asql.numbered(asql.GET_CASE)
_CASE_RECORDS = asql.numbered(asql.CASE_RECORDS)
_LINK_MANY = (
    "INSERT INTO case_link (case_id, recording_id) SELECT $1, unnest($2::bigint[]) "
    "ON CONFLICT DO NOTHING"
)
_INSERT_SAMPLE = asql.numbered(asql.INSERT_SAMPLE)
_GET_SAMPLE = asql.numbered(asql.GET_SAMPLE)
_LIST_SAMPLES = asql.numbered(asql.LIST_SAMPLES)
_INSERT_SCORE = asql.numbered(asql.INSERT_SCORE)
_SCORES = asql.numbered(asql.SCORES)
