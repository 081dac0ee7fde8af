"""The embedded index: SQLite in WAL mode, one read connection and one write connection.

Reads go through aiosqlite, one `execute_fetchall` per page (each call costs a
thread hop, ~0.06 ms here). Writes run as one plain function per transaction
on a dedicated writer thread: BEGIN IMMEDIATE, the audit event, the change,
COMMIT — a single hop, and no `await` while SQLite's write lock is held, so
another process waits for microseconds, not for our event loop. That is what
makes ≥ 2,000 durable audited actions a second possible (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from kaiku_tui.audit.chain import GENESIS, AuditEvent, canonical_body, seal
from kaiku_tui.audit.cut import CUT_INFO, Cut
from kaiku_tui.domain.access import Person
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.retention import Hold, Tombstone
from kaiku_tui.domain.subject import Disclosure, SubjectRequest
from kaiku_tui.errors import AuditFailure, NotFound, StoreError, UsageError
from kaiku_tui.index import annotation_sql as asql
from kaiku_tui.index import retention_sql as rsql
from kaiku_tui.index import rowformat, sql, transfer
from kaiku_tui.index import subject_sql as ssql
from kaiku_tui.index.base import (
    AddResult,
    AuditRow,
    DueRecording,
    Export,
    Index,
    Row,
    StoredCase,
    StoredNote,
    StoredOrg,
    StoredRecording,
    StoredSample,
    StoredScore,
    StoredTombstone,
)
from kaiku_tui.index.browsing import SqlBrowse
from kaiku_tui.index.sqlite_schema import MIGRATIONS

T = TypeVar("T")
DIALECT = sql.Dialect(indexed_by=True)


class SqliteIndex(SqlBrowse, Index):
    """Open with `await SqliteIndex.open(path, mac_key)`; close with `await index.close()`."""

    dialect = DIALECT

    def __init__(
        self,
        path: Path,
        readers: tuple[aiosqlite.Connection, aiosqlite.Connection],
        writer: _Writer,
    ) -> None:
        self.location = str(path)
        self._reader, self._slow_reader = readers
        self._writer = writer

    @classmethod
    async def open(
        cls, path: Path, mac_key: bytes, *, busy_timeout_ms: int = 5000, create: bool = False
    ) -> SqliteIndex:
        if not create and not path.exists():
            raise StoreError(f"index {path} does not exist (run 'kaiku-tui init')")
        writer = _Writer(path, mac_key, busy_timeout_ms)
        readers: list[aiosqlite.Connection] = []
        try:
            await writer.run(_migrate)
            for _ in range(2):
                readers.append(await _reader(path, busy_timeout_ms))
        except BaseException as exc:
            for reader in readers:
                await reader.close()
            await writer.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"index {path}: {exc}") from None
            raise
        return cls(path, (readers[0], readers[1]), writer)

    async def close(self) -> None:
        try:
            await self._reader.close()
            await self._slow_reader.close()
        finally:
            await self._writer.close()

    async def _fetch(self, query: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        try:
            return list(await self._reader.execute_fetchall(query, params))
        except sqlite3.Error as exc:
            raise StoreError(f"index {self.location}: {exc}") from None

    async def _rows(self, query: sql.Query) -> list[sqlite3.Row]:
        return await self._fetch(query.sql, query.params)

    async def _slow_rows(self, query: sql.Query) -> list[sqlite3.Row]:
        """On the second reader; a caller that gives up (a cancelled worker) interrupts
        the query, so the next one does not wait for a count nobody reads."""
        try:
            return list(await self._slow_reader.execute_fetchall(query.sql, query.params))
        except asyncio.CancelledError:
            await self._slow_reader.interrupt()
            raise
        except sqlite3.Error as exc:
            raise StoreError(f"index {self.location}: {exc}") from None

    # -- audit ------------------------------------------------------------------

    async def append_audit(self, event: AuditEvent) -> int:
        return await self._writer.audited(event, None)

    async def audit_rows(self, after_seq: int, limit: int) -> list[AuditRow]:
        rows = await self._fetch(_AUDIT_ROWS, (after_seq, limit))
        return [AuditRow(*r) for r in rows]

    async def audit_scan(
        self, after_seq: int = 0, until_seq: int | None = None, batch: int = 20_000
    ) -> AsyncGenerator[Sequence[AuditRow], None]:
        """Rows as plain tuples from a connection of its own that reads text as bytes:
        no per-row conversion, about a million rows a second. (Reading the next batch
        ahead on a thread was measured slower: the two threads fight for the GIL.)"""
        last = HIGHEST_SEQ if until_seq is None else until_seq
        db = await asyncio.to_thread(_scan_connection, self.location)
        try:
            while rows := await asyncio.to_thread(_scan_batch, db, after_seq, last, batch):
                yield rows
                after_seq = rows[-1][0]
        finally:
            await asyncio.to_thread(db.close)

    async def audit_bodies(self, query: AuditQuery) -> list[bytes]:
        terms, params = [], []
        if query.since is not None:
            terms.append("at >= ?")
            params.append(rowformat.since_text(query.since))
        for column in ("actor", "action"):
            value = getattr(query, column)
            if value is not None:
                terms.append(f"{column} = ?")
                params.append(value)
        cond = " AND ".join(terms) or "1 = 1"
        rows = await self._fetch(
            f"SELECT CAST(body AS BLOB) FROM (SELECT seq, body FROM audit_event WHERE {cond} "
            "ORDER BY seq DESC LIMIT ?) ORDER BY seq",
            (*params, query.limit),
        )
        return [r[0] for r in rows]

    async def audit_head(self) -> tuple[int, bytes] | None:
        rows = await self._fetch(_AUDIT_HEAD)
        return (rows[0][0], rows[0][1]) if rows else None

    async def cut_audit(self, upto: int, upto_hash: bytes, event: AuditEvent) -> int:
        marker = Cut(upto, upto_hash).marker

        def change(db: sqlite3.Connection) -> int:
            row = db.execute("SELECT hash FROM audit_event WHERE seq = ?", (upto,)).fetchone()
            if row is None or bytes(row[0]) != upto_hash:
                raise StoreError(f"audit seq {upto} with the verified hash is not in the log")
            db.execute(
                "INSERT INTO register_info (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (CUT_INFO, marker),
            )  # first: the trigger lets rows go only up to the recorded cut
            db.execute("DELETE FROM audit_revealed WHERE seq <= ?", (upto,))  # migration 9
            return db.execute("DELETE FROM audit_event WHERE seq <= ?", (upto,)).rowcount

        return await self._writer.audited(event, change)

    # -- the register itself ------------------------------------------------------

    async def get_info(self, name: str) -> str | None:
        rows = await self._fetch("SELECT value FROM register_info WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    async def put_info(self, name: str, value: str, event: AuditEvent) -> None:
        def change(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO register_info (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

        await self._writer.audited(event, change)

    async def rewrap_org_keys(
        self, wrapped: Sequence[tuple[str, bytes]], master_key_id: str, event: AuditEvent
    ) -> None:
        def change(db: sqlite3.Connection) -> None:
            for code, key in wrapped:
                done = db.execute(
                    "UPDATE organisation SET wrapped_key = ?, master_key_id = ? "
                    "WHERE code = ? AND wrapped_key IS NOT NULL",
                    (key, master_key_id, code),
                )
                if done.rowcount != 1:
                    raise StoreError(f"organisation {code}: its key could not be re-wrapped")
            db.execute(
                "UPDATE register_info SET value = ? WHERE name = 'master_key_id'",
                (master_key_id,),
            )

        await self._writer.audited(event, change)

    # -- persons and organisations ----------------------------------------------

    async def get_person(self, login: str) -> Person | None:
        rows = await self._fetch(
            f"SELECT {rowformat.PERSON_COLUMNS} FROM person WHERE login = ?", (login,)
        )
        return rowformat.person_of(rows[0]) if rows else None

    async def list_persons(self) -> list[Person]:
        rows = await self._fetch(f"SELECT {rowformat.PERSON_COLUMNS} FROM person ORDER BY login")
        return [rowformat.person_of(r) for r in rows]

    async def put_person(self, person: Person, event: AuditEvent, *, new: bool) -> None:
        values = rowformat.person_values(person)

        def change(db: sqlite3.Connection) -> None:
            if new:
                _insert_new(
                    db,
                    "INSERT INTO person (display_name, roles, orgs, active, login) "
                    "VALUES (?, ?, ?, ?, ?)",
                    values,
                    f"person {person.login!r} exists already",
                )
            elif not db.execute(
                "UPDATE person SET display_name = ?, roles = ?, orgs = ?, active = ? "
                "WHERE login = ?",
                values,
            ).rowcount:
                raise UsageError(f"person {person.login!r} does not exist")

        await self._writer.audited(event, change)

    async def add_org(self, org: StoredOrg, event: AuditEvent) -> None:
        o = org.org
        values = (
            o.code,
            o.name,
            _date_text(o.contract_start),
            _date_text(o.contract_end),
            o.retention_days,
            org.wrapped_key,
            org.master_key_id,
        )

        def change(db: sqlite3.Connection) -> None:
            _insert_new(
                db,
                "INSERT INTO organisation (code, name, contract_start, contract_end, "
                "retention_days, wrapped_key, master_key_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                values,
                f"organisation {o.code!r} exists already",
            )

        await self._writer.audited(event, change)

    async def get_org(self, code: str) -> StoredOrg | None:
        rows = await self._fetch(f"{_ORG_SELECT} WHERE code = ?", (code,))
        return _org(rows[0]) if rows else None

    async def list_orgs(self) -> list[StoredOrg]:
        return [_org(r) for r in await self._fetch(f"{_ORG_SELECT} ORDER BY code")]

    # -- recordings ---------------------------------------------------------------

    async def add_recordings(self, rows: Sequence[StoredRecording], event: AuditEvent) -> AddResult:
        values = [(rowformat.recording_values(r), r.summary.tags) for r in rows]

        def change(db: sqlite3.Connection) -> AddResult:
            added = 0
            floor = _tombstone_floor(db)
            for row, tags in values:
                if floor is None:
                    inserted = db.execute(_INSERT_RECORDING, row)
                else:  # past every destroyed id: an id names one recording, ever
                    inserted = db.execute(_INSERT_RECORDING_WITH_ID, (floor + 1, *row))
                if inserted.rowcount == 1:  # a duplicate is skipped, tags and all
                    added += 1
                    floor = None
                    db.executemany(_INSERT_TAG, [(t, inserted.lastrowid) for t in tags])
            return AddResult(added, len(values) - added)

        return await self._writer.audited(event, change)

    async def get_recording(self, record_id: int) -> StoredRecording | None:
        rows = await self._fetch(
            f"SELECT {sql.SUMMARY_COLUMNS}, {rowformat.STORED_COLUMNS} FROM recording r "
            "WHERE r.id = ?",
            (record_id,),
        )
        return rowformat.stored_of(rows[0]) if rows else None

    async def recordings_kept(self, record_ids: Sequence[int], destroyed_since: int) -> set[int]:
        ids = json.dumps(list(record_ids))
        rows = await self._fetch(
            "SELECT id FROM recording WHERE id IN (SELECT value FROM json_each(?)) UNION "
            "SELECT id FROM tombstone WHERE id IN (SELECT value FROM json_each(?)) "
            "AND destroyed_at >= ?",
            (ids, ids, destroyed_since),
        )
        return {int(r[0]) for r in rows}

    async def known_sources(self, org: str, source_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        ids = list(dict.fromkeys(source_ids))
        for start in range(0, len(ids), _IN_CHUNK):  # SQLite limits bound parameters
            chunk = ids[start : start + _IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = await self._fetch(
                f"SELECT source_id FROM recording WHERE org = ? AND source_id IN ({marks})",
                (org, *chunk),
            )
            found.update(r[0] for r in rows)
        return found

    # -- annotations ------------------------------------------------------------------

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

        return await self._writer.audited(event, change)

    async def notes(self, record_id: int) -> list[StoredNote]:
        return [asql.note_of(r) for r in await self._fetch(asql.NOTES_OF_RECORDING, (record_id,))]

    async def note_history(self, note_id: int) -> list[StoredNote]:
        return [asql.note_of(r) for r in await self._fetch(asql.NOTE_HISTORY, (note_id,))]

    async def set_tag(self, record_id: int, tag: str, present: bool, event: AuditEvent) -> bool:
        statement = asql.ADD_TAG if present else asql.DELETE_TAG

        def change(db: sqlite3.Connection) -> bool:
            return db.execute(statement, (tag, record_id)).rowcount > 0

        return await self._writer.audited(event, change)

    async def tag_counts(self, orgs: tuple[str, ...]) -> list[tuple[str, int]]:
        query, params = asql.tag_counts(orgs)
        return [(r[0], r[1]) for r in await self._fetch(query, params)]

    async def add_case(self, case: StoredCase, event: AuditEvent) -> int:
        values = asql.case_values(case)

        def change(db: sqlite3.Connection) -> int:
            row = db.execute(asql.INSERT_CASE, values).fetchone()
            if row is None:
                raise UsageError(f"case {case.ref!r} of {case.org} exists already")
            return int(row[0])

        return await self._writer.audited(event, change)

    async def update_case(self, case: StoredCase, event: AuditEvent) -> None:
        values = (case.status, case.owner, case.findings_enc, case.resolution_enc, case.id)

        def change(db: sqlite3.Connection) -> None:
            if not db.execute(asql.UPDATE_CASE, values).rowcount:
                raise UsageError(f"case {case.id} does not exist")

        await self._writer.audited(event, change)

    async def link_case(self, case_id: int, record_ids: Sequence[int], event: AuditEvent) -> int:
        pairs = [(case_id, r) for r in dict.fromkeys(record_ids)]

        def change(db: sqlite3.Connection) -> int:
            return sum(db.execute(asql.LINK, pair).rowcount for pair in pairs)

        return await self._writer.audited(event, change)

    async def get_case(self, case_id: int) -> StoredCase | None:
        rows = await self._fetch(asql.GET_CASE, (case_id,))
        if not rows:
            return None
        records = await self._fetch(asql.CASE_RECORDS, (case_id,))
        return asql.case_of(rows[0], [r[0] for r in records])

    async def list_cases(
        self, status: str | None, orgs: tuple[str, ...], *, before_id: int | None, limit: int
    ) -> list[StoredCase]:
        query, params = asql.list_cases(status, orgs, before_id, limit)
        return [asql.case_of(r) for r in await self._fetch(query, params)]

    async def add_sample(self, sample: StoredSample, event: AuditEvent) -> int:
        values = asql.sample_values(sample)

        def change(db: sqlite3.Connection) -> int:
            return int(db.execute(asql.INSERT_SAMPLE, values).fetchone()[0])

        return await self._writer.audited(event, change)

    async def get_sample(self, sample_id: int) -> StoredSample | None:
        rows = await self._fetch(asql.GET_SAMPLE, (sample_id,))
        return asql.sample_of(rows[0]) if rows else None

    async def samples(self, *, before_id: int | None, limit: int) -> list[StoredSample]:
        below = asql.NO_ID_ABOVE if before_id is None else before_id
        return [asql.sample_of(r) for r in await self._fetch(asql.LIST_SAMPLES, (below, limit))]

    async def add_score(self, score: StoredScore, event: AuditEvent) -> None:
        values = asql.score_values(score)

        def change(db: sqlite3.Connection) -> None:
            if not db.execute(asql.INSERT_SCORE, values).rowcount:
                raise UsageError(f"recording {score.record_id} of this sample is scored already")

        await self._writer.audited(event, change)

    async def scores(self, sample_id: int) -> list[StoredScore]:
        return [asql.score_of(r) for r in await self._fetch(asql.SCORES, (sample_id,))]

    # -- retention and legal holds ------------------------------------------------------

    async def set_org_rule(
        self, code: str, contract_end: date | None, retention_days: int | None, event: AuditEvent
    ) -> None:
        values = (_date_text(contract_end), retention_days, code)

        def change(db: sqlite3.Connection) -> None:
            if not db.execute(rsql.SET_ORG_RULE, values).rowcount:
                raise NotFound(f"organisation {code!r} does not exist")

        await self._writer.audited(event, change)

    async def retention_count(self, org: str, started_from: int, started_before: int) -> int:
        rows = await self._fetch(rsql.COUNT_RANGE, (org, started_from, started_before))
        return int(rows[0][0])

    async def retention_rows(
        self, org: str, started_before: int, after: tuple[int, int] | None, limit: int
    ) -> list[DueRecording]:
        if after is None:
            rows = await self._fetch(rsql.DUE_FIRST, (org, started_before, limit))
        else:
            params = (org, started_before, after[0], after[0], after[1], limit)
            rows = await self._fetch(rsql.DUE_AFTER, params)
        return [rsql.due_of(r) for r in rows]

    async def held(self, org: str) -> list[tuple[int, Hold]]:
        rows = await self._fetch(rsql.HELD_IN_ORG, (org, org))
        return [(r[0], rsql.hold_of(r[1:])) for r in rows]

    async def holds_on(self, record_id: int) -> list[Hold]:
        return [rsql.hold_of(r) for r in await self._fetch(rsql.HOLDS_ON, (record_id, record_id))]

    async def add_hold(self, hold: Hold, event: AuditEvent) -> int:
        values = rsql.hold_values(hold)

        def change(db: sqlite3.Connection) -> int:
            return int(db.execute(rsql.INSERT_HOLD, values).fetchone()[0])

        return await self._writer.audited(event, change)

    async def get_hold(self, hold_id: int) -> Hold | None:
        rows = await self._fetch(rsql.GET_HOLD, (hold_id,))
        return rsql.hold_of(rows[0]) if rows else None

    async def release_hold(self, hold_id: int, by: str, at: int, event: AuditEvent) -> None:
        def change(db: sqlite3.Connection) -> None:
            if not db.execute(rsql.RELEASE_HOLD, (by, at, hold_id)).rowcount:
                raise UsageError(f"hold {hold_id} does not exist or is released already")

        await self._writer.audited(event, change)

    async def list_holds(self, *, active_only: bool) -> list[Hold]:
        query = rsql.ACTIVE_HOLDS if active_only else rsql.ALL_HOLDS
        return [rsql.hold_of(r) for r in await self._fetch(query)]

    async def purge(
        self,
        tombstones: Sequence[StoredTombstone],
        events: Sequence[AuditEvent],
        blobs_gone: Sequence[int],
    ) -> None:
        ids = [t.tombstone.id for t in tombstones]
        values = [rsql.tombstone_values(t) for t in tombstones]

        def change(db: sqlite3.Connection) -> None:
            _clear_blob_refs(db, blobs_gone)
            if not ids:
                return
            listed = _in_list(len(ids))
            held = db.execute(rsql.held_among(listed), (*ids, *ids)).fetchall()
            if held:
                raise StoreError(f"recording {held[0][0]} was put on hold meanwhile")
            db.executemany(rsql.INSERT_TOMBSTONE, values)
            for statement in rsql.purge_statements(listed):
                db.execute(statement, ids)
            if db.execute(rsql.delete_recordings(listed), ids).rowcount != len(ids):
                raise StoreError("a recording of the batch is gone already (another purge?)")

        await self._writer.audited_all(events, change)

    async def blobs_gone(self, record_ids: Sequence[int], event: AuditEvent) -> None:
        await self._writer.audited(event, lambda db: _clear_blob_refs(db, record_ids))

    async def pending_blobs(self, limit: int) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in await self._fetch(rsql.PENDING_BLOBS, (limit,))]

    async def tombstone(self, record_id: int) -> Tombstone | None:
        rows = await self._fetch(rsql.TOMBSTONE, (record_id,))
        return rsql.tombstone_of(rows[0]) if rows else None

    async def shred_org(self, code: str, event: AuditEvent) -> None:
        def change(db: sqlite3.Connection) -> None:
            if db.execute(rsql.ANY_LEFT, (code,)).fetchone() is not None:
                raise StoreError(f"organisation {code} still has recordings: its key stays")
            if not db.execute(rsql.SHRED_ORG, (code,)).rowcount:
                raise StoreError(f"organisation {code}: no key to destroy")
            db.execute(rsql.SHRED_CASES, (code,))
            db.execute(rsql.UPSERT_REKEY, (rsql.REKEY,))

        await self._writer.audited(event, change)

    # -- data subjects' rights (subject_sql.py) ------------------------------------------

    async def recordings_of_subject(
        self, phone_bidx: bytes, orgs: tuple[str, ...]
    ) -> list[StoredRecording]:
        query = (
            f"SELECT {sql.SUMMARY_COLUMNS}, {rowformat.STORED_COLUMNS} FROM recording r "
            f"{ssql.SUBJECT_WHERE}{ssql.org_terms(orgs)}{ssql.SUBJECT_ORDER}"
        )
        return [rowformat.stored_of(r) for r in await self._fetch(query, (phone_bidx, *orgs))]

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
            rows += await self._fetch(ssql.events_by_subject(body, at), (subject, *at_params))
        for i in range(0, len(targets), ssql.TARGETS_PER_QUERY):
            chunk = targets[i : i + ssql.TARGETS_PER_QUERY]
            marks = f"IN ({', '.join('?' * len(chunk))})"
            query = ssql.events_by_target(body, _TARGET, marks, at)
            rows += await self._fetch(query, (*chunk, *at_params))
        return ssql.merged(rows)

    async def revealing_events(
        self, names: Sequence[str], *, since: int | None = None, until: int | None = None
    ) -> list[tuple[int, bytes]]:
        at, at_params = ssql.at_terms(since, until)
        rows: list[Any] = []
        for i in range(0, len(names), ssql.TARGETS_PER_QUERY):
            chunk = names[i : i + ssql.TARGETS_PER_QUERY]
            marks = ", ".join("?" * len(chunk))
            rows += await self._fetch(ssql.revealing_sqlite(marks, at), (*chunk, *at_params))
        return ssql.merged(rows)

    async def add_subject_request(self, request: SubjectRequest, event: AuditEvent) -> None:
        def change(db: sqlite3.Connection) -> None:
            if db.execute(ssql.INSERT_REQUEST, ssql.request_values(request)).fetchone() is None:
                raise UsageError(f"request {request.ref!r} is recorded already")

        await self._writer.audited(event, change)

    async def subject_request(self, ref: str) -> SubjectRequest | None:
        rows = await self._fetch(ssql.GET_REQUEST, (ref,))
        return ssql.request_of(rows[0]) if rows else None

    async def subject_requests(self) -> list[SubjectRequest]:
        return [ssql.request_of(r) for r in await self._fetch(ssql.LIST_REQUESTS)]

    async def answer_subject_request(self, ref: str, answered: str, event: AuditEvent) -> bool:
        def change(db: sqlite3.Connection) -> bool:
            return db.execute(ssql.ANSWER_REQUEST, (answered, ref)).rowcount > 0

        return await self._writer.audited(event, change)

    async def add_disclosure(self, disclosure: Disclosure, event: AuditEvent) -> int:
        values = ssql.disclosure_values(disclosure)

        def change(db: sqlite3.Connection) -> int:
            return int(db.execute(ssql.INSERT_DISCLOSURE, values).fetchone()[0])

        return await self._writer.audited(event, change)

    async def disclosures(self, limit: int) -> list[Disclosure]:
        return [ssql.disclosure_of(r) for r in await self._fetch(ssql.LIST_DISCLOSURES, (limit,))]

    # -- copying a whole register -----------------------------------------------------

    @asynccontextmanager
    async def export(self) -> AsyncIterator[Export]:
        """A read transaction on a connection of its own: WAL keeps its snapshot while
        other processes go on writing (the WAL grows until it ends)."""
        db = await asyncio.to_thread(_snapshot_connection, self.location)
        try:
            yield _SqliteExport(db, self.location)
        finally:
            await asyncio.to_thread(db.close)

    async def import_rows(self, table: str, rows: Sequence[Row]) -> None:
        t = transfer.table(table)
        if t is transfer.REGISTER_INFO:
            statement = transfer.upsert_info(_qmark)
        else:
            marks = ", ".join("?" * len(t.columns))
            statement = f"INSERT INTO {t.name} ({t.column_list}) VALUES ({marks})"
        values = [transfer.to_sqlite(t, r) for r in rows]
        await self._write(lambda db: db.executemany(statement, values))

    async def finish_import(self, drop_info: str, facts: Sequence[Row]) -> None:
        def finish(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM register_info WHERE name = ?", (drop_info,))
            db.executemany(transfer.upsert_info(_qmark), facts)

        await self._write(finish)  # an INTEGER PRIMARY KEY goes on from the largest id

    async def _write(self, change: Callable[[sqlite3.Connection], object]) -> None:
        """One unaudited transaction (a copy's batch) on the writer thread."""

        def run(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                change(db)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

        try:
            await self._writer.run(run)
        except sqlite3.Error as exc:
            raise StoreError(f"index {self.location}: the copy was refused ({exc})") from None


class _SqliteExport(Export):
    def __init__(self, db: sqlite3.Connection, location: str) -> None:
        self._db = db
        self._location = location

    async def rows(self, table: str, after: Row | None, limit: int) -> list[Row]:
        t = transfer.table(table)
        return await transfer.batch(self._fetch(t), t, _qmark, after, limit)

    async def last(self, table: str) -> Row | None:
        t = transfer.table(table)
        found = await self._fetch(t)(transfer.queries(t, _qmark)[3], ())
        return found[0] if found else None

    def _fetch(self, t: transfer.Table) -> transfer.Fetch:
        async def fetch(query: str, params: Sequence[object]) -> list[Row]:
            try:
                rows = await asyncio.to_thread(_fetchall, self._db, query, params)
            except sqlite3.Error as exc:
                raise StoreError(f"index {self._location}: reading {t.name} ({exc})") from None
            return [transfer.from_sqlite(t, r) for r in rows]

        return fetch


def _fetchall(db: sqlite3.Connection, query: str, params: Sequence[object]) -> list[Any]:
    return db.execute(query, params).fetchall()


def _qmark(n: int) -> str:
    return "?"


def _snapshot_connection(location: str) -> sqlite3.Connection:
    db = sqlite3.connect(
        f"file:{location}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    db.execute("BEGIN")
    db.execute("SELECT count(*) FROM register_info").fetchone()  # the snapshot starts here
    return db


class _Writer:
    """The write connection, on its own thread; each transaction is one function call."""

    def __init__(self, path: Path, mac_key: bytes, busy_timeout_ms: int) -> None:
        self._path = path
        self._mac_key = mac_key
        self._busy_timeout_ms = busy_timeout_ms
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="kaiku-sqlite-writer")
        self._db: sqlite3.Connection | None = None

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._db is None:
            self._db = _connect(self._path, self._busy_timeout_ms)
        return fn(self._db)

    async def close(self) -> None:
        def shut(db: sqlite3.Connection) -> None:
            db.close()

        if self._db is not None:
            await self.run(shut)
            self._db = None
        self._pool.shutdown(wait=True)

    async def audited(
        self, event: AuditEvent, change: Callable[[sqlite3.Connection], T] | None
    ) -> T:
        """One transaction: the audit event, then the change; both commit or neither."""
        return await self.run(lambda db: self._transaction(db, (event,), change))

    async def audited_all(
        self, events: Sequence[AuditEvent], change: Callable[[sqlite3.Connection], T]
    ) -> T:
        """One transaction: several events (one per recording of a purge), then the change."""
        return await self.run(lambda db: self._transaction(db, events, change))

    def _transaction(
        self,
        db: sqlite3.Connection,
        events: Sequence[AuditEvent],
        change: Callable[[sqlite3.Connection], T] | None,
    ) -> Any:
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise AuditFailure(f"audit log {self._path}: cannot start a write ({exc})") from None
        try:
            seq = 0
            for event in events:
                seq = self._append(db, event)
            result = change(db) if change is not None else seq
            db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"index {self._path}: the change was refused ({exc})") from None
            raise
        return result

    def _append(self, db: sqlite3.Connection, event: AuditEvent) -> int:
        try:
            head = db.execute(_AUDIT_HEAD)
            last = head.fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            row = seal(seq, prev, canonical_body(seq, event), self._mac_key)
            db.execute(
                "INSERT INTO audit_event (seq, body, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?)",
                (seq, row.body.decode("utf-8"), row.prev_hash, row.hash, row.mac),
            )
        except sqlite3.Error as exc:
            raise AuditFailure(
                f"audit log {self._path}: the event could not be written ({exc}); "
                "nothing was changed or shown"
            ) from None
        return seq


HIGHEST_SEQ = 2**63 - 1
# The last row of the table's own b-tree. NOT INDEXED: with statistics taken when
# the log was small, SQLite walked audit_by_actor and sorted (378 ms at 1 M rows).
_AUDIT_HEAD = "SELECT seq, hash FROM audit_event NOT INDEXED ORDER BY seq DESC LIMIT 1"
_AUDIT_ROWS = (
    "SELECT seq, CAST(body AS BLOB), prev_hash, hash, mac FROM audit_event "
    "WHERE seq > ? ORDER BY seq LIMIT ?"
)


async def _reader(path: Path, busy_timeout_ms: int) -> aiosqlite.Connection:
    reader = await aiosqlite.connect(path, isolation_level=None)
    await reader.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    await reader.execute("PRAGMA query_only = 1")
    return reader


def _scan_connection(location: str) -> sqlite3.Connection:
    db = sqlite3.connect(f"file:{location}?mode=ro", uri=True, check_same_thread=False)
    db.text_factory = bytes  # the body as the bytes that were hashed
    return db


def _scan_batch(db: sqlite3.Connection, after_seq: int, last: int, batch: int) -> list[Any]:
    query = (
        "SELECT seq, body, prev_hash, hash, mac FROM audit_event "
        "WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"
    )
    try:
        return db.execute(query, (after_seq, last, batch)).fetchall()
    except sqlite3.Error as exc:
        raise StoreError(f"audit log: reading after seq {after_seq} failed ({exc})") from None


def _connect(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    if db.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
        raise StoreError(f"index {path}: cannot switch to WAL mode")
    db.execute("PRAGMA synchronous = FULL")  # an audit event is durable before it is acted on
    db.execute("PRAGMA foreign_keys = ON")
    # Deleted content is overwritten with zeros, not left in free pages: a purged
    # recording's ciphertext and wrapped key must not survive in the file.
    db.execute("PRAGMA secure_delete = ON")
    return db


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


def _insert_new(
    db: sqlite3.Connection, statement: str, values: tuple[object, ...], dup: str
) -> None:
    try:
        db.execute(statement, values)
    except sqlite3.IntegrityError:
        raise UsageError(dup) from None


_ORG_SELECT = (
    "SELECT code, name, contract_start, contract_end, retention_days, wrapped_key, "
    "master_key_id FROM organisation"
)
_INSERT_RECORDING = (
    f"INSERT OR IGNORE INTO recording ({rowformat.RECORDING_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_RECORDING_WITH_ID = (
    f"INSERT OR IGNORE INTO recording (id, {rowformat.RECORDING_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The expression of the index audit_by_target (migration 6), spelt the same to be used.
_TARGET = "json_extract(body, '$.target')"
_IN_CHUNK = 500  # bound parameters per IN (...) list
_INSERT_TAG = "INSERT OR IGNORE INTO recording_tag (tag, recording_id) VALUES (?, ?)"


def _org(row: Sequence[Any]) -> StoredOrg:
    org = Organisation(row[0], row[1], _date(row[2]), _date(row[3]), row[4])
    return StoredOrg(org, row[5], row[6])


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _date_text(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _tombstone_floor(db: sqlite3.Connection) -> int | None:
    """The largest destroyed id, if no recording is above it. SQLite gives a new row the
    largest rowid + 1, so without this a purge of the newest recordings would let the
    next import reuse their ids (the audit log names recordings by id)."""
    row = db.execute(
        "SELECT (SELECT max(id) FROM tombstone), (SELECT max(id) FROM recording)"
    ).fetchone()
    tomb, rec = row
    return tomb if tomb is not None and (rec is None or tomb > rec) else None


def _in_list(n: int) -> str:
    return f"IN ({', '.join('?' * n)})"


def _clear_blob_refs(db: sqlite3.Connection, ids: Sequence[int]) -> None:
    if ids:
        db.execute(rsql.clear_blob_refs(_in_list(len(ids))), list(ids))
