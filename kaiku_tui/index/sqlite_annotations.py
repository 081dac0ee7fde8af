"""Notes, tags, cases, samples and scores in SQLite (the SQL is annotation_sql.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.errors import UsageError
from kaiku_tui.index import annotation_sql as asql
from kaiku_tui.index.protocols import (
    Annotations,
)
from kaiku_tui.index.records import (
    StoredCase,
    StoredNote,
    StoredSample,
    StoredScore,
)
from kaiku_tui.index.sqlite_core import SqliteCore


class SqliteAnnotations(SqliteCore, Annotations):
    """`Annotations` on SQLite."""

    async def add_note(self, note: StoredNote, event: AuditEvent) -> int:
        values = asql.note_values(note)

        def change(db: sqlite3.Connection) -> int:
            try:
                return int(db.execute(asql.INSERT_NOTE, values).fetchone()[0])
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" not in str(exc):  # a foreign key: the recording is gone
                    raise
                raise UsageError(
                    f"note {note.note_id} has a version {note.version} already: "
                    "someone changed it meanwhile; read it again"
                ) from None

        return await self.audited(event, change)

    async def notes(self, record_id: int) -> list[StoredNote]:
        return [asql.note_of(r) for r in await self.fetch(asql.NOTES_OF_RECORDING, (record_id,))]

    async def note_history(self, note_id: int) -> list[StoredNote]:
        return [asql.note_of(r) for r in await self.fetch(asql.NOTE_HISTORY, (note_id,))]

    async def set_tag(self, record_id: int, tag: str, present: bool, event: AuditEvent) -> bool:
        statement = asql.ADD_TAG if present else asql.DELETE_TAG

        def change(db: sqlite3.Connection) -> bool:
            return db.execute(statement, (tag, record_id)).rowcount > 0

        return await self.audited(event, change)

    async def tag_counts(self, orgs: tuple[str, ...]) -> list[tuple[str, int]]:
        query, params = asql.tag_counts(orgs)
        return [(r[0], r[1]) for r in await self.fetch(query, params)]

    async def add_case(self, case: StoredCase, event: AuditEvent) -> int:
        values = asql.case_values(case)

        def change(db: sqlite3.Connection) -> int:
            row = db.execute(asql.INSERT_CASE, values).fetchone()
            if row is None:
                raise UsageError(f"case {case.ref!r} of {case.org} exists already")
            return int(row[0])

        return await self.audited(event, change)

    async def update_case(self, case: StoredCase, event: AuditEvent) -> None:
        values = (case.status, case.owner, case.findings_enc, case.resolution_enc, case.id)

        def change(db: sqlite3.Connection) -> None:
            if not db.execute(asql.UPDATE_CASE, values).rowcount:
                raise UsageError(f"case {case.id} does not exist")

        await self.audited(event, change)

    async def link_case(self, case_id: int, record_ids: Sequence[int], event: AuditEvent) -> int:
        pairs = [(case_id, r) for r in dict.fromkeys(record_ids)]

        def change(db: sqlite3.Connection) -> int:
            return sum(db.execute(asql.LINK, pair).rowcount for pair in pairs)

        return await self.audited(event, change)

    async def get_case(self, case_id: int) -> StoredCase | None:
        rows = await self.fetch(asql.GET_CASE, (case_id,))
        if not rows:
            return None
        records = await self.fetch(asql.CASE_RECORDS, (case_id,))
        return asql.case_of(rows[0], [r[0] for r in records])

    async def list_cases(
        self, status: str | None, orgs: tuple[str, ...], *, before_id: int | None, limit: int
    ) -> list[StoredCase]:
        query, params = asql.list_cases(status, orgs, before_id, limit)
        return [asql.case_of(r) for r in await self.fetch(query, params)]

    async def add_sample(self, sample: StoredSample, event: AuditEvent) -> int:
        values = asql.sample_values(sample)

        def change(db: sqlite3.Connection) -> int:
            return int(db.execute(asql.INSERT_SAMPLE, values).fetchone()[0])

        return await self.audited(event, change)

    async def get_sample(self, sample_id: int) -> StoredSample | None:
        rows = await self.fetch(asql.GET_SAMPLE, (sample_id,))
        return asql.sample_of(rows[0]) if rows else None

    async def samples(self, *, before_id: int | None, limit: int) -> list[StoredSample]:
        below = asql.NO_ID_ABOVE if before_id is None else before_id
        return [asql.sample_of(r) for r in await self.fetch(asql.LIST_SAMPLES, (below, limit))]

    async def add_score(self, score: StoredScore, event: AuditEvent) -> None:
        values = asql.score_values(score)

        def change(db: sqlite3.Connection) -> None:
            if not db.execute(asql.INSERT_SCORE, values).rowcount:
                raise UsageError(f"recording {score.record_id} of this sample is scored already")

        await self.audited(event, change)

    async def scores(self, sample_id: int) -> list[StoredScore]:
        return [asql.score_of(r) for r in await self.fetch(asql.SCORES, (sample_id,))]
