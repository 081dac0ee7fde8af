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
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import asyncpg

from kaiku_tui.audit.chain import GENESIS, AuditEvent, canonical_body, seal
from kaiku_tui.audit.format import MAX_SEQ
from kaiku_tui.domain.access import Person
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.retention import Hold, Tombstone
from kaiku_tui.domain.subject import Disclosure, SubjectRequest
from kaiku_tui.errors import AuditFailure, IndexUnavailable, NotFound, StoreError, UsageError
from kaiku_tui.index import annotation_sql as asql
from kaiku_tui.index import postgres_transfer, rowformat, sql
from kaiku_tui.index import retention_sql as rsql
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
from kaiku_tui.index.postgres_password import read_password_file
from kaiku_tui.index.postgres_schema import MIGRATIONS

if TYPE_CHECKING:  # asyncpg's classes are generic in its stubs only
    from asyncpg.pool import PoolConnectionProxy

    Connection = PoolConnectionProxy[asyncpg.Record]
    Pool = asyncpg.Pool[asyncpg.Record]

T = TypeVar("T")
Change = Callable[["Connection"], Awaitable[T]]

DIALECT = sql.Dialect(
    indexed_by=False,
    param="$",
    summary=sql.summary_columns("string_agg(t.tag, chr(31))"),
    lateral_probe=True,
)
# Advisory lock keys: fixed, so every process serialises on the same ones.
AUDIT_LOCK = int.from_bytes(b"kaiku-au", "big")
MIGRATION_LOCK = int.from_bytes(b"kaiku-mg", "big")
# What the driver raises for a refused statement or a lost server.
DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
# Of those, the ones that mean the server is gone (not that it said no): a refused
# or reset socket (OSError, TimeoutError among them), a connection closed under a
# query, a server shutting down, crashed or still starting.
LOST_ERRORS = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
)
_WHAT_TO_DO = (
    "check that the database server is running and reachable from this host, then try again"
)


class PostgresIndex(SqlBrowse, Index):
    """Open with `await PostgresIndex.open(url, mac_key)`; close with `await index.close()`."""

    dialect = DIALECT

    def __init__(self, location: str, pool: Pool, mac_key: bytes) -> None:
        self.location = location
        self._pool = pool
        self._mac_key = mac_key

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
            if lost := _lost(exc):
                raise _unavailable(location, lost, "nothing was done") from None
            raise StoreError(f"index {location}: cannot connect ({exc})") from None
        try:
            async with pool.acquire() as conn:
                await _migrate(conn, location, create)
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, DRIVER_ERRORS) and (lost := _lost(exc)):
                raise _unavailable(location, lost, "nothing was done") from None
            if isinstance(exc, DRIVER_ERRORS):
                raise StoreError(f"index {location}: {exc}") from None
            raise
        return cls(location, pool, mac_key)

    def __repr__(self) -> str:  # the location only: never a login or a password
        return f"<PostgresIndex {self.location}>"

    async def session_login(self) -> str:
        """The database login these connections authenticated as (`session_user`, which
        SET ROLE does not change): the person when `[access] identity = "database"`."""
        rows = await self._fetch("SELECT session_user")
        return str(rows[0][0])

    async def close(self) -> None:
        """Close every pooled connection (waits for those in use to come back)."""
        await self._pool.close()

    async def _fetch(self, query: str, *params: object) -> list[asyncpg.Record]:
        try:
            return await self._pool.fetch(query, *params)
        except DRIVER_ERRORS as exc:
            if lost := _lost(exc):
                raise _unavailable(self.location, lost, "nothing was shown") from None
            raise StoreError(f"index {self.location}: {exc}") from None

    async def _rows(self, query: sql.Query) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self._fetch(query.sql, *query.params)]

    # -- audit ------------------------------------------------------------------

    async def append_audit(self, event: AuditEvent) -> int:
        return (await self._audited(event, _no_change))[0]

    async def audit_rows(self, after_seq: int, limit: int) -> list[AuditRow]:
        rows = await self._fetch(_AUDIT_ROWS, after_seq, MAX_SEQ, limit)
        return [AuditRow(*r) for r in rows]

    async def audit_scan(
        self, after_seq: int = 0, until_seq: int | None = None, batch: int = 20_000
    ) -> AsyncGenerator[Sequence[AuditRow], None]:
        """Batches bounded by `until_seq` in SQL, each one fetch; the body comes as the
        bytea of its UTF-8 text, so the verifier gets the bytes that were hashed."""
        last = MAX_SEQ if until_seq is None else until_seq
        while rows := await self._fetch(_AUDIT_ROWS, after_seq, last, batch):
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
        rows = await self._fetch(
            "SELECT convert_to(body, 'UTF8') FROM (SELECT seq, body FROM audit_event "
            f"WHERE {cond} ORDER BY seq DESC LIMIT {q.p(query.limit)}) AS e ORDER BY seq",
            *q.params,
        )
        return [r[0] for r in rows]

    async def audit_head(self) -> tuple[int, bytes] | None:
        rows = await self._fetch(_AUDIT_HEAD)
        return (rows[0][0], rows[0][1]) if rows else None

    async def cut_audit(self, upto: int, upto_hash: bytes, event: AuditEvent) -> int:
        """Through `kaiku_audit_cut` (migration 7), the one door past the application
        role's missing DELETE privilege: it checks the caller, the row and its hash."""

        async def change(conn: Connection) -> int:
            return int(await conn.fetchval("SELECT kaiku_audit_cut($1, $2)", upto, upto_hash))

        return (await self._audited(event, change))[1]

    # -- the register itself ------------------------------------------------------

    async def get_info(self, name: str) -> str | None:
        rows = await self._fetch("SELECT value FROM register_info WHERE name = $1", name)
        return str(rows[0][0]) if rows else None

    async def put_info(self, name: str, value: str, event: AuditEvent) -> None:
        async def change(conn: Connection) -> None:
            await conn.execute(
                "INSERT INTO register_info (name, value) VALUES ($1, $2) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                name, value,
            )  # fmt: skip

        await self._audited(event, change)

    async def rewrap_org_keys(
        self, wrapped: Sequence[tuple[str, bytes]], master_key_id: str, event: AuditEvent
    ) -> None:
        async def change(conn: Connection) -> None:
            for code, key in wrapped:
                done = await conn.execute(
                    "UPDATE organisation SET wrapped_key = $1, master_key_id = $2 "
                    "WHERE code = $3 AND wrapped_key IS NOT NULL",
                    key, master_key_id, code,
                )  # fmt: skip
                if _affected(done) != 1:
                    raise StoreError(f"organisation {code}: its key could not be re-wrapped")
            await conn.execute(
                "UPDATE register_info SET value = $1 WHERE name = 'master_key_id'", master_key_id
            )

        await self._audited(event, change)

    # -- persons and organisations ----------------------------------------------

    async def get_person(self, login: str) -> Person | None:
        rows = await self._fetch(
            f"SELECT {rowformat.PERSON_COLUMNS} FROM person WHERE login = $1", login
        )
        return rowformat.person_of(tuple(rows[0])) if rows else None

    async def list_persons(self) -> list[Person]:
        rows = await self._fetch(f"SELECT {rowformat.PERSON_COLUMNS} FROM person ORDER BY login")
        return [rowformat.person_of(tuple(r)) for r in rows]

    async def put_person(self, person: Person, event: AuditEvent, *, new: bool) -> None:
        values = rowformat.person_values(person)

        async def change(conn: Connection) -> None:
            if new:
                await _insert_new(conn, _INSERT_PERSON, values, f"person {person.login!r}")
            elif _affected(await conn.execute(_UPDATE_PERSON, *values)) == 0:
                raise UsageError(f"person {person.login!r} does not exist")

        await self._audited(event, change)

    async def add_org(self, org: StoredOrg, event: AuditEvent) -> None:
        o = org.org
        values = (
            o.code, o.name, o.contract_start, o.contract_end, o.retention_days, org.wrapped_key,
            org.master_key_id,
        )  # fmt: skip

        async def change(conn: Connection) -> None:
            await _insert_new(conn, _INSERT_ORG, values, f"organisation {o.code!r}")

        await self._audited(event, change)

    async def get_org(self, code: str) -> StoredOrg | None:
        rows = await self._fetch(f"{_ORG_SELECT} WHERE code = $1", code)
        return _org(rows[0]) if rows else None

    async def list_orgs(self) -> list[StoredOrg]:
        return [_org(r) for r in await self._fetch(f"{_ORG_SELECT} ORDER BY code")]

    # -- recordings ---------------------------------------------------------------

    async def add_recordings(self, rows: Sequence[StoredRecording], event: AuditEvent) -> AddResult:
        """All rows in one INSERT; a duplicate, in the index or earlier in the batch, is
        skipped (the first kept, as in SQLite), tags and all."""
        first: dict[tuple[str, str], StoredRecording] = {}
        for r in rows:
            first.setdefault((r.summary.org, r.summary.source_id), r)

        async def change(conn: Connection) -> AddResult:
            added = await _insert_recordings(conn, list(first.values())) if first else 0
            return AddResult(added, len(rows) - added)

        return (await self._audited(event, change))[1]

    async def get_recording(self, record_id: int) -> StoredRecording | None:
        rows = await self._fetch(
            f"SELECT {DIALECT.summary}, {rowformat.STORED_COLUMNS} FROM recording r "
            "WHERE r.id = $1",
            record_id,
        )
        return rowformat.stored_of(tuple(rows[0])) if rows else None

    async def recordings_kept(self, record_ids: Sequence[int], destroyed_since: int) -> set[int]:
        rows = await self._fetch(
            "SELECT id FROM recording WHERE id = ANY($1::bigint[]) UNION "
            "SELECT id FROM tombstone WHERE id = ANY($1::bigint[]) AND destroyed_at >= $2",
            list(record_ids),
            destroyed_since,
        )
        return {int(r[0]) for r in rows}

    async def known_sources(self, org: str, source_ids: Sequence[str]) -> set[str]:
        rows = await self._fetch(
            "SELECT source_id FROM recording WHERE org = $1 AND source_id = ANY($2::text[])",
            org,
            list(source_ids),
        )
        return {r[0] for r in rows}

    # -- annotations (the SQL is annotation_sql.py, shared with SQLite) ------------------

    async def add_note(self, note: StoredNote, event: AuditEvent) -> int:
        async def change(conn: Connection) -> int:
            try:
                return int(await conn.fetchval(_INSERT_NOTE, *asql.note_values(note)))
            except asyncpg.UniqueViolationError:
                raise UsageError(
                    f"note {note.note_id} has a version {note.version} already: "
                    "someone changed it meanwhile; read it again"
                ) from None

        return (await self._audited(event, change))[1]

    async def notes(self, record_id: int) -> list[StoredNote]:
        return [asql.note_of(tuple(r)) for r in await self._fetch(_NOTES_OF_RECORDING, record_id)]

    async def note_history(self, note_id: int) -> list[StoredNote]:
        return [asql.note_of(tuple(r)) for r in await self._fetch(_NOTE_HISTORY, note_id)]

    async def set_tag(self, record_id: int, tag: str, present: bool, event: AuditEvent) -> bool:
        statement = _ADD_TAG if present else _DELETE_TAG

        async def change(conn: Connection) -> bool:
            return _affected(await conn.execute(statement, tag, record_id)) > 0

        return (await self._audited(event, change))[1]

    async def tag_counts(self, orgs: tuple[str, ...]) -> list[tuple[str, int]]:
        query, params = asql.tag_counts(orgs)
        return [(r[0], r[1]) for r in await self._fetch(asql.numbered(query), *params)]

    async def add_case(self, case: StoredCase, event: AuditEvent) -> int:
        async def change(conn: Connection) -> int:
            found = await conn.fetchval(_INSERT_CASE, *asql.case_values(case))
            if found is None:
                raise UsageError(f"case {case.ref!r} of {case.org} exists already")
            return int(found)

        return (await self._audited(event, change))[1]

    async def update_case(self, case: StoredCase, event: AuditEvent) -> None:
        values = (case.status, case.owner, case.findings_enc, case.resolution_enc, case.id)

        async def change(conn: Connection) -> None:
            if _affected(await conn.execute(_UPDATE_CASE, *values)) == 0:
                raise UsageError(f"case {case.id} does not exist")

        await self._audited(event, change)

    async def link_case(self, case_id: int, record_ids: Sequence[int], event: AuditEvent) -> int:
        ids = list(dict.fromkeys(record_ids))

        async def change(conn: Connection) -> int:
            return _affected(await conn.execute(_LINK_MANY, case_id, ids))

        return (await self._audited(event, change))[1]

    async def get_case(self, case_id: int) -> StoredCase | None:
        rows = await self._fetch(_GET_CASE, case_id)
        if not rows:
            return None
        records = await self._fetch(_CASE_RECORDS, case_id)
        return asql.case_of(tuple(rows[0]), [r[0] for r in records])

    async def list_cases(
        self, status: str | None, orgs: tuple[str, ...], *, before_id: int | None, limit: int
    ) -> list[StoredCase]:
        query, params = asql.list_cases(status, orgs, before_id, limit)
        return [asql.case_of(tuple(r)) for r in await self._fetch(asql.numbered(query), *params)]

    async def add_sample(self, sample: StoredSample, event: AuditEvent) -> int:
        async def change(conn: Connection) -> int:
            return int(await conn.fetchval(_INSERT_SAMPLE, *asql.sample_values(sample)))

        return (await self._audited(event, change))[1]

    async def get_sample(self, sample_id: int) -> StoredSample | None:
        rows = await self._fetch(_GET_SAMPLE, sample_id)
        return asql.sample_of(tuple(rows[0])) if rows else None

    async def samples(self, *, before_id: int | None, limit: int) -> list[StoredSample]:
        below = asql.NO_ID_ABOVE if before_id is None else before_id
        rows = await self._fetch(_LIST_SAMPLES, below, limit)
        return [asql.sample_of(tuple(r)) for r in rows]

    async def add_score(self, score: StoredScore, event: AuditEvent) -> None:
        async def change(conn: Connection) -> None:
            if _affected(await conn.execute(_INSERT_SCORE, *asql.score_values(score))) == 0:
                raise UsageError(f"recording {score.record_id} of this sample is scored already")

        await self._audited(event, change)

    async def scores(self, sample_id: int) -> list[StoredScore]:
        return [asql.score_of(tuple(r)) for r in await self._fetch(_SCORES, sample_id)]

    # -- retention and legal holds (the SQL is retention_sql.py) ------------------------

    async def set_org_rule(
        self, code: str, contract_end: date | None, retention_days: int | None, event: AuditEvent
    ) -> None:
        async def change(conn: Connection) -> None:
            done = await conn.execute(_SET_ORG_RULE, contract_end, retention_days, code)
            if _affected(done) == 0:
                raise NotFound(f"organisation {code!r} does not exist")

        await self._audited(event, change)

    async def retention_count(self, org: str, started_from: int, started_before: int) -> int:
        rows = await self._fetch(_COUNT_RANGE, org, started_from, started_before)
        return int(rows[0][0])

    async def retention_rows(
        self, org: str, started_before: int, after: tuple[int, int] | None, limit: int
    ) -> list[DueRecording]:
        if after is None:
            rows = await self._fetch(_DUE_FIRST, org, started_before, limit)
        else:
            ts, last = after
            rows = await self._fetch(_DUE_AFTER, org, started_before, ts, ts, last, limit)
        return [rsql.due_of(tuple(r)) for r in rows]

    async def held(self, org: str) -> list[tuple[int, Hold]]:
        rows = await self._fetch(_HELD_IN_ORG, org, org)
        return [(r[0], rsql.hold_of(tuple(r)[1:])) for r in rows]

    async def holds_on(self, record_id: int) -> list[Hold]:
        return [rsql.hold_of(tuple(r)) for r in await self._fetch(_HOLDS_ON, record_id, record_id)]

    async def add_hold(self, hold: Hold, event: AuditEvent) -> int:
        async def change(conn: Connection) -> int:
            return int(await conn.fetchval(_INSERT_HOLD, *rsql.hold_values(hold)))

        return (await self._audited(event, change))[1]

    async def get_hold(self, hold_id: int) -> Hold | None:
        rows = await self._fetch(_GET_HOLD, hold_id)
        return rsql.hold_of(tuple(rows[0])) if rows else None

    async def release_hold(self, hold_id: int, by: str, at: int, event: AuditEvent) -> None:
        async def change(conn: Connection) -> None:
            if _affected(await conn.execute(_RELEASE_HOLD, by, at, hold_id)) == 0:
                raise UsageError(f"hold {hold_id} does not exist or is released already")

        await self._audited(event, change)

    async def list_holds(self, *, active_only: bool) -> list[Hold]:
        query = rsql.ACTIVE_HOLDS if active_only else rsql.ALL_HOLDS
        return [rsql.hold_of(tuple(r)) for r in await self._fetch(query)]

    async def purge(
        self,
        tombstones: Sequence[StoredTombstone],
        events: Sequence[AuditEvent],
        blobs_gone: Sequence[int],
    ) -> None:
        ids = [t.tombstone.id for t in tombstones]
        values = [rsql.tombstone_values(t) for t in tombstones]

        async def change(conn: Connection) -> None:
            if blobs_gone:
                await conn.execute(_CLEAR_BLOB_REFS, list(blobs_gone))
            if not ids:
                return
            held = await conn.fetch(_HELD_AMONG, ids)
            if held:
                raise StoreError(f"recording {held[0][0]} was put on hold meanwhile")
            await conn.executemany(_INSERT_TOMBSTONE, values)
            for statement in _PURGE_STATEMENTS:
                await conn.execute(statement, ids)
            if _affected(await conn.execute(_DELETE_RECORDINGS, ids)) != len(ids):
                raise StoreError("a recording of the batch is gone already (another purge?)")

        await self._audited_all(events, change)

    async def blobs_gone(self, record_ids: Sequence[int], event: AuditEvent) -> None:
        async def change(conn: Connection) -> None:
            await conn.execute(_CLEAR_BLOB_REFS, list(record_ids))

        await self._audited(event, change)

    async def pending_blobs(self, limit: int) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in await self._fetch(_PENDING_BLOBS, limit)]

    async def tombstone(self, record_id: int) -> Tombstone | None:
        rows = await self._fetch(_TOMBSTONE, record_id)
        return rsql.tombstone_of(tuple(rows[0])) if rows else None

    async def shred_org(self, code: str, event: AuditEvent) -> None:
        async def change(conn: Connection) -> None:
            if await conn.fetchval(_ANY_LEFT, code) is not None:
                raise StoreError(f"organisation {code} still has recordings: its key stays")
            if _affected(await conn.execute(_SHRED_ORG, code)) == 0:
                raise StoreError(f"organisation {code}: no key to destroy")
            await conn.execute(_SHRED_CASES, code)
            await conn.execute(_UPSERT_REKEY, rsql.REKEY)

        await self._audited(event, change)

    # -- data subjects' rights (subject_sql.py) ------------------------------------------

    async def recordings_of_subject(
        self, phone_bidx: bytes, orgs: tuple[str, ...]
    ) -> list[StoredRecording]:
        query = asql.numbered(
            f"SELECT {DIALECT.summary}, {rowformat.STORED_COLUMNS} FROM recording r "
            f"{ssql.SUBJECT_WHERE}{ssql.org_terms(orgs)}{ssql.SUBJECT_ORDER}"
        )
        return [rowformat.stored_of(tuple(r)) for r in await self._fetch(query, phone_bidx, *orgs)]

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
            rows += await self._fetch(query, subject, *at_params)
        if targets:
            query = asql.numbered(ssql.events_by_target(body, _TARGET, "= ANY(?::text[])", at))
            rows += await self._fetch(query, list(targets), *at_params)
        return ssql.merged(rows)

    async def revealing_events(
        self, names: Sequence[str], *, since: int | None = None, until: int | None = None
    ) -> list[tuple[int, bytes]]:
        if not names:
            return []
        at, at_params = ssql.at_terms(since, until)
        query = asql.numbered(ssql.REVEALING_POSTGRES + at).replace("ANY_OF", "?|")
        rows: list[Any] = await self._fetch(query, list(names), *at_params)
        return ssql.merged(rows)

    async def add_subject_request(self, request: SubjectRequest, event: AuditEvent) -> None:
        async def change(conn: Connection) -> None:
            if await conn.fetchval(_INSERT_REQUEST, *ssql.request_values(request)) is None:
                raise UsageError(f"request {request.ref!r} is recorded already")

        await self._audited(event, change)

    async def subject_request(self, ref: str) -> SubjectRequest | None:
        rows = await self._fetch(_GET_REQUEST, ref)
        return ssql.request_of(tuple(rows[0])) if rows else None

    async def subject_requests(self) -> list[SubjectRequest]:
        return [ssql.request_of(tuple(r)) for r in await self._fetch(ssql.LIST_REQUESTS)]

    async def answer_subject_request(self, ref: str, answered: str, event: AuditEvent) -> bool:
        async def change(conn: Connection) -> bool:
            return _affected(await conn.execute(_ANSWER_REQUEST, answered, ref)) > 0

        return (await self._audited(event, change))[1]

    async def add_disclosure(self, disclosure: Disclosure, event: AuditEvent) -> int:
        async def change(conn: Connection) -> int:
            values = ssql.disclosure_values(disclosure)
            return int(await conn.fetchval(_INSERT_DISCLOSURE, *values))

        return (await self._audited(event, change))[1]

    async def disclosures(self, limit: int) -> list[Disclosure]:
        rows = await self._fetch(_LIST_DISCLOSURES, limit)
        return [ssql.disclosure_of(tuple(r)) for r in rows]

    # -- copying a whole register (postgres_transfer.py) --------------------------------

    def export(self) -> AbstractAsyncContextManager[Export]:
        return postgres_transfer.export(self._pool, self.location)

    async def import_rows(self, table: str, rows: Sequence[Row]) -> None:
        await postgres_transfer.import_rows(self._pool, self.location, table, rows)

    async def finish_import(self, drop_info: str, facts: Sequence[Row]) -> None:
        await postgres_transfer.finish_import(self._pool, self.location, drop_info, facts)

    # -- writes -------------------------------------------------------------------------

    async def _audited(self, event: AuditEvent, change: Change[T]) -> tuple[int, T]:
        """One transaction: the audit event, then the change (see `_audited_all`)."""
        return await self._audited_all((event,), change)

    async def _audited_all(self, events: Sequence[AuditEvent], change: Change[T]) -> tuple[int, T]:
        """One transaction: the audit events, then the change; all commit or none.

        As in SQLite: failing to start the write or to append the event is an
        AuditFailure; a failing change, or COMMIT, is the change refused. A lost
        connection is IndexUnavailable: before COMMIT nothing landed (the server
        rolls back a transaction whose client is gone); during COMMIT the client
        cannot know, and says so."""
        step = "audit"  # how far the transaction got: what a failure may have left
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                seq = 0
                for event in events:
                    seq = await self._append(conn, event)
                step = "change"
                result = await change(conn)
                step = "commit"  # leaving the block commits
        except DRIVER_ERRORS as exc:
            if (lost := _lost(exc)) and step == "commit":
                raise _unavailable(self.location, lost, _UNKNOWN_OUTCOME) from None
            if lost:
                raise _unavailable(self.location, lost, "nothing was changed or shown") from None
            if step == "audit":
                raise self._audit_failure(exc) from None
            raise StoreError(f"index {self.location}: the change was refused ({exc})") from None
        return seq, result

    async def _append(self, conn: Connection, event: AuditEvent) -> int:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", AUDIT_LOCK)
        head = await conn.fetchrow(_AUDIT_HEAD)
        seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
        row = seal(seq, prev, canonical_body(seq, event), self._mac_key)
        body = row.body.decode("utf-8")
        await conn.execute(_INSERT_AUDIT, seq, body, row.prev_hash, row.hash, row.mac)
        return seq

    def _audit_failure(self, exc: BaseException) -> AuditFailure:
        return AuditFailure(
            f"audit log {self.location}: the event could not be written ({exc}); "
            "nothing was changed or shown"
        )


_UNKNOWN_OUTCOME = (
    "the action and its audit event were committed together or not at all: "
    "see 'kaiku-tui audit show' before doing it again"
)


def _lost(exc: BaseException) -> BaseException | None:
    """The error that says the server is gone, if that is what `exc` comes from.

    Leaving `async with conn.transaction()` on a dead connection raises an
    InterfaceError ("the underlying connection is closed") whose context is the
    real cause, so the chain is followed."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, LOST_ERRORS):
            return seen
        if isinstance(seen, asyncpg.InterfaceError) and "connection is closed" in str(seen):
            return seen
        seen = seen.__context__
    return None


def _unavailable(location: str, exc: BaseException, outcome: str) -> IndexUnavailable:
    """One line: where, why (the driver's words hold no password), what landed, what to do."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return IndexUnavailable(f"index {location} is unreachable ({reason}); {outcome}; {_WHAT_TO_DO}")


async def _no_change(conn: Connection) -> None:
    """The change of an audit event on its own."""


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


def _affected(status: str) -> int:
    """The row count of a command tag such as 'INSERT 0 1' or 'UPDATE 0'."""
    return int(status.rsplit(" ", 1)[-1])


async def _insert_new(
    conn: Connection, statement: str, values: Sequence[object], what: str
) -> None:
    """An INSERT ... ON CONFLICT DO NOTHING that must insert: a duplicate is a UsageError."""
    if _affected(await conn.execute(statement, *values)) == 0:
        raise UsageError(f"{what} exists already")


async def _insert_recordings(conn: Connection, rows: Sequence[StoredRecording]) -> int:
    """Insert the rows (unique keys) as column arrays; tag those inserted; count them."""
    columns = [list(c) for c in zip(*map(rowformat.recording_values, rows), strict=True)]
    inserted = await conn.fetch(_INSERT_RECORDINGS, *columns)
    tags = {(r.summary.org, r.summary.source_id): set(r.summary.tags) for r in rows}
    pairs = [(tag, rec[0]) for rec in inserted for tag in tags[rec[1], rec[2]]]
    if pairs:
        await conn.execute(_INSERT_TAGS, [p[0] for p in pairs], [p[1] for p in pairs])
    return len(inserted)


def _org(row: asyncpg.Record) -> StoredOrg:
    return StoredOrg(Organisation(row[0], row[1], row[2], row[3], row[4]), row[5], row[6])


_CREATE_SCHEMA_VERSION = """
    CREATE TABLE schema_version (
        version integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""
_AUDIT_HEAD = "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"
_INSERT_AUDIT = (
    "INSERT INTO audit_event (seq, body, prev_hash, hash, mac) VALUES ($1, $2, $3, $4, $5)"
)
_AUDIT_ROWS = (
    "SELECT seq, convert_to(body, 'UTF8'), prev_hash, hash, mac FROM audit_event "
    "WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
)
_INSERT_PERSON = (
    "INSERT INTO person (display_name, roles, orgs, active, login) VALUES ($1, $2, $3, $4, $5) "
    "ON CONFLICT (login) DO NOTHING"
)
_UPDATE_PERSON = (
    "UPDATE person SET display_name = $1, roles = $2, orgs = $3, active = $4 WHERE login = $5"
)
_ORG_SELECT = (
    "SELECT code, name, contract_start, contract_end, retention_days, wrapped_key, "
    "master_key_id FROM organisation"
)
_INSERT_ORG = (
    "INSERT INTO organisation (code, name, contract_start, contract_end, retention_days, "
    "wrapped_key, master_key_id) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING"
)
# The types of rowformat.RECORDING_COLUMNS, for one array parameter each.
_RECORDING_TYPES = (
    "text", "smallint", "smallint", "bigint", "bigint", "text", "text", "text", "text", "bytea",
    "bytea", "bytea", "text", "bytea", "boolean", "boolean", "bigint",
)  # fmt: skip
_INSERT_RECORDINGS = (
    f"INSERT INTO recording ({rowformat.RECORDING_COLUMNS}) SELECT * FROM unnest("
    + ", ".join(f"${n}::{t}[]" for n, t in enumerate(_RECORDING_TYPES, start=1))
    + ") ON CONFLICT (org, source_id) DO NOTHING RETURNING id, org, source_id"
)
_INSERT_TAGS = (
    "INSERT INTO recording_tag (tag, recording_id) SELECT * FROM unnest($1::text[], $2::bigint[]) "
    "ON CONFLICT DO NOTHING"
)

_INSERT_NOTE = asql.numbered(asql.INSERT_NOTE)
_INSERT_REQUEST = asql.numbered(ssql.INSERT_REQUEST)
_GET_REQUEST = asql.numbered(ssql.GET_REQUEST)
_ANSWER_REQUEST = asql.numbered(ssql.ANSWER_REQUEST)
_INSERT_DISCLOSURE = asql.numbered(ssql.INSERT_DISCLOSURE)
_LIST_DISCLOSURES = asql.numbered(ssql.LIST_DISCLOSURES)
# The expression of the index audit_by_target (migration 6), spelt the same to be used.
_TARGET = "(audit_json(body) ->> 'target')"
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
_INSERT_SCORE = asql.numbered(asql.INSERT_SCORE)
_SCORES = asql.numbered(asql.SCORES)

_SET_ORG_RULE = asql.numbered(rsql.SET_ORG_RULE)
_COUNT_RANGE = asql.numbered(rsql.COUNT_RANGE)
_DUE_FIRST = asql.numbered(rsql.DUE_FIRST)
_DUE_AFTER = asql.numbered(rsql.DUE_AFTER)
_HELD_IN_ORG = asql.numbered(rsql.HELD_IN_ORG)
_HOLDS_ON = asql.numbered(rsql.HOLDS_ON)
_INSERT_HOLD = asql.numbered(rsql.INSERT_HOLD)
_GET_HOLD = asql.numbered(rsql.GET_HOLD)
_RELEASE_HOLD = asql.numbered(rsql.RELEASE_HOLD)
_INSERT_TOMBSTONE = asql.numbered(rsql.INSERT_TOMBSTONE)
_TOMBSTONE = asql.numbered(rsql.TOMBSTONE)
_PENDING_BLOBS = asql.numbered(rsql.PENDING_BLOBS)
_SHRED_ORG = asql.numbered(rsql.SHRED_ORG)
_SHRED_CASES = asql.numbered(rsql.SHRED_CASES)
_ANY_LEFT = asql.numbered(rsql.ANY_LEFT)
_UPSERT_REKEY = asql.numbered(rsql.UPSERT_REKEY)
_IDS = "= ANY($1::bigint[])"
_HELD_AMONG = rsql.held_among(_IDS)
_PURGE_STATEMENTS = rsql.purge_statements(_IDS)
_DELETE_RECORDINGS = rsql.delete_recordings(_IDS)
_CLEAR_BLOB_REFS = rsql.clear_blob_refs(_IDS)
_LIST_SAMPLES = asql.numbered(asql.LIST_SAMPLES)


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
