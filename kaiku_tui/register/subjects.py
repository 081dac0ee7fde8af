"""The Register's facet for the data subject's rights (issue 8): `register.subjects`.

* find: every call and chat of a phone number (any Finnish spelling), by its blind index;
* requests: received and answered dates, the one-month deadline (GDPR art. 12(3));
* export: the access copy for the customer (GDPR art. 15), `subject_copy.py`'s format;
* access_log: who handled the person's recordings (Act 703/2023 §11);
* disclose and disclosures: a copy for an authority, and the disclosure log;
* premises review: a session that shows one person their own recordings, playback only.

Each method authorizes, audits and acts as the Register's own do (a refusal is
audited by the Register). What a copy reveals is audited, one event per
recording and one for the copy, before a byte of it is written. The phone
number never enters the audit log: events name the person by the blind index
(`subject`), as every other event about a recording does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from kaiku_tui.audit.chain import AuditEvent, event_from_body
from kaiku_tui.audit.format import format_utc
from kaiku_tui.domain import phone as phones
from kaiku_tui.domain.access import Action, Purpose
from kaiku_tui.domain.dates import HELSINKI, day_end, day_start
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import RecordingSummary
from kaiku_tui.domain.retention import due
from kaiku_tui.domain.subject import (
    DATA_SUBJECT,
    Disclosure,
    PremisesReview,
    RequestKind,
    SubjectRequest,
    check_free_text,
    check_request_ref,
)
from kaiku_tui.errors import NotFound, StoreError, UsageError, VaultError
from kaiku_tui.index.protocols import Directory, RetentionStore, SubjectStore
from kaiku_tui.index.records import StoredRecording
from kaiku_tui.register import subject_copy
from kaiku_tui.register.gate import Gate
from kaiku_tui.register.recorded_audio import RecordingAudio
from kaiku_tui.register.retention import rule_of
from kaiku_tui.register.sealing import open_transcript
from kaiku_tui.vault.blobs import BlobStore

_ACCESS = Purpose.ACCESS_REQUEST.value
_LOG = Purpose.LOG_REQUEST.value
_AUTHORITY = Purpose.AUTHORITY.value


@dataclass(frozen=True)
class LogEntry:
    """One line of the log report: an audit event that touched the person's recordings."""

    seq: int
    at: str  # UTC, as the audit log writes it
    actor: str
    display_name: str
    roles: tuple[str, ...]
    action: str
    outcome: str
    org: str | None
    target: str | None  # the recording's id for events about one recording
    purpose: str | None
    request_ref: str | None
    recipient: str | None
    legal_basis: str | None
    # The person's recordings a list showed (a search page, a case's links, a sample,
    # a copy): the event names them only in `revealed`, not as its target.
    shown: tuple[str, ...] = ()


@dataclass(frozen=True)
class CopyReport:
    to: Path
    recordings: int
    files: int
    manifest_sha256: str
    disclosure_id: int = 0  # the disclosure log's entry, for a disclosure


class RightsStore(SubjectStore, Directory, RetentionStore, Protocol):
    """A subject's recordings, events, requests and disclosures; the organisations and
    persons an access copy names; the holds that keep a recording."""


class SubjectRights:
    """Use `register.subjects`; every method is the DPO's (domain/access.py POLICY)."""

    def __init__(self, gate: Gate, index: RightsStore, blobs: BlobStore) -> None:
        self._gate = gate
        self._index = index
        self._blobs = blobs

    @property
    def _person_scope(self) -> tuple[str, ...]:
        return self._gate.person.orgs

    def _bidx(self, raw_phone: str) -> str:
        """The blind index (hex) of a number in any Finnish spelling; a bad one → UsageError."""
        return self._gate.keys.blind_index(phones.normalise(raw_phone)).hex()

    # -- find ------------------------------------------------------------------------------

    async def find(self, phone: str) -> list[RecordingSummary]:
        """Every call and chat of the number in the DPO's scope, oldest first."""
        await self._gate.authorize(Action.SUBJECT_ACCESS, purpose=_ACCESS)
        subject = self._bidx(phone)
        rows = await self._recordings(subject)
        await self._gate.audit(
            "subject.find", subject=subject, purpose=_ACCESS, result_count=len(rows),
            revealed=tuple(str(r.summary.id) for r in rows),
        )  # fmt: skip
        return [r.summary for r in rows]

    async def _recordings(self, subject: str) -> list[StoredRecording]:
        return await self._index.recordings_of_subject(bytes.fromhex(subject), self._person_scope)

    # -- requests --------------------------------------------------------------------------

    async def add_request(
        self, ref: str, kind: RequestKind, received: date, phone: str | None
    ) -> SubjectRequest:
        ref = check_request_ref(ref)
        target = f"request:{ref}"
        await self._gate.authorize(Action.SUBJECT_REQUEST, target=target)
        if received > _today():
            raise UsageError(f"--received {received.isoformat()} is in the future")
        if phone is None and kind is not RequestKind.AUTHORITY:
            raise UsageError(f"a request of kind {kind} needs --phone (whose recordings)")
        subject = self._bidx(phone) if phone is not None else None
        request = SubjectRequest(ref, kind, received, None, subject, self._gate.person.login)
        criteria = {"kind": kind.value, "received": received.isoformat()}
        event = self._gate.event(
            "subject.request.add", target=target, subject=subject, criteria=criteria
        )
        await self._index.add_subject_request(request, event)
        await self._gate.counted()
        return request

    async def requests(self) -> list[SubjectRequest]:
        """Every request, unanswered first; `SubjectRequest.urgency` says which to warn of."""
        await self._gate.authorize(Action.SUBJECT_REQUEST)
        found = await self._index.subject_requests()
        await self._gate.audit("subject.request.list", result_count=len(found))
        return found

    async def answer(self, ref: str, day: date | None = None) -> SubjectRequest:
        """Mark a request answered (today unless `day`); answered already → UsageError."""
        request = await self._request(ref, Action.SUBJECT_REQUEST)
        if request.answered is not None:
            raise UsageError(f"request {ref} was answered on {request.answered.isoformat()}")
        return await self._answered(request, day or _today())

    async def _answered(self, request: SubjectRequest, day: date) -> SubjectRequest:
        event = self._gate.event(
            "subject.request.answer", target=f"request:{request.ref}", subject=request.subject,
            request_ref=request.ref, criteria={"answered": day.isoformat()},
        )  # fmt: skip
        await self._index.answer_subject_request(request.ref, day.isoformat(), event)
        await self._gate.counted()
        return replace(request, answered=day)

    async def _request(
        self, ref: str, action: Action, kind: RequestKind | None = None, subject: str | None = None
    ) -> SubjectRequest:
        """The recorded request `ref` (authorized for `action`), of `kind`, about `subject`."""
        ref = check_request_ref(ref)
        await self._gate.authorize(action, request_ref=ref)
        request = await self._index.subject_request(ref)
        if request is None:
            err = NotFound(f"request {ref!r} is not recorded (kaiku-tui subject request add)")
            await self._gate.failed(action, err, request_ref=ref)
            raise err
        if kind is not None and request.kind is not kind:
            raise UsageError(f"request {ref} is of kind {request.kind}, not {kind}")
        if subject is not None and request.subject not in (None, subject):
            raise UsageError(f"request {ref} is about another phone number")
        return request

    # -- the access copy -------------------------------------------------------------------

    async def export(self, phone: str, to: Path, request_ref: str) -> CopyReport:
        """The copy for the customer (`subject_copy.py`); answers the request."""
        await self._gate.authorize(Action.SUBJECT_ACCESS, purpose=_ACCESS)
        subject = self._bidx(phone)
        subject_copy.check_target(to)
        request = await self._request(request_ref, Action.SUBJECT_ACCESS, RequestKind.ACCESS,
                                      subject)  # fmt: skip
        rows = await self._recordings(subject)
        fields = {"purpose": _ACCESS, "request_ref": request.ref, "recipient": DATA_SUBJECT}
        items = await self._items(rows, subject, fields, Action.SUBJECT_ACCESS)
        whole = {"subject": subject, **fields, "result_count": len(rows), "detail": str(to),
                 "revealed": tuple(str(r.summary.id) for r in rows)}  # fmt: skip
        await self._audit_revealed("subject.export.record", rows, fields, items, whole)
        header = _header("access copy (GDPR art. 15)", request.ref, DATA_SUBJECT)
        report = await self._write(to, header, items, staff_names=False)
        if request.answered is None:
            await self._answered(request, _today())
        return report

    async def _items(
        self, rows: Sequence[StoredRecording], subject: str | None, fields: dict[str, Any],
        action: Action,
    ) -> list[subject_copy.CopyItem]:  # fmt: skip
        """Each recording decrypted into memory (transcript) or opened (audio, header and
        last segment authenticated), with its purposes, recipients and retention from the
        log and the organisation; a failure is audited and nothing is written."""
        history = await self._history(subject, rows)
        items: list[subject_copy.CopyItem] = []
        try:
            for row in rows:
                items.append(await self._item(row, history))
        except (VaultError, StoreError) as err:
            subject_copy.close_audio(items)
            await self._gate.failed(action, err, subject=subject, **fields)
            raise
        return items

    async def _audit_revealed(
        self, action: str, rows: Sequence[StoredRecording], fields: dict[str, Any],
        items: list[subject_copy.CopyItem], whole: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        """One event per recording revealed (and `whole`, the copy's own `subject.export`),
        durable before a byte is written; if one fails, the opened audio is closed."""
        try:
            for row in rows:
                await self._gate.audit(action, **_record(row), **fields,
                                            revealed=(str(row.summary.id),))  # fmt: skip
            if whole is not None:
                await self._gate.audit("subject.export", **whole)
        except BaseException:
            subject_copy.close_audio(items)
            raise

    async def _item(
        self, row: StoredRecording, history: dict[str, list[AuditEvent]]
    ) -> subject_copy.CopyItem:
        key = await self._gate.keys.record_key(row)
        audio = None
        if row.blob_ref is not None:
            reader = await asyncio.to_thread(self._blobs.open, row.blob_ref, key)
            audio = RecordingAudio(row.summary.id, reader)
        events = history.get(str(row.summary.id), [])
        org = await self._gate.keys.rows.org(self._index, row.summary.org)
        held = bool(await self._index.holds_on(row.summary.id))
        grace = self._gate.config.grace_days
        return subject_copy.CopyItem(
            row.summary, org.org.name if org else row.summary.org,
            open_transcript(key, row.transcript_enc), audio, _purposes(events),
            _recipients(events), _retention(row, org.org if org else None, grace, held),
        )  # fmt: skip

    async def _history(
        self, subject: str | None, rows: Sequence[StoredRecording]
    ) -> dict[str, list[AuditEvent]]:
        """The events about each recording (by target), before this copy's own."""
        ids = [str(r.summary.id) for r in rows]
        out: dict[str, list[AuditEvent]] = {}
        for _seq, body in await self._index.subject_events(subject, ids):
            event = event_from_body(body)[1]
            if event.target in ids:
                out.setdefault(event.target, []).append(event)
        return out

    async def _write(
        self, to: Path, header: dict[str, object], items: list[subject_copy.CopyItem], *,
        staff_names: bool, disclosure: Disclosure | None = None,
    ) -> CopyReport:  # fmt: skip
        """Stage the copy, record the disclosure (if one) with the manifest's hash, then
        put the copy in place; a failure is audited and leaves nothing at `to`."""
        action = Action.SUBJECT_ACCESS if disclosure is None else Action.DISCLOSE
        try:
            staging, digest = await asyncio.to_thread(
                subject_copy.stage, to, header, items, staff_names=staff_names
            )
        except OSError as exc:
            err = UsageError(f"--to {to}: cannot write the copy ({exc.strerror or exc})")
            await self._gate.failed(action, err, detail=str(to))
            raise err from None
        entry_id = 0
        try:
            if disclosure is not None:
                entry = replace(disclosure, manifest_sha256=digest)
                entry_id = await self._record_disclosure(entry)
            await asyncio.to_thread(subject_copy.publish, staging, to)
        except BaseException:
            subject_copy.discard(staging)
            raise
        files = sum(len(i.files) for i in items) + 1
        return CopyReport(to, len(items), files, digest, entry_id)

    # -- the log report ----------------------------------------------------------------------

    async def access_log(
        self,
        phone: str,
        *,
        since: date | None = None,
        until: date | None = None,
        org: str | None = None,
        request_ref: str | None = None,
    ) -> list[LogEntry]:
        """Every audit event about the person's recordings (their blind index as subject,
        one of their recordings as target, or shown in a list: `revealed`, migration 9),
        in [since, until], in the DPO's scope and `org`; the report itself is audited
        (`log-request`). With `request_ref` (a `log`
        request about this number) the request is answered."""
        criteria = {"from": _iso(since), "to": _iso(until), "org": org}
        await self._gate.authorize(Action.SUBJECT_LOG, purpose=_LOG, criteria=criteria)
        subject = self._bidx(phone)
        request = None
        if request_ref is not None:
            request = await self._request(request_ref, Action.SUBJECT_LOG, RequestKind.LOG,
                                          subject)  # fmt: skip
        entries = await self._log_entries(subject, since, until, org)
        await self._gate.audit(
            "subject.log", subject=subject, purpose=_LOG, criteria=criteria,
            request_ref=request.ref if request else None, result_count=len(entries),
        )  # fmt: skip
        if request is not None and request.answered is None:
            await self._answered(request, _today())
        return entries

    async def _log_entries(
        self, subject: str, since: date | None, until: date | None, org: str | None
    ) -> list[LogEntry]:
        if org is not None and not self._gate.person.sees_org(org):
            message = f"{self._gate.person.login} may not see organisation {org}"
            await self._gate.deny(Action.SUBJECT_LOG.value, "outside scope", message,
                                       org=org, subject=subject)  # fmt: skip
        orgs = self._gate.person.scope((org,) if org else ())
        rows = await self._index.recordings_of_subject(bytes.fromhex(subject), orgs)
        ids = {str(r.summary.id) for r in rows} | await self._destroyed(subject, orgs)
        lo = day_start(since) if since else None
        hi = day_end(until) if until else None
        found = dict(await self._index.subject_events(subject, sorted(ids), since=lo, until=hi))
        found.update(await self._index.revealing_events(sorted(ids), since=lo, until=hi))
        persons = await self._gate.keys.rows.persons(self._index)
        names = {p.login: p.display_name for p in persons}
        entries = []
        for seq, body in sorted(found.items()):
            event = event_from_body(body)[1]
            shown = tuple(r for r in event.revealed if r in ids and r != event.target)
            if event.target in ids or shown or not orgs or event.org in orgs:
                entries.append(_entry(seq, event, names.get(event.actor, ""), shown))
        return entries

    async def _destroyed(self, subject: str, orgs: tuple[str, ...]) -> set[str]:
        """The ids of the person's recordings destroyed by retention (in `orgs`; () is all):
        the tombstone keeps no blind index, the `retention.purge` event does. Through them
        the report reaches the events that named such a recording only by id."""
        found = set()
        for _seq, body in await self._index.subject_events(subject, ()):
            event = event_from_body(body)[1]
            purged = event.action == "retention.purge" and event.target is not None
            if purged and (not orgs or event.org in orgs):
                found.add(str(event.target))
        return found

    # -- disclosure to an authority ---------------------------------------------------------

    async def disclose(
        self, record_ids: Sequence[int], authority: str, legal_basis: str, request_ref: str,
        to: Path,
    ) -> Disclosure:  # fmt: skip
        """The copy for an authority (with the agents' names: the authority's legal basis
        covers the whole recording), recorded in the disclosure log; answers the request."""
        authority = check_free_text("--authority", authority)
        legal_basis = check_free_text("--legal-basis", legal_basis)
        await self._gate.authorize(Action.DISCLOSE, purpose=_AUTHORITY, recipient=authority)
        if not record_ids:
            raise UsageError("disclose: name at least one recording id")
        subject_copy.check_target(to)
        request = await self._request(request_ref, Action.DISCLOSE, RequestKind.AUTHORITY)
        rows = [await self._gate.recording(Action.DISCLOSE, i, Purpose.AUTHORITY)
                for i in dict.fromkeys(record_ids)]  # fmt: skip
        fields = {"purpose": _AUTHORITY, "request_ref": request.ref, "recipient": authority,
                  "legal_basis": legal_basis}  # fmt: skip
        items = await self._items(rows, None, fields, Action.DISCLOSE)
        await self._audit_revealed("disclose.record", rows, fields, items)
        ids = tuple(r.summary.id for r in rows)
        entry = Disclosure(0, _now(), self._gate.person.login, authority, legal_basis,
                           request.ref, ids, "")  # fmt: skip
        header = _header("disclosure to an authority", request.ref, authority)
        header["legal_basis"] = legal_basis
        report = await self._write(to, header, items, staff_names=True, disclosure=entry)
        if request.answered is None:
            await self._answered(request, _today())
        return replace(entry, id=report.disclosure_id, manifest_sha256=report.manifest_sha256)

    async def _record_disclosure(self, entry: Disclosure) -> int:
        event = self._gate.event(
            Action.DISCLOSE.value, purpose=_AUTHORITY, request_ref=entry.request_ref,
            recipient=entry.authority, legal_basis=entry.legal_basis,
            result_count=len(entry.record_ids), revealed=tuple(map(str, entry.record_ids)),
            criteria={"manifest_sha256": entry.manifest_sha256},
        )  # fmt: skip
        entry_id = await self._index.add_disclosure(entry, event)
        await self._gate.counted()
        return entry_id

    async def disclosures(self, limit: int = 500) -> list[Disclosure]:
        """The disclosure log (luovutusloki), newest first: for `disclosures list` and the
        DPO's screen."""
        await self._gate.authorize(Action.DISCLOSURE_READ)
        found = await self._index.disclosures(limit)
        await self._gate.audit("disclosure.list", result_count=len(found))
        return found

    # -- review at the premises ----------------------------------------------------------------

    async def start_premises_review(self, request_ref: str) -> PremisesReview:
        """Flag this session as a data subject's review at the premises for an `access`
        request: from now on every event carries the request's reference and the purpose
        `access-request`, only search, open and play are allowed, and only the request's
        person's recordings are found or opened (the gate enforces it)."""
        if self._gate.premises is not None:
            raise UsageError(f"a review for {self._gate.premises.request_ref} is under way")
        request = await self._request(request_ref, Action.SUBJECT_ACCESS, RequestKind.ACCESS)
        if request.subject is None:
            raise UsageError(f"request {request.ref} names no phone number")
        await self._gate.audit("subject.premises.start", subject=request.subject,
                                    purpose=_ACCESS, request_ref=request.ref)  # fmt: skip
        review = PremisesReview(request.ref, request.subject)
        self._gate.flag_premises(review)
        return review

    async def end_premises_review(self) -> None:
        review = self._gate.premises
        if review is None:
            return
        await self._gate.audit("subject.premises.end", subject=review.subject)
        self._gate.flag_premises(None)


def _record(row: StoredRecording) -> dict[str, Any]:
    bidx = row.phone_bidx
    return {"target": str(row.summary.id), "org": row.summary.org,
            "subject": bidx.hex() if bidx else None}  # fmt: skip


def _purposes(events: Sequence[AuditEvent]) -> tuple[str, ...]:
    return tuple(sorted({e.purpose for e in events if e.purpose and e.outcome == "ok"}))


def _recipients(events: Sequence[AuditEvent]) -> tuple[dict[str, object], ...]:
    return tuple(
        {"recipient": e.recipient, "at": format_utc(e.at), "legal_basis": e.legal_basis,
         "request_ref": e.request_ref}
        for e in events if e.recipient and e.outcome == "ok"
    )  # fmt: skip


def _retention(
    row: StoredRecording, org: Organisation | None, grace_days: int, held: bool
) -> dict[str, object]:
    """When the recording is destroyed and why, by the rule the purge applies
    (`domain.retention.due`); a legal hold keeps it past that day while it lasts. The
    hold's reason and reference are the staff's (an authority's inquiry may not be told
    to the person, Data Protection Act 1050/2018 §34): the copy says only that one holds."""
    found = due(rule_of(org, grace_days), row.summary.started_at) if org else None
    return {
        "destroyed_by": _iso(found.on) if found else None,
        "reason": found.reason if found else None,
        "retention_days": org.retention_days if org else None,
        "contract_end": _iso(org.contract_end) if org else None,
        "grace_days": grace_days,
        "legal_hold": held,
    }


def _entry(seq: int, event: AuditEvent, name: str, shown: tuple[str, ...]) -> LogEntry:
    return LogEntry(
        seq, format_utc(event.at), event.actor, name, event.roles, event.action, event.outcome,
        event.org, event.target, event.purpose, event.request_ref, event.recipient,
        event.legal_basis, shown,
    )  # fmt: skip


def _header(kind: str, request_ref: str, recipient: str) -> dict[str, object]:
    return {"kind": kind, "request_ref": request_ref, "recipient": recipient,
            "written_at": format_utc(datetime.now(UTC))}  # fmt: skip


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _today() -> date:
    return datetime.now(HELSINKI).date()


def _now() -> int:
    return int(datetime.now(UTC).timestamp())
