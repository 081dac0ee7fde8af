"""The index contract, one narrow interface per concern.

The index stores what the register knows — recordings' metadata, wrapped keys,
ciphertext, persons, organisations, the audit chain — and knows nothing of
keys or plaintext. Every change is written in one transaction with the audit
event that records it (`event` arguments): both land or neither does.

Each interface is a small protocol with abstract methods (as harlequin's
adapter classes are small ABCs): every backend implements each one explicitly,
in a mixin of its own (`sqlite_*.py`, `postgres_*.py`), and `base.Index` is all
of them together, the whole backend surface. Being protocols, they combine: a
facet of the register declares the slices it uses as one protocol of its own
(`class HoldStore(RetentionStore, Recordings, Protocol)`), and any backend
satisfies it. `Lifecycle` stays a plain ABC: a protocol with data members
(`location`) cannot be checked with issubclass.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncGenerator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date
from typing import Protocol, runtime_checkable

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.domain.access import Person
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.domain.browse import Count, Cursor, Page, RecordingFilter, Sort
from kaiku_tui.domain.retention import Hold, Tombstone
from kaiku_tui.domain.subject import Disclosure, SubjectRequest
from kaiku_tui.index.records import (
    AddResult,
    AuditRow,
    DueRecording,
    Export,
    OrgRewrap,
    PhoneBidx,
    Row,
    StoredCase,
    StoredNote,
    StoredOrg,
    StoredPerson,
    StoredRecording,
    StoredSample,
    StoredScore,
    StoredTombstone,
)


class Lifecycle(abc.ABC):
    """An open backend: where it is, what it can do, and closing it."""

    # Where the index is, for the status line ("local path" or "host:port/db").
    location: str
    # Optional abilities are declared, not discovered by try/except.
    supports_row_level_security: bool = False

    @abc.abstractmethod
    async def close(self) -> None: ...


@runtime_checkable
class AuditStore(Protocol):
    """The audit chain as stored: appended with every change, read in batches to verify."""

    @abc.abstractmethod
    async def append_audit(self, event: AuditEvent) -> int:
        """Append one event durably, on its own; return its seq."""

    @abc.abstractmethod
    async def audit_rows(self, after_seq: int, limit: int) -> list[AuditRow]:
        """Sealed rows with seq > after_seq in seq order, for verification in batches."""

    async def audit_scan(
        self, after_seq: int = 0, until_seq: int | None = None, batch: int = 20_000
    ) -> AsyncGenerator[Sequence[AuditRow], None]:
        """The sealed rows after `after_seq` (up to `until_seq`), in batches, for verifying."""
        while rows := await self.audit_rows(after_seq, batch):
            if until_seq is not None:
                rows = [r for r in rows if r.seq <= until_seq]
                if not rows:
                    return
            yield rows
            after_seq = rows[-1].seq

    @abc.abstractmethod
    async def audit_bodies(self, query: AuditQuery) -> list[bytes]:
        """Event bodies matching the query, oldest first."""

    @abc.abstractmethod
    async def audit_head(self) -> tuple[int, bytes] | None:
        """The last seq and its hash, or None for an empty log."""

    @abc.abstractmethod
    async def cut_audit(self, upto: int, upto_hash: bytes, event: AuditEvent) -> int:
        """Audit retention (audit/cut.py): `event` appended, the cut recorded in
        register_info (`audit.cut`) and every row up to `upto` deleted, in one
        transaction; how many rows went. Refused unless the row `upto` has `upto_hash`,
        and by the database for any row past the recorded cut."""


@runtime_checkable
class Directory(Protocol):
    """The register's facts, its persons and its organisations (with their wrapped keys)."""

    @abc.abstractmethod
    async def get_info(self, name: str) -> str | None:
        """A fact about the register (e.g. `master_key_id`), or None."""

    @abc.abstractmethod
    async def put_info(self, name: str, value: str, event: AuditEvent) -> None:
        """Set a fact about the register, audited in the same transaction."""

    @abc.abstractmethod
    async def rewrap_org_keys(
        self, wrapped: Sequence[OrgRewrap], master_key_id: str, event: AuditEvent
    ) -> None:
        """Key rotation: every organisation's new wrapped key and row MAC and the register's
        new `master_key_id`, with the event, in one transaction. An organisation that is not
        updated (gone, changed since it was read, or hidden by row-level security) undoes
        the whole of it."""

    @abc.abstractmethod
    async def get_person(self, login: str) -> StoredPerson | None: ...

    @abc.abstractmethod
    async def list_persons(self) -> list[StoredPerson]: ...

    @abc.abstractmethod
    async def put_person(
        self, person: Person, event: AuditEvent, *, new: bool, mac: bytes, was: bytes | None
    ) -> None:
        """Insert (`new`) or replace a person with its row MAC; a new login that exists →
        UsageError. A replacement applies only while the row's MAC is still `was` (as
        read): one changed meanwhile is a StoreError."""

    @abc.abstractmethod
    async def add_org(self, org: StoredOrg, event: AuditEvent) -> None: ...

    @abc.abstractmethod
    async def get_org(self, code: str) -> StoredOrg | None: ...

    @abc.abstractmethod
    async def list_orgs(self) -> list[StoredOrg]: ...

    @abc.abstractmethod
    async def seal_rows(
        self,
        persons: Sequence[tuple[str, bytes]],
        orgs: Sequence[tuple[str, bytes]],
        fact: tuple[str, str],
        event: AuditEvent,
    ) -> None:
        """The one sealing after migration 10 (docs/ARCHITECTURE.md, "Row MACs"): set the
        MAC of each (login or code, MAC) whose row has none yet, and the register fact
        `fact`, with the event, in one transaction. A fact that exists already, or a row
        not updated (gone, sealed meanwhile, or hidden), undoes the whole of it."""


@runtime_checkable
class Recordings(Protocol):
    """Recordings: added in batches, read one by one, browsed in keyset pages."""

    @abc.abstractmethod
    async def add_recordings(self, rows: Sequence[StoredRecording], event: AuditEvent) -> AddResult:
        """Insert recordings; one whose (org, source_id) exists is a duplicate, skipped."""

    @abc.abstractmethod
    async def get_recording(self, record_id: int) -> StoredRecording | None: ...

    @abc.abstractmethod
    async def recordings_kept(self, record_ids: Sequence[int], destroyed_since: int) -> set[int]:
        """Which of `record_ids` are still in the index, or were destroyed at or after
        `destroyed_since` (epoch seconds; their tombstones say when), as this login may
        see them: the recordings whose audit events audit retention must keep."""

    @abc.abstractmethod
    async def known_sources(self, org: str, source_ids: Sequence[str]) -> set[str]:
        """Which of `source_ids` the organisation already holds (an import skips them
        before encrypting anything, so a re-import writes no blob)."""

    @abc.abstractmethod
    async def page(
        self,
        where: RecordingFilter,
        sort: Sort,
        *,
        phone_bidx: PhoneBidx = None,
        after: Cursor | None = None,
        before: Cursor | None = None,
        limit: int = 50,
    ) -> Page:
        """A keyset page: the first rows after `after`, or the last rows before `before`."""

    @abc.abstractmethod
    async def count(
        self, where: RecordingFilter, *, phone_bidx: PhoneBidx = None, cap: int | None = 10_000
    ) -> Count:
        """How many rows match, stopping at `cap` (None: exact, may take a while)."""

    @abc.abstractmethod
    async def agents(self, where: RecordingFilter, *, limit: int = 1_000) -> list[str]:
        """The distinct agents of the matching rows, by name, at most `limit`."""

    @abc.abstractmethod
    async def seek(
        self, where: RecordingFilter, sort: Sort, fraction: float, *, phone_bidx: PhoneBidx = None
    ) -> Cursor | None:
        """A cursor about `fraction` (0..1) of the way through the result, without OFFSET.

        The position is estimated from the sort key's distribution (a sample
        of rows spread over the result's date range), so a scrollbar lands
        near where it was dropped in constant time at any result size.
        """


@runtime_checkable
class Annotations(Protocol):
    """Notes, tags, feedback cases, coaching samples and scores.

    Every change is one transaction with its event; a duplicate is a UsageError."""

    @abc.abstractmethod
    async def add_note(self, note: StoredNote, event: AuditEvent) -> int:
        """Add a version (a new note when `note_id` is 0); return the note's id. A version
        that exists already (someone edited first) is a UsageError."""

    @abc.abstractmethod
    async def notes(self, record_id: int) -> list[StoredNote]:
        """Every version of every note on the recording, by note id, then version."""

    @abc.abstractmethod
    async def note_history(self, note_id: int) -> list[StoredNote]:
        """The versions of one note, oldest first (empty: no such note)."""

    @abc.abstractmethod
    async def set_tag(self, record_id: int, tag: str, present: bool, event: AuditEvent) -> bool:
        """Add (`present`) or remove a tag; False if it was already so (the event stays)."""

    @abc.abstractmethod
    async def tag_counts(self, orgs: tuple[str, ...]) -> list[tuple[str, int]]:
        """Every tag in use with its number of recordings (within `orgs`; empty: all)."""

    @abc.abstractmethod
    async def add_case(self, case: StoredCase, event: AuditEvent) -> int:
        """Insert a case; (org, ref) taken is a UsageError. Returns its id."""

    @abc.abstractmethod
    async def update_case(self, case: StoredCase, event: AuditEvent) -> None:
        """Replace status, owner, findings and resolution of the case `case.id`."""

    @abc.abstractmethod
    async def link_case(self, case_id: int, record_ids: Sequence[int], event: AuditEvent) -> int:
        """Link recordings to a case; return how many links are new."""

    @abc.abstractmethod
    async def get_case(self, case_id: int) -> StoredCase | None: ...

    @abc.abstractmethod
    async def list_cases(
        self, status: str | None, orgs: tuple[str, ...], *, before_id: int | None, limit: int
    ) -> list[StoredCase]:
        """Up to `limit` cases with ids below `before_id`, newest first, in a status and
        organisations if given (a keyset page; records left empty)."""

    @abc.abstractmethod
    async def add_sample(self, sample: StoredSample, event: AuditEvent) -> int: ...

    @abc.abstractmethod
    async def get_sample(self, sample_id: int) -> StoredSample | None: ...

    @abc.abstractmethod
    async def samples(self, *, before_id: int | None, limit: int) -> list[StoredSample]:
        """Up to `limit` samples with ids below `before_id`, newest first (a keyset page)."""

    @abc.abstractmethod
    async def add_score(self, score: StoredScore, event: AuditEvent) -> None:
        """A scorer scores a sampled recording once; a second time is a UsageError."""

    @abc.abstractmethod
    async def scores(self, sample_id: int) -> list[StoredScore]: ...


@runtime_checkable
class RetentionStore(Protocol):
    """Retention and legal holds (retention_sql.py): organisations' rules, what is due,
    holds, the purge and its tombstones, crypto-shredding."""

    @abc.abstractmethod
    async def set_org_rule(
        self,
        code: str,
        contract_end: date | None,
        retention_days: int | None,
        event: AuditEvent,
        *,
        mac: bytes,
        was: bytes | None,
    ) -> None:
        """Set an organisation's contract end, retention days and row MAC; no such code:
        NotFound; a row whose MAC is no longer `was` (changed meanwhile): StoreError."""

    @abc.abstractmethod
    async def retention_count(self, org: str, started_from: int, started_before: int) -> int:
        """How many of the organisation's recordings started in [from, before), holds and
        all (an index range on (org, started_at))."""

    @abc.abstractmethod
    async def retention_rows(
        self, org: str, started_before: int, after: tuple[int, int] | None, limit: int
    ) -> list[DueRecording]:
        """The organisation's recordings that started before the bound, oldest first, after
        the keyset cursor (started_at, id)."""

    @abc.abstractmethod
    async def held(self, org: str) -> list[tuple[int, Hold]]:
        """(recording id, active hold) for each of the organisation's held recordings: held
        itself, or linked to a held case."""

    @abc.abstractmethod
    async def holds_on(self, record_id: int) -> list[Hold]:
        """The active holds that cover the recording (its own and its cases')."""

    @abc.abstractmethod
    async def add_hold(self, hold: Hold, event: AuditEvent) -> int: ...

    @abc.abstractmethod
    async def get_hold(self, hold_id: int) -> Hold | None: ...

    @abc.abstractmethod
    async def release_hold(self, hold_id: int, by: str, at: int, event: AuditEvent) -> None:
        """Release an active hold; one that is released already is a UsageError."""

    @abc.abstractmethod
    async def list_holds(self, *, active_only: bool) -> list[Hold]: ...

    @abc.abstractmethod
    async def purge(
        self,
        tombstones: Sequence[StoredTombstone],
        events: Sequence[AuditEvent],
        blobs_gone: Sequence[int],
    ) -> None:
        """One batch of destruction, in one transaction with its events: the tombstones
        written; the recordings, their notes, scores, tags and case links deleted; the
        `blob_ref` of the tombstones `blobs_gone` cleared. A recording held meanwhile, or
        gone, undoes the whole batch (StoreError)."""

    @abc.abstractmethod
    async def blobs_gone(self, record_ids: Sequence[int], event: AuditEvent) -> None:
        """The blob files of these tombstones are deleted: clear their `blob_ref`."""

    @abc.abstractmethod
    async def pending_blobs(self, limit: int) -> list[tuple[int, str]]:
        """Tombstones whose blob file may still exist: (id, blob_ref), by id."""

    @abc.abstractmethod
    async def tombstone(self, record_id: int) -> Tombstone | None: ...

    @abc.abstractmethod
    async def shred_org(
        self, code: str, event: AuditEvent, *, mac: bytes, was: bytes | None
    ) -> None:
        """Destroy an organisation's key and its cases' content, set the row's MAC, and note
        that the master key must be rotated (`retention.rekey` = pending). Recordings left,
        or a row whose MAC is no longer `was`: StoreError."""


@runtime_checkable
class SubjectStore(Protocol):
    """Data subjects' rights: a person's recordings and audit events, requests, disclosures."""

    @abc.abstractmethod
    async def recordings_of_subject(
        self, phone_bidx: bytes, orgs: tuple[str, ...]
    ) -> list[StoredRecording]:
        """Every recording with this number's blind index (within `orgs`; empty: all),
        oldest first."""

    @abc.abstractmethod
    async def subject_events(
        self,
        subject: str | None,
        targets: Sequence[str],
        *,
        since: int | None = None,
        until: int | None = None,
    ) -> list[tuple[int, bytes]]:
        """(seq, body) of every audit event whose subject is `subject` or whose target is
        one of `targets`, at in [since, until) (UTC epoch seconds), once each, by seq."""

    @abc.abstractmethod
    async def revealing_events(
        self, names: Sequence[str], *, since: int | None = None, until: int | None = None
    ) -> list[tuple[int, bytes]]:
        """(seq, body) of every audit event whose `revealed` names one of `names` (a list
        page, a case's links, a sample, a copy), at in [since, until), once each, by seq."""

    @abc.abstractmethod
    async def add_subject_request(self, request: SubjectRequest, event: AuditEvent) -> None:
        """Record a request; a reference taken is a UsageError."""

    @abc.abstractmethod
    async def subject_request(self, ref: str) -> SubjectRequest | None: ...

    @abc.abstractmethod
    async def subject_requests(self) -> list[SubjectRequest]:
        """Unanswered first (oldest receipt first), then answered, newest first."""

    @abc.abstractmethod
    async def answer_subject_request(self, ref: str, answered: str, event: AuditEvent) -> bool:
        """Set the answered date (ISO) of an unanswered request; False if it was answered
        already (the event stays: the answer was given again)."""

    @abc.abstractmethod
    async def add_disclosure(self, disclosure: Disclosure, event: AuditEvent) -> int:
        """An entry of the disclosure log; returns its id."""

    @abc.abstractmethod
    async def disclosures(self, limit: int) -> list[Disclosure]:
        """The newest `limit` entries of the disclosure log, newest first."""


@runtime_checkable
class Transfer(Protocol):
    """Copying a whole register (kaiku-tui migrate): a consistent export, a raw import."""

    @abc.abstractmethod
    def export(self) -> AbstractAsyncContextManager[Export]:
        """A read-only snapshot of every table, consistent across them, while the block runs."""

    @abc.abstractmethod
    async def import_rows(self, table: str, rows: Sequence[Row]) -> None:
        """Write copied rows as they are (ids, seqs, ciphertext), in one transaction.

        No audit event: a copy is audited by the `register.migrate` event it carries.
        `register_info` rows replace a fact of the same name; other tables only insert."""

    @abc.abstractmethod
    async def finish_import(self, drop_info: str, facts: Sequence[Row]) -> None:
        """In one transaction: remove the fact `drop_info`, write `facts`, and let new rows
        follow the copied ids."""


PROTOCOLS: tuple[type, ...] = (
    Lifecycle,
    AuditStore,
    Directory,
    Recordings,
    Annotations,
    RetentionStore,
    SubjectStore,
    Transfer,
)
"""Every interface of `base.Index`, for the contract suite and for documentation."""
