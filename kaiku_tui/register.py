"""The register: the one door to recordings, persons, organisations and the audit log.

Opened for a named person. Every method authorizes (role × action ×
organisation scope), audits and acts, and returns plain domain objects. A
change is audited in the same transaction as the change. A read is done into
memory first, then audited, then returned: if the audit append fails, what was
read is dropped and the caller gets an AuditFailure — nothing is revealed
without its event (fail closed). Denials and errors that stop an action are
audited too.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from kaiku_tui import annotating, migration
from kaiku_tui.audit.chain import (
    AuditEvent,
    Problem,
    event_from_body,
)
from kaiku_tui.audit.checkpoint import CheckpointFile
from kaiku_tui.audit.cut import CUT_INFO, cut_file, verified_start
from kaiku_tui.config import Config, index_location, with_index
from kaiku_tui.domain import phone as phones
from kaiku_tui.domain.access import Action, Identity, Person, Purpose, Role
from kaiku_tui.domain.annotation import (
    Anchor,
    CaseFile,
    CaseFilter,
    CaseStatus,
    CoachingSample,
    FeedbackCase,
    Note,
    RecordedScore,
    SampleSpec,
    Score,
    TagCount,
    check_case_ref,
    check_case_text,
    check_move,
    check_note_text,
    check_tag,
    draw_sample,
    is_managed,
    vocabulary,
)
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.domain.browse import Count, Cursor, Page, RecordingFilter, Sort
from kaiku_tui.domain.migration import MigrationReport
from kaiku_tui.domain.org import Organisation, check_code
from kaiku_tui.domain.recording import (
    AudioSource,
    NewRecording,
    Recording,
    RecordingSummary,
    Speaker,
    TranscriptLine,
)
from kaiku_tui.domain.retention import refusing_hold
from kaiku_tui.domain.subject import PremisesReview
from kaiku_tui.errors import (
    AccessDenied,
    ConfigError,
    KaikuError,
    NotFound,
    StoreError,
    UsageError,
    VaultError,
)
from kaiku_tui.identity import database_identity
from kaiku_tui.index import Index, open_index
from kaiku_tui.index.base import (
    AddResult,
    StoredCase,
    StoredNote,
    StoredOrg,
    StoredRecording,
    StoredSample,
    StoredScore,
)
from kaiku_tui.maintenance import rotation
from kaiku_tui.recorded_audio import RecordingAudio
from kaiku_tui.vault.blobs import BlobStore
from kaiku_tui.vault.fields import blind_index, decrypt_field, encrypt_field
from kaiku_tui.vault.keys import MasterKey, OrgKey, RecordKey, new_data_key
from kaiku_tui.verification import verify_log

if TYPE_CHECKING:
    from kaiku_tui.audit_retention import AuditRetention
    from kaiku_tui.coaching import Coaching
    from kaiku_tui.holds import Holds
    from kaiku_tui.maintenance.upkeep import Upkeep
    from kaiku_tui.retention import Retention
    from kaiku_tui.subject_rights import SubjectRights

_VERIFY_BATCH = 20_000
_SEAL_THREADS = 4  # threads sealing one import batch (two cores here; I/O waits overlap)
NEWEST_FIRST = Sort()
MASTER_KEY_ID = "master_key_id"
_QUALITY = Purpose.QUALITY  # annotating is quality work unless a caller says otherwise
_WHOLE = Anchor()  # a note on the whole recording
_ALL_CASES = CaseFilter()


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    head_seq: int
    checkpoints: int
    problem: Problem | None
    cut_seq: int = 0  # the log starts after this seq (audit retention); 0: at seq 1


class Register:
    """Use `await Register.open(config, identity)`; always `await register.close()`."""

    def __init__(
        self, config: Config, master: MasterKey, index: Index, person: Person, identity: Identity
    ) -> None:
        self.config = config
        self.person = person
        self._identity = identity
        self._master = master
        self._index = index
        self._org_keys: dict[str, OrgKey] = {}
        self._checkpoints = CheckpointFile(config.checkpoint_file)
        self._since_checkpoint = 0
        self._blobs = BlobStore(config.blob_dir)
        self._search_key = master.search_key()  # derived once: an import needs one per row
        self._premises: PremisesReview | None = None  # subject_rights.py flags a review

    # -- lifecycle ----------------------------------------------------------------

    @classmethod
    async def open(
        cls, config: Config, identity: Identity, environ: Mapping[str, str] = os.environ
    ) -> Register:
        """Open for `identity` (or, with `[access] identity = "database"`, for the
        database login); a login that is not an active named person is refused."""
        master = MasterKey.from_env_or_file(config.master_key_file, environ)
        index = await open_index(config, master.audit_mac_key())
        try:
            identity = await _vouched(config, index, identity)
            master = await rotation.settled(index, master, config, environ)
            await _check_master_key(index, master, config)
            person = await index.get_person(identity.login)
            if person is None or not person.active:
                await index.append_audit(_refused_login(identity, person))
                raise AccessDenied(
                    f"{identity.login!r} is not an active named person of this register; "
                    "ask an admin to add you (kaiku-tui persons add)"
                )
            register = cls(config, master, index, person, identity)
            await register._audit("session.open")
        except BaseException:
            await index.close()
            raise
        return register

    @classmethod
    async def initialise(cls, config: Config, identity: Identity, display_name: str) -> Register:
        """Create the keys and the index; `identity` becomes the first admin."""
        config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        master = MasterKey.create_file(config.master_key_file)
        index = await open_index(config, master.audit_mac_key(), create=True)
        try:
            identity = await _vouched(config, index, identity)
            person = Person(identity.login, display_name, frozenset({Role.ADMIN}))
            init = _event(identity, (), "register.init", criteria={"key_id": master.key_id})
            await index.put_info(MASTER_KEY_ID, master.key_id, init)
            event = _event(identity, (), "person.add", target=identity.login)
            await index.put_person(person, event, new=True)
            register = cls(config, master, index, person, identity)
        except BaseException:
            await index.close()
            raise
        return register

    async def close(self) -> None:
        """Write a signed checkpoint of the chain's head, then close the index."""
        try:
            await self._checkpoint()
        finally:
            await self._index.close()

    @property
    def location(self) -> str:
        return self._index.location

    def _rekeyed(self, master: MasterKey) -> None:
        """After a key rotation (maintenance/rotation.py): the new key, no cached org keys."""
        self._master = master
        self._org_keys.clear()

    def coaching(self) -> Coaching:
        """The reviewers' facet: the samples drawn so far (kaiku_tui/coaching.py)."""
        from kaiku_tui.coaching import Coaching

        return Coaching(self, self._index)

    def audit_retention(self) -> AuditRetention:
        """The admin's audit retention facet: cut the oldest events (audit_retention.py)."""
        from kaiku_tui.audit_retention import AuditRetention

        return AuditRetention(self, self._index, self._master)

    def upkeep(self) -> Upkeep:
        """The admin's maintenance facet: doctor, scan, backup, keys (kaiku_tui/maintenance)."""
        from kaiku_tui.maintenance.upkeep import Upkeep

        return Upkeep(self, self._index, self._master, self._blobs)

    def subjects(self) -> SubjectRights:
        """The DPO's facet for data subjects' rights: find, requests, the access copy,
        the log report, disclosures, review at the premises (subject_rights.py)."""
        from kaiku_tui.subject_rights import SubjectRights

        return SubjectRights(self, self._index, self._blobs)

    @property
    def premises(self) -> PremisesReview | None:
        """The data subject's review at the premises this session is flagged for, if any."""
        return self._premises

    def may(self, action: Action) -> bool:
        """Whether this session may do `action`: the person's roles, narrowed by a review
        at the premises. The TUI shows only the keys this permits; `_authorize` decides."""
        if self._premises is not None and not self._premises.permits(action):
            return False
        return self.person.may(action)

    def retention(self) -> Retention:
        """Organisations' retention rules, the plan, the purge, crypto-shredding."""
        from kaiku_tui.retention import Retention

        return Retention(self, self._index, self._blobs)

    def holds(self) -> Holds:
        """Legal holds on recordings and feedback cases."""
        from kaiku_tui.holds import Holds

        return Holds(self, self._index)

    # -- the three steps every method takes ---------------------------------------

    def _event(self, action: str, outcome: str = "ok", **fields: Any) -> AuditEvent:
        roles = tuple(sorted(r.value for r in self.person.roles))
        if self._premises is not None:  # every event of a review says whose and why
            fields["purpose"] = Purpose.ACCESS_REQUEST.value
            fields["request_ref"] = self._premises.request_ref
        return _event(self._identity, roles, action, outcome, **fields)

    async def _audit(self, action: str, outcome: str = "ok", **fields: Any) -> None:
        await self._index.append_audit(self._event(action, outcome, **fields))
        await self._count_event()

    async def _count_event(self) -> None:
        self._since_checkpoint += 1
        if self._since_checkpoint >= self.config.checkpoint_every:
            await self._checkpoint()

    async def _checkpoint(self) -> None:
        head = await self._index.audit_head()
        if head is not None:
            key = self._master.checkpoint_signing_key()
            # A file lock and an fsync: off the event loop, which may be drawing a screen.
            await asyncio.to_thread(
                self._checkpoints.append, head[0], head[1], key, self._master.key_id
            )
        self._since_checkpoint = 0

    async def _authorize(self, action: Action, **fields: Any) -> None:
        if not self.person.may(action):
            roles = ", ".join(sorted(self.person.roles))
            message = f"{self.person.login} ({roles}) may not {action.value}"
            await self._deny(action.value, "role does not permit", message, **fields)
        if self._premises is not None and not self._premises.permits(action):
            message = f"a review at the premises is playback only: no {action.value}"
            await self._deny(action.value, "review at the premises", message, **fields)

    async def _authorize_org(self, action: Action, org: str, **fields: Any) -> None:
        await self._authorize(action, org=org, **fields)
        if not self.person.sees_org(org):
            message = f"{self.person.login} may not see organisation {org}"
            await self._deny(action.value, "outside scope", message, org=org, **fields)

    async def _deny(self, action: str, reason: str, message: str, **fields: Any) -> NoReturn:
        """Audit a refusal, then refuse."""
        await self._audit(action, "denied", detail=_detail(reason, fields), **fields)
        raise AccessDenied(message)

    async def _failed(self, action: Action, err: KaikuError, **fields: Any) -> None:
        """Audit an error that stopped an action, then let it go on up."""
        await self._audit(action.value, "error", detail=_detail(str(err), fields), **fields)

    # -- browsing -----------------------------------------------------------------

    async def _scoped(self, where: RecordingFilter) -> tuple[RecordingFilter, bytes | None]:
        orgs = self.person.scope(where.orgs)
        if where.orgs and set(orgs) != set(where.orgs):
            outside = sorted(set(where.orgs) - set(orgs))
            message = f"{self.person.login} may not see organisation {outside[0]}"
            criteria = where.criteria()
            await self._deny(Action.SEARCH.value, "outside scope", message, criteria=criteria)
        bidx = self._bidx(where.phone) if where.phone else None
        if self._premises is not None:  # a review shows the person's own recordings only
            bidx = bytes.fromhex(self._premises.subject)
        return where.with_orgs(orgs), bidx

    def _bidx(self, e164: str) -> bytes:
        return blind_index(self._search_key, e164)

    async def search(
        self,
        where: RecordingFilter,
        sort: Sort = NEWEST_FIRST,
        *,
        after: Cursor | None = None,
        before: Cursor | None = None,
        limit: int = 50,
    ) -> Page:
        """One page of the list; the criteria and the rows shown are audited first."""
        await self._authorize(Action.SEARCH, criteria=where.criteria())
        scoped, bidx = await self._scoped(where)
        page = await self._index.page(
            scoped, sort, phone_bidx=bidx, after=after, before=before, limit=limit
        )
        criteria = {**where.criteria(), "sort": str(sort), "limit": limit}
        cursor = after or before
        if cursor is not None:
            criteria["from_cursor"] = list(cursor.values)
        await self._audit(
            Action.SEARCH.value,
            criteria=criteria,
            subject=bidx.hex() if bidx else None,
            result_count=len(page.rows),
            revealed=tuple(str(r.id) for r in page.rows),
        )
        return page

    async def count(self, where: RecordingFilter, *, cap: int | None = 10_000) -> Count:
        """How many match, capped (None: exact); audited, since a count can be personal data."""
        await self._authorize(Action.SEARCH, criteria=where.criteria())
        scoped, bidx = await self._scoped(where)
        count = await self._index.count(scoped, phone_bidx=bidx, cap=cap)
        await self._audit(
            "search.count",
            criteria={**where.criteria(), "cap": cap},
            subject=bidx.hex() if bidx else None,
            result_count=count.value,
        )
        return count

    async def histogram(self, where: RecordingFilter, edges: Sequence[int]) -> list[int]:
        """How many start in each [edges[i], edges[i+1]) within the filter: the sparkline's
        bars. Counted bucket by bucket (each an index range), audited once as a whole."""
        await self._authorize(Action.SEARCH, criteria=where.criteria())
        scoped, bidx = await self._scoped(where)
        counts: list[int] = []
        for low, high in zip(edges, edges[1:], strict=False):
            low = max(low, scoped.started_from or low)
            high = min(high, scoped.started_before or high)
            if low >= high:
                counts.append(0)
                continue
            bucket = replace(scoped, started_from=low, started_before=high)
            counts.append((await self._index.count(bucket, phone_bidx=bidx, cap=None)).value)
        await self._audit(
            "search.histogram",
            criteria={**where.criteria(), "buckets": len(counts)},
            subject=bidx.hex() if bidx else None,
            result_count=sum(counts),
        )
        return counts

    async def seek(self, where: RecordingFilter, sort: Sort, fraction: float) -> Cursor | None:
        """Where `fraction` of the way through the result is; reveals no row, so not audited."""
        await self._authorize(Action.SEARCH, criteria=where.criteria())
        scoped, bidx = await self._scoped(where)
        return await self._index.seek(scoped, sort, fraction, phone_bidx=bidx)

    # -- one recording --------------------------------------------------------------

    async def _stored(self, action: Action, record_id: int, purpose: Purpose) -> StoredRecording:
        target = str(record_id)
        await self._authorize(action, target=target, purpose=purpose.value)
        stored = await self._index.get_recording(record_id)
        if stored is None:
            stone = await self._index.tombstone(record_id)
            why = stone.describe() if stone else f"recording {record_id} does not exist"
            err = NotFound(why)
            await self._failed(action, err, target=target, purpose=purpose.value)
            raise err
        await self._authorize_org(action, stored.summary.org, target=target, purpose=purpose.value)
        review = self._premises
        if review is not None and (stored.phone_bidx or b"").hex() != review.subject:
            message = f"recording {record_id} is not the data subject's of {review.request_ref}"
            await self._deny(action.value, "review at the premises", message, target=target)
        await self._check_holds(action, stored, purpose)
        return stored

    async def _check_holds(self, action: Action, stored: StoredRecording, purpose: Purpose) -> None:
        """While a recording is held, it is used only for a hold's purpose."""
        hold = refusing_hold(await self._index.holds_on(stored.summary.id), purpose)
        if hold is not None:
            message = (
                f"recording {stored.summary.id} is under legal hold {hold.id} "
                f"({hold.ref}): only for {hold.purpose.value}, not {purpose.value}"
            )
            fields = _record_fields(stored, purpose)
            await self._deny(action.value, "legal hold", message, **fields,
                             detail=f"hold {hold.id}")  # fmt: skip

    async def open_recording(
        self, record_id: int, purpose: Purpose, *, case_id: int | None = None
    ) -> Recording:
        """Metadata and transcript, decrypted; audited with the purpose before returning.

        Worked from a feedback case (`case_id`), the purpose is the case's (`feedback`;
        another is refused) and the event names the case's reference; the recording
        must be linked to the case."""
        ref = None if case_id is None else await self._case_ref(case_id, record_id, purpose)
        stored = await self._stored(Action.RECORD_OPEN, record_id, purpose)
        fields = _record_fields(stored, purpose)
        if ref is not None:
            fields["request_ref"] = ref
        try:
            key = await self._record_key(stored)
            transcript = _transcript(key, stored.transcript_enc)
        except VaultError as err:
            await self._failed(Action.RECORD_OPEN, err, **fields)
            raise
        held = bool(await self._index.holds_on(record_id))  # the holds table, not the old column
        await self._audit(Action.RECORD_OPEN.value, **fields)
        return Recording(
            stored.summary,
            transcript,
            None,
            stored.notice_played,
            held,
            stored.retention_until,
        )

    async def reveal_phone(self, record_id: int, purpose: Purpose) -> str | None:
        """The customer's number in E.164 (None if withheld); audited with the purpose."""
        stored = await self._stored(Action.PHONE_REVEAL, record_id, purpose)
        fields = _record_fields(stored, purpose)
        try:
            key = await self._record_key(stored)
            number = _decrypt_text(key, "phone", stored.phone_enc)
        except VaultError as err:
            await self._failed(Action.PHONE_REVEAL, err, **fields)
            raise
        await self._audit(Action.PHONE_REVEAL.value, **fields)
        return number

    async def _org_key(self, code: str) -> OrgKey:
        if code not in self._org_keys:
            stored = await self._index.get_org(code)
            if stored is None:
                raise NotFound(f"organisation {code!r} does not exist (kaiku-tui orgs list)")
            if stored.wrapped_key is None:
                raise VaultError(f"organisation {code}: its key is destroyed or missing")
            self._org_keys[code] = self._master.open_org_key(code, stored.wrapped_key)
        return self._org_keys[code]

    async def _record_key(self, stored: StoredRecording) -> RecordKey:
        ref = record_ref(stored.summary.org, stored.summary.source_id)
        if stored.wrapped_key is None:
            raise VaultError(f"record {ref}: its key is destroyed")
        org_key = await self._org_key(stored.summary.org)
        return org_key.unwrap_record_key(ref, stored.wrapped_key)

    # -- adding recordings ----------------------------------------------------------

    async def add_recordings(self, new: Sequence[NewRecording], *, source: str) -> AddResult:
        """Encrypt and index recordings of one organisation, in one audited transaction.

        Recordings the organisation already holds (same source id) are skipped
        before anything is encrypted. Audio goes into the blob store first and
        the rows (with their audit event) after: a crash in between leaves
        only blobs that no row names, sealed under record keys that were never
        stored — unreadable, and harmless; the rerun writes fresh ones.
        """
        orgs = {r.org for r in new}
        if len(orgs) != 1:
            raise UsageError("add_recordings takes the recordings of one organisation at a time")
        (org,) = orgs
        await self._authorize_org(Action.INGEST, org, detail=source)
        org_key = await self._org_key(org)
        fresh = await self._fresh(org, new)
        rows = await self._seal_all(org_key, fresh)
        refs = [r.blob_ref for r in rows]
        event = self._event(Action.INGEST.value, org=org, detail=source, result_count=len(rows))
        try:
            result = await self._index.add_recordings(rows, event)
        except Exception:
            # The transaction did not commit. Not on cancellation (Ctrl-C): the writer
            # thread may still commit these rows, and then they need their blobs.
            await asyncio.to_thread(self._delete_blobs, refs)
            raise
        await self._count_event()
        return AddResult(result.added, result.duplicates + len(new) - len(fresh))

    async def _fresh(self, org: str, new: Sequence[NewRecording]) -> list[NewRecording]:
        """The first of each source id that the organisation does not hold yet."""
        known = await self._index.known_sources(org, [r.source_id for r in new])
        first: dict[str, NewRecording] = {}
        for r in new:
            if r.source_id not in known:
                first.setdefault(r.source_id, r)
        return list(first.values())

    async def _seal_all(
        self, org_key: OrgKey, fresh: Sequence[NewRecording]
    ) -> list[StoredRecording]:
        """Each recording sealed, its audio in a new blob, on a few worker threads (AES-GCM,
        HKDF and the blob store's system calls leave the GIL); if any fails, the blobs
        already written are removed and the first failure raised.

        A thread takes a share of the batch rather than one recording: a hop to a
        thread and back per recording cost more in lock hand-offs than the work.
        """
        shares = [list(range(i, len(fresh), _SEAL_THREADS)) for i in range(_SEAL_THREADS)]
        jobs = [asyncio.to_thread(self._seal_share, org_key, fresh, s) for s in shares if s]
        done: dict[int, StoredRecording] = {}
        failures: list[BaseException] = []
        for sealed, failure in await asyncio.gather(*jobs):
            done.update(sealed)
            failures += [failure] if failure is not None else []
        if failures:
            await asyncio.to_thread(self._delete_blobs, [r.blob_ref for r in done.values()])
            raise failures[0]
        return [done[i] for i in range(len(fresh))]

    def _seal_share(
        self, org_key: OrgKey, fresh: Sequence[NewRecording], share: Sequence[int]
    ) -> tuple[dict[int, StoredRecording], BaseException | None]:
        sealed: dict[int, StoredRecording] = {}
        for i in share:
            try:
                sealed[i] = self._sealed(org_key, fresh[i])
            except Exception as exc:  # handed back: the caller removes this batch's blobs
                return sealed, exc
        return sealed, None

    def _write_blob(self, key: RecordKey, audio: AudioSource | bytes | None) -> str | None:
        if audio is None:
            return None
        ref = self._blobs.new_ref()
        if isinstance(audio, bytes):
            self._blobs.put(ref, key, io.BytesIO(audio))
            return ref
        try:
            with audio.path.open("rb") as src:
                length = self._blobs.put(ref, key, src)
        except OSError as exc:
            raise UsageError(f"{audio.path}: cannot read ({exc.strerror or exc})") from None
        if length != audio.size:
            self._blobs.delete(ref)
            raise UsageError(
                f"{audio.path}: changed while it was imported "
                f"({audio.size} bytes checked, {length} read)"
            )
        return ref

    def _delete_blobs(self, refs: Sequence[str | None]) -> None:
        for ref in refs:
            if ref is not None:
                try:
                    self._blobs.delete(ref)
                except StoreError:
                    pass  # an orphan blob is harmless: no row names it, no stored key opens it

    def _sealed(self, org_key: OrgKey, new: NewRecording) -> StoredRecording:
        """The recording as stored: a new record key, wrapped; content encrypted under
        it; its audio (if any) already in its blob. Runs on a worker thread."""
        ref = record_ref(new.org, new.source_id)
        raw_key = new_data_key()
        key = RecordKey(ref, raw_key)
        blob_ref = self._write_blob(key, new.audio)
        summary = RecordingSummary(
            0, new.org, new.channel, new.direction, new.started_at, new.duration_s, new.agent,
            new.queue, phones.mask(new.phone), new.source_id, blob_ref is not None,
            bool(new.transcript), tuple(sorted(set(new.tags))),
        )  # fmt: skip
        return StoredRecording(
            summary=summary,
            wrapped_key=org_key.wrap_record_key(ref, raw_key),
            phone_enc=encrypt_field(key, "phone", new.phone.encode()) if new.phone else None,
            phone_bidx=self._bidx(new.phone) if new.phone else None,
            transcript_enc=_encrypt_transcript(key, new.transcript),
            blob_ref=blob_ref,
            notice_played=new.notice_played,
        )

    async def fill_synthetic(self, records: int, *, seed: int, end: date, days: int) -> None:
        """Millions of metadata-only synthetic recordings, fast, for performance work.

        Only for a new demo register that nobody else uses: the rows bypass
        the audited transaction (one `ingest` event says what was done, before
        it is done), carry no content (opening one says its key is destroyed)
        and are written with fsync off. SQLite only.
        """
        from kaiku_tui.ingest.demo_bulk import BulkSpec, fill

        await self._authorize(Action.INGEST, detail="synthetic metadata")
        if self.config.is_network:
            raise UsageError("a metadata-scale demo register needs the SQLite index")
        spec = BulkSpec(
            records, seed, end, days, max_duration_s=3600, stand_ins=False, source_prefix="bulk-"
        )
        await self._audit(Action.INGEST.value, detail="synthetic metadata", result_count=records)
        await asyncio.to_thread(fill, self.config.sqlite_path, spec)

    # -- audio ----------------------------------------------------------------------

    async def open_audio(self, record_id: int, purpose: Purpose) -> RecordingAudio:
        """The recording's audio, exactly the bytes that were imported, decrypted on demand.

        The blob's header and last segment are authenticated and the event
        (`audio.play`, with the purpose) is durable before the reader is
        returned; the caller must close it (it is a context manager).
        """
        stored = await self._stored(Action.AUDIO_PLAY, record_id, purpose)
        fields = _record_fields(stored, purpose)
        if stored.blob_ref is None:
            err = NotFound(f"recording {record_id} has no audio")
            await self._failed(Action.AUDIO_PLAY, err, **fields)
            raise err
        try:
            key = await self._record_key(stored)
            reader = await asyncio.to_thread(self._blobs.open, stored.blob_ref, key)
        except (VaultError, StoreError) as err:
            await self._failed(Action.AUDIO_PLAY, err, **fields)
            raise
        try:
            await self._audit(Action.AUDIO_PLAY.value, **fields)
        except BaseException:
            reader.close()
            raise
        return RecordingAudio(record_id, reader)

    async def audio_played(
        self, record_id: int, purpose: Purpose, start_s: float, end_s: float
    ) -> None:
        """A span of a recording that was heard, from-to in seconds (closed by a pause, a
        seek, the end or leaving). The opening was audited before any byte left
        (`open_audio`); these say how much of it was listened to, and where."""
        stored = await self._stored(Action.AUDIO_PLAY, record_id, purpose)
        span = {"from_s": round(start_s, 2), "to_s": round(end_s, 2)}
        await self._audit("audio.played", **_record_fields(stored, purpose), criteria=span)

    # -- notes (annotating.py seals their texts with the recording's key) --------------

    async def notes(self, record_id: int, purpose: Purpose) -> list[Note]:
        """The recording's notes with their histories; withdrawn ones only for those who
        may read them (admin, DPO). Audited as `note.read`."""
        stored = await self._stored(Action.ANNOTATION_READ, record_id, purpose)
        fields = _record_fields(stored, purpose)
        notes = await self._open_notes(stored, await self._index.notes(record_id), fields)
        if not self.person.may(Action.WITHDRAWN_READ):
            notes = [n for n in notes if not n.withdrawn]
        await self._audit("note.read", **fields, result_count=len(notes))
        return notes

    async def add_note(
        self, record_id: int, text: str, anchor: Anchor = _WHOLE, purpose: Purpose = _QUALITY
    ) -> Note:
        body = check_note_text(text)
        stored = await self._stored(Action.ANNOTATE, record_id, purpose)
        version = StoredNote(0, 1, record_id, self.person.login, _now(), anchor.at_s,
                             anchor.message, False, None)  # fmt: skip
        return await self._write_note(stored, version, body, "note.add", purpose)

    async def edit_note(self, note_id: int, text: str, purpose: Purpose = _QUALITY) -> Note:
        """A new version with the new text at the same place; only by the note's author,
        and not after it was withdrawn."""
        body = check_note_text(text)
        stored, last = await self._own_note(note_id, "note.edit", purpose)
        if last.withdrawn:  # final: what was withdrawn is not quietly brought back
            raise UsageError(f"note {note_id} is withdrawn; write a new note instead")
        version = replace(last, version=last.version + 1, written_at=_now(), withdrawn=False)
        return await self._write_note(stored, version, body, "note.edit", purpose)

    async def withdraw_note(self, note_id: int, purpose: Purpose = _QUALITY) -> Note:
        """A withdrawing version (no text); the history stays, for admin and DPO."""
        stored, last = await self._own_note(note_id, "note.withdraw", purpose)
        if last.withdrawn:
            raise UsageError(f"note {note_id} is withdrawn already")
        version = replace(last, version=last.version + 1, written_at=_now(), withdrawn=True)
        return await self._write_note(stored, version, "", "note.withdraw", purpose)

    async def _own_note(
        self, note_id: int, action: str, purpose: Purpose
    ) -> tuple[StoredRecording, StoredNote]:
        history = await self._index.note_history(note_id)
        if not history:
            await self._authorize(Action.ANNOTATE, target=f"note:{note_id}")
            err = NotFound(f"note {note_id} does not exist")
            await self._failed(Action.ANNOTATE, err, target=f"note:{note_id}")
            raise err
        stored = await self._stored(Action.ANNOTATE, history[0].record_id, purpose)
        if history[0].author != self.person.login:
            message = f"note {note_id} is {history[0].author}'s: nobody edits another's note"
            fields = _record_fields(stored, purpose)
            await self._deny(action, "not the author", message, **fields)
        return stored, history[-1]

    async def _write_note(
        self, stored: StoredRecording, version: StoredNote, body: str, action: str, p: Purpose
    ) -> Note:
        fields = _record_fields(stored, p)
        key = await self._record_key_or_fail(stored, Action.ANNOTATE, fields)
        sealed = replace(version, text_enc=annotating.seal_text(key, annotating.NOTE_FIELD, body))
        anchor = {"at_s": version.at_s, "message": version.message, "version": version.version}
        if version.note_id:
            anchor["note"] = version.note_id
        event = self._event(action, **fields, criteria=anchor)
        note_id = await self._index.add_note(sealed, event)
        await self._count_event()
        history = await self._index.note_history(note_id)
        return annotating.notes_of(history, key)[0]

    async def _open_notes(
        self, stored: StoredRecording, versions: list[StoredNote], fields: dict[str, Any]
    ) -> list[Note]:
        if not versions:
            return []
        key = await self._record_key_or_fail(stored, Action.ANNOTATION_READ, fields)
        try:
            return annotating.notes_of(versions, key)
        except VaultError as err:
            await self._failed(Action.ANNOTATION_READ, err, **fields)
            raise

    async def _record_key_or_fail(
        self, stored: StoredRecording, action: Action, fields: dict[str, Any]
    ) -> RecordKey:
        try:
            return await self._record_key(stored)
        except VaultError as err:
            await self._failed(action, err, **fields)
            raise

    # -- tags (recording_tag, the column the browse filter and `query --tag` read) ------

    async def add_tag(self, record_id: int, tag: str, purpose: Purpose = _QUALITY) -> bool:
        """True if the recording did not carry the tag before; audited either way."""
        return await self._set_tag(record_id, check_tag(tag), True, purpose)

    async def remove_tag(self, record_id: int, tag: str, purpose: Purpose = _QUALITY) -> bool:
        return await self._set_tag(record_id, check_tag(tag), False, purpose)

    async def _set_tag(self, record_id: int, tag: str, present: bool, purpose: Purpose) -> bool:
        stored = await self._stored(Action.ANNOTATE, record_id, purpose)
        action = "tag.add" if present else "tag.remove"
        criteria = {"tag": tag, "managed": is_managed(tag)}
        event = self._event(action, **_record_fields(stored, purpose), criteria=criteria)
        changed = await self._index.set_tag(record_id, tag, present, event)
        await self._count_event()
        return changed

    async def tags(self) -> list[TagCount]:
        """The vocabulary: managed tags first, then free tags in use; counts in scope."""
        await self._authorize(Action.ANNOTATION_READ)
        counts = await self._index.tag_counts(self.person.orgs)
        await self._audit("tag.list", result_count=len(counts))
        return vocabulary(counts)

    # -- feedback cases ------------------------------------------------------------------

    async def add_case(
        self, org: str, ref: str, summary: str, received: date | None = None
    ) -> FeedbackCase:
        ref = check_case_ref(ref)
        summary = check_case_text("a case summary", summary, 2_000)
        if not summary:
            raise UsageError("a case needs a summary")
        target = f"case:{ref}"
        await self._authorize_org(Action.CASE_MANAGE, org, target=target)
        org_key = await self._org_key(org)
        raw = new_data_key()
        day = (received or datetime.now(UTC).date()).isoformat()
        stored = StoredCase(
            0,
            org,
            ref,
            day,
            summary,
            CaseStatus.OPEN.value,
            self.person.login,
            org_key.wrap_record_key(annotating.case_key_ref(org, ref), raw),
        )
        event = self._event("case.add", org=org, target=target, criteria={"received": day})
        case_id = await self._index.add_case(stored, event)
        await self._count_event()
        return annotating.case_of(replace(stored, id=case_id), None)

    async def link(self, case_id: int, record_ids: Sequence[int]) -> int:
        """Link recordings to the case (each must be in the person's scope); new links."""
        stored = await self._stored_case(Action.CASE_MANAGE, case_id)
        for record_id in record_ids:
            record = await self._stored(Action.CASE_MANAGE, record_id, Purpose.FEEDBACK)
            if record.summary.org != stored.org:  # feedback is one client's, so are its calls
                theirs, ours = record.summary.org, stored.org
                raise UsageError(f"recording {record_id} is {theirs}'s, case {case_id} {ours}'s")
        event = self._event("case.link", org=stored.org, target=f"case:{stored.ref}",
                            revealed=tuple(str(r) for r in record_ids))  # fmt: skip
        added = await self._index.link_case(case_id, record_ids, event)
        await self._count_event()
        return added

    async def move_case(self, case_id: int, to: CaseStatus) -> FeedbackCase:
        stored = await self._stored_case(Action.CASE_MANAGE, case_id)
        check_move(CaseStatus(stored.status), to)
        moved = replace(stored, status=to.value)
        return await self._update_case(moved, "case.move", {"from": stored.status, "to": to.value})

    async def set_case(
        self,
        case_id: int,
        *,
        owner: str | None = None,
        findings: str | None = None,
        resolution: str | None = None,
    ) -> FeedbackCase:
        """Change the owner (a login), the findings or the resolution; None leaves one as is."""
        stored = await self._stored_case(Action.CASE_MANAGE, case_id)
        key = await self._case_key(stored)
        changed, criteria = stored, dict[str, object]()
        if owner is not None:
            if await self._index.get_person(owner) is None:
                raise NotFound(f"person {owner!r} does not exist")
            changed, criteria["owner"] = replace(changed, owner=owner), owner
        if findings is not None:
            text = check_case_text("findings", findings)
            changed = replace(changed, findings_enc=annotating.seal_text(key, "findings", text))
            criteria["findings"] = "(changed)"
        if resolution is not None:
            text = check_case_text("a resolution", resolution)
            sealed = annotating.seal_text(key, "resolution", text)
            changed, criteria["resolution"] = replace(changed, resolution_enc=sealed), "(changed)"
        return await self._update_case(changed, "case.set", criteria)

    async def _update_case(
        self, changed: StoredCase, action: str, criteria: dict[str, object]
    ) -> FeedbackCase:
        event = self._event(action, org=changed.org, target=f"case:{changed.ref}",
                            criteria=criteria)  # fmt: skip
        await self._index.update_case(changed, event)
        await self._count_event()
        return annotating.case_of(changed, await self._case_key(changed))

    async def _stored_case(self, action: Action, case_id: int) -> StoredCase:
        target = f"case:{case_id}"
        await self._authorize(action, target=target)
        stored = await self._index.get_case(case_id)
        if stored is None:
            err = NotFound(f"case {case_id} does not exist (kaiku-tui cases list)")
            await self._failed(action, err, target=target)
            raise err
        await self._authorize_org(action, stored.org, target=f"case:{stored.ref}")
        return stored

    async def _case_key(self, stored: StoredCase) -> RecordKey:
        if stored.wrapped_key is None:
            raise VaultError(f"case {stored.ref} of {stored.org}: its key is destroyed")
        org_key = await self._org_key(stored.org)
        return org_key.unwrap_record_key(
            annotating.case_key_ref(stored.org, stored.ref), stored.wrapped_key
        )

    async def list_cases(self, where: CaseFilter = _ALL_CASES) -> list[FeedbackCase]:
        """A page of cases in scope, newest first (`where.before_id` for the next):
        reference, summary, status, owner (no findings)."""
        criteria = where.criteria()
        await self._authorize(Action.CASE_READ, criteria=criteria)
        outside = [o for o in where.orgs if not self.person.sees_org(o)]
        if outside:
            message = f"{self.person.login} may not see organisation {outside[0]}"
            await self._deny(Action.CASE_READ.value, "outside scope", message, criteria=criteria)
        orgs = self.person.scope(where.orgs)
        status = None if where.status is None else where.status.value
        found = await self._index.list_cases(
            status, orgs, before_id=where.before_id, limit=where.limit
        )
        await self._audit("case.list", criteria=criteria, result_count=len(found),
                          revealed=tuple(f"case:{c.ref}" for c in found))  # fmt: skip
        return [annotating.case_of(c, None) for c in found]

    async def case(self, case_id: int) -> FeedbackCase:
        """One case with its findings, resolution and linked recordings; audited."""
        stored = await self._stored_case(Action.CASE_READ, case_id)
        opened = await self._opened_case(stored, Action.CASE_READ)
        await self._audit("case.read", org=stored.org, target=f"case:{stored.ref}")
        return opened

    async def _opened_case(self, stored: StoredCase, action: Action) -> FeedbackCase:
        try:
            return annotating.case_of(stored, await self._case_key(stored))
        except VaultError as err:
            await self._failed(action, err, org=stored.org, target=f"case:{stored.ref}")
            raise

    async def export_case(self, case_id: int, recipient: str) -> CaseFile:
        """The case file (case, findings, linked recordings' metadata — no transcripts, no
        numbers) for writing out; audited as `case.export` with the recipient (a file)."""
        stored = await self._stored_case(Action.CASE_EXPORT, case_id)
        opened = await self._opened_case(stored, Action.CASE_EXPORT)
        rows = [await self._index.get_recording(r) for r in stored.records]
        summaries = tuple(r.summary for r in rows if r is not None)
        await self._audit(
            Action.CASE_EXPORT.value, org=stored.org, target=f"case:{stored.ref}",
            purpose=Purpose.FEEDBACK.value, recipient=recipient,
            result_count=len(summaries), revealed=tuple(str(r.id) for r in summaries),
        )  # fmt: skip
        return CaseFile(opened, summaries)

    async def _case_ref(self, case_id: int, record_id: int, purpose: Purpose) -> str:
        """The reference of the case a recording is opened from (linked, in scope)."""
        if purpose is not Purpose.FEEDBACK:
            raise UsageError(f"a recording opened from a case is for feedback, not {purpose}")
        stored = await self._stored_case(Action.CASE_READ, case_id)
        if record_id not in stored.records:
            raise UsageError(f"recording {record_id} is not linked to case {case_id}")
        return stored.ref

    # -- coaching samples ------------------------------------------------------------------

    async def draw_sample(self, spec: SampleSpec) -> CoachingSample:
        """`per_agent` recordings per agent, drawn with the seed from those in scope that
        match; recorded (spec and ids), so the same sample can be shown and redrawn."""
        criteria = spec.criteria()
        await self._authorize(Action.ANNOTATE, criteria=criteria)
        drawn: list[int] = []
        for agent in spec.agents:
            candidates = await self._candidates(spec, agent)
            drawn.extend(draw_sample(candidates, spec.per_agent, spec.seed))
        stored = StoredSample(0, self.person.login, _now(), spec.seed,
                              json.dumps(criteria, sort_keys=True), tuple(drawn))  # fmt: skip
        event = self._event("sample.draw", criteria=criteria, result_count=len(drawn),
                            revealed=tuple(str(i) for i in drawn))  # fmt: skip
        sample_id = await self._index.add_sample(stored, event)
        await self._count_event()
        return CoachingSample(sample_id, stored.drawn_by, stored.drawn_at, spec, tuple(drawn))

    async def _candidates(self, spec: SampleSpec, agent: str) -> list[int]:
        where = RecordingFilter(
            started_from=spec.started_from, started_before=spec.started_before,
            min_duration=spec.min_duration, max_duration=spec.max_duration,
            orgs=self.person.orgs, agent=agent,
        )  # fmt: skip
        ids: list[int] = []
        after: Cursor | None = None
        oldest_first = Sort(descending=False)
        while True:
            page = await self._index.page(where, oldest_first, after=after, limit=1000)
            ids.extend(r.id for r in page.rows)
            if not page.has_after or page.last is None:
                return ids
            after = page.last

    async def sample(self, sample_id: int) -> CoachingSample:
        await self._authorize(Action.ANNOTATION_READ, target=f"sample:{sample_id}")
        stored = await self._index.get_sample(sample_id)
        if stored is None:
            err = NotFound(f"sample {sample_id} does not exist (kaiku-tui samples list)")
            await self._failed(Action.ANNOTATION_READ, err, target=f"sample:{sample_id}")
            raise err
        sample = annotating.sample_of(stored)
        await self._audit("sample.read", target=f"sample:{sample_id}",
                          result_count=len(stored.record_ids))  # fmt: skip
        return sample

    async def score(self, sample_id: int, score: Score) -> None:
        """Score one recording of a sample (once per scorer); the comment sealed."""
        target = f"sample:{sample_id}"
        await self._authorize(Action.ANNOTATE, target=target)
        sample = await self._index.get_sample(sample_id)
        if sample is None or score.record_id not in sample.record_ids:
            err = NotFound(f"recording {score.record_id} is not in sample {sample_id}")
            criteria = {"sample": sample_id, "record": score.record_id}
            await self._failed(Action.ANNOTATE, err, target=target, criteria=criteria)
            raise err
        stored = await self._stored(Action.ANNOTATE, score.record_id, _QUALITY)
        fields = _record_fields(stored, _QUALITY)
        key = await self._record_key_or_fail(stored, Action.ANNOTATE, fields)
        comment = annotating.seal_text(key, annotating.COMMENT_FIELD, score.comment.strip())
        row = StoredScore(sample_id, score.record_id, self.person.login, _now(),
                          annotating.scores_json(score), comment)  # fmt: skip
        event = self._event("sample.score", **fields, criteria={"sample": sample_id,
                            **dict(score.scores)})  # fmt: skip
        await self._index.add_score(row, event)
        await self._count_event()

    async def scores(self, sample_id: int) -> list[RecordedScore]:
        """Every score given in the sample (in scope), comments decrypted; audited."""
        target = f"sample:{sample_id}"
        await self._authorize(Action.ANNOTATION_READ, target=target)
        if await self._index.get_sample(sample_id) is None:
            err = NotFound(f"sample {sample_id} does not exist (kaiku-tui samples list)")
            await self._failed(Action.ANNOTATION_READ, err, target=target)
            raise err
        out: list[RecordedScore] = []
        for row in await self._index.scores(sample_id):
            stored = await self._index.get_recording(row.record_id)
            if stored is None or not self.person.sees_org(stored.summary.org):
                continue
            out.append(annotating.recorded_score(row, await self._record_key(stored)))
        await self._audit("sample.scores", target=f"sample:{sample_id}", result_count=len(out))
        return out

    # -- persons ------------------------------------------------------------------

    async def add_person(self, person: Person) -> None:
        await self._put_person(person, new=True)

    async def set_person(self, login: str, roles: frozenset[Role], orgs: tuple[str, ...]) -> None:
        current = await self._existing_person(login)
        await self._put_person(replace(current, roles=roles, orgs=orgs), new=False)

    async def disable_person(self, login: str) -> None:
        current = await self._existing_person(login)
        await self._put_person(replace(current, active=False), new=False)

    async def _existing_person(self, login: str) -> Person:
        await self._authorize(Action.PERSON_MANAGE, target=login)
        current = await self._index.get_person(login)
        if current is None:
            err = NotFound(f"person {login!r} does not exist")
            await self._failed(Action.PERSON_MANAGE, err, target=login)
            raise err
        return current

    async def _put_person(self, person: Person, *, new: bool) -> None:
        await self._authorize(Action.PERSON_MANAGE, target=person.login)
        for org in person.orgs:
            if await self._index.get_org(org) is None:
                raise NotFound(f"organisation {org!r} does not exist")
        criteria = {
            "roles": sorted(r.value for r in person.roles),
            "orgs": list(person.orgs),
            "active": person.active,
        }
        action = "person.add" if new else "person.set"
        event = self._event(action, target=person.login, criteria=criteria)
        await self._index.put_person(person, event, new=new)
        await self._count_event()

    async def list_persons(self) -> list[Person]:
        await self._authorize(Action.PERSON_READ)
        persons = await self._index.list_persons()
        await self._audit("person.list", result_count=len(persons))
        return persons

    # -- organisations ------------------------------------------------------------

    async def add_org(self, org: Organisation) -> None:
        check_code(org.code)
        await self._authorize(Action.ORG_MANAGE, org=org.code)
        wrapped = self._master.wrap_org_key(org.code, new_data_key())
        stored = StoredOrg(org, wrapped, self._master.key_id)
        event = self._event(
            "org.add",
            org=org.code,
            criteria={"name": org.name, "contract_end": _iso_date(org.contract_end)},
        )
        await self._index.add_org(stored, event)
        await self._count_event()

    async def list_orgs(self) -> list[Organisation]:
        await self._authorize(Action.ORG_READ)
        orgs = [s.org for s in await self._index.list_orgs()]
        await self._audit("org.list", result_count=len(orgs))
        return orgs

    # -- the audit log ------------------------------------------------------------

    async def verify_audit(self) -> VerifyReport:
        """Recompute the whole chain and its MACs, and compare it with the checkpoints."""
        await self._authorize(Action.AUDIT_VERIFY)
        report = await self._verify_index(self._index, self.config)
        problem = report.problem
        outcome = "ok" if problem is None else "error"
        await self._audit(
            Action.AUDIT_VERIFY.value,
            outcome,
            result_count=report.checked,
            detail=None if problem is None else str(problem),
        )
        return report

    # -- moving the register to another database ---------------------------------------

    async def migrate_to(self, to: str, progress: migration.Progress) -> MigrationReport:
        """Copy the whole register into the empty database `to` and verify the copy there.

        Audited in this register before the copy begins, so the event is in the copy too.
        The copy is made usable only once its chain verifies."""
        target_config = with_index(self.config, to)
        where = index_location(target_config)
        await self._authorize(Action.MIGRATE, target=where)
        try:
            target = await migration.open_target(target_config, self._master.audit_mac_key(), to)
        except KaikuError as err:
            await self._failed(Action.MIGRATE, err, target=where)
            raise
        try:
            return await self._migrate(target, target_config, where, progress)
        except KaikuError as err:
            await self._failed(Action.MIGRATE, err, target=where)
            raise
        finally:
            await target.close()

    async def _migrate(
        self, target: Index, target_config: Config, where: str, progress: migration.Progress
    ) -> MigrationReport:
        kind = "postgresql" if target_config.is_network else "sqlite"
        await self._audit(Action.MIGRATE.value, target=where, criteria={"to": kind})
        key_id = self._master.key_id
        copy = await migration.copy_register(
            self._index, target, key_id, _fresh_start(target_config), progress
        )
        verified = await self._verify_index(target, target_config)
        problem = None if verified.problem is None else str(verified.problem)
        # A copy that does not verify is never made usable. Only then does the source
        # get an event after the copy: a usable copy and its source end on one head.
        if problem is None:
            await migration.finish(target, key_id)
        else:
            detail = f"the copy does not verify: {problem}"
            await self._audit(Action.MIGRATE.value, "error", target=where, detail=detail)
        source_head = await self._index.audit_head()
        ahead = (source_head[0] if source_head else 0) - verified.head_seq
        return MigrationReport(
            where, copy.tables, copy.resumed, verified.checked, verified.head_seq,
            verified.checkpoints, problem, max(ahead, 0),
        )  # fmt: skip

    async def _verify_index(self, index: Index, config: Config) -> VerifyReport:
        public = self._master.checkpoint_signing_key().public_key()
        checkpoints = await asyncio.to_thread(self._checkpoints.read, public)
        cuts = await asyncio.to_thread(cut_file(self.config.checkpoint_file).read, public)
        origin, problem = verified_start(await index.get_info(CUT_INFO), cuts)
        cut_seq = 0 if origin is None else origin[0] - 1
        if problem is not None:
            last = await index.audit_head()
            return VerifyReport(0, last[0] if last else 0, len(checkpoints), problem)
        mac_key = self._master.audit_mac_key()
        found = await verify_log(index, config, mac_key, checkpoints, origin)
        head = found.head[0] if found.head else 0
        return VerifyReport(found.count, head, len(checkpoints), found.problem, cut_seq)

    async def audit_events(self, query: AuditQuery) -> list[tuple[int, AuditEvent]]:
        await self._authorize(Action.AUDIT_READ)
        bodies = await self._index.audit_bodies(query)
        criteria = {k: v for k, v in vars(query).items() if v is not None}
        await self._audit(Action.AUDIT_READ.value, criteria=criteria, result_count=len(bodies))
        return [event_from_body(b) for b in bodies]


async def _check_master_key(index: Index, master: MasterKey, config: Config) -> None:
    """Refuse a master key that is not this register's, before any event is written:
    events sealed under a wrong key would break the chain for everyone."""
    expected = await index.get_info(MASTER_KEY_ID)
    if expected is None and (source := await migration.unfinished(index)) is not None:
        raise StoreError(
            f"index {index.location} is an unfinished copy of the register at {source}; "
            "finish it by running 'kaiku-tui migrate --to' there again"
        )
    if expected != master.key_id:
        raise ConfigError(
            f"master key {master.key_id} (from KAIKU_MASTER_KEY or {config.master_key_file}) "
            f"is not the key of the register at {index.location} ({expected})"
        )


def _fresh_start(config: Config) -> str:
    """How to empty a target, for the messages that refuse it."""
    if config.is_network:
        return "drop and re-create that database (or schema), then run migrate again"
    path = config.sqlite_path
    return f"delete {path} (and {path.name}-wal, {path.name}-shm), then run migrate again"


def record_ref(org: str, source_id: str) -> str:
    """The name of a record in every key's and ciphertext's associated data."""
    return f"{org}/{source_id}"


def _event(
    identity: Identity, roles: tuple[str, ...], action: str, outcome: str = "ok", **fields: Any
) -> AuditEvent:
    return AuditEvent(
        at=datetime.now(UTC),
        actor=identity.login,
        roles=roles,
        action=action,
        outcome=outcome,
        client_host=identity.client_host,
        **fields,
    )


def _detail(reason: str, fields: dict[str, Any]) -> str:
    """The reason, with the action's own detail (e.g. an import's source) after it."""
    own = fields.pop("detail", None)
    return f"{reason} ({own})" if own else reason


async def _vouched(config: Config, index: Index, identity: Identity) -> Identity:
    """The person at the keyboard as the configuration says to tell: the OS login given,
    or the database login the index authenticated as."""
    if config.identity == "database":
        return await database_identity(index, identity)
    return identity


def _refused_login(identity: Identity, person: Person | None) -> AuditEvent:
    why = "not a named person" if person is None else "person is disabled"
    return _event(identity, (), "session.open", "denied", detail=why)


def _record_fields(stored: StoredRecording, purpose: Purpose) -> dict[str, Any]:
    bidx = stored.phone_bidx
    return {
        "target": str(stored.summary.id),
        "org": stored.summary.org,
        "purpose": purpose.value,
        "subject": bidx.hex() if bidx else None,
    }


def _encrypt_transcript(key: RecordKey, lines: Sequence[TranscriptLine]) -> bytes | None:
    if not lines:
        return None
    data = [{"at": x.at, "speaker": x.speaker, "role": x.role.value, "text": x.text} for x in lines]
    return encrypt_field(key, "transcript", json.dumps(data, ensure_ascii=False).encode())


def _transcript(key: RecordKey, blob: bytes | None) -> tuple[TranscriptLine, ...]:
    if blob is None:
        return ()
    data = json.loads(decrypt_field(key, "transcript", blob))
    return tuple(
        TranscriptLine(float(x["at"]), str(x["speaker"]), Speaker(x["role"]), str(x["text"]))
        for x in data
    )


def _decrypt_text(key: RecordKey, field: str, blob: bytes | None) -> str | None:
    return None if blob is None else decrypt_field(key, field, blob).decode()


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def _iso_date(day: date | None) -> str | None:
    return day.isoformat() if day else None
