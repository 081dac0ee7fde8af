"""The register's intake facet: recordings in, encrypted and indexed in one audited
transaction per batch (the importers' and the demo's way in).

Recordings the organisation already holds (same source id) are skipped before
anything is encrypted. Audio goes into the blob store first and the rows (with
their audit event) after: a crash in between leaves only blobs that no row
names, sealed under record keys that were never stored — unreadable, and
harmless; the rerun writes fresh ones.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from datetime import date

from kaiku_tui.config import Config
from kaiku_tui.domain import phone as phones
from kaiku_tui.domain.access import Action
from kaiku_tui.domain.recording import AudioSource, NewRecording, RecordingSummary
from kaiku_tui.errors import StoreError, UsageError
from kaiku_tui.index.protocols import Recordings
from kaiku_tui.index.records import AddResult, StoredRecording
from kaiku_tui.register.gate import Gate
from kaiku_tui.register.sealing import record_ref, seal_transcript
from kaiku_tui.vault.blobs import BlobStore
from kaiku_tui.vault.fields import encrypt_field
from kaiku_tui.vault.keys import OrgKey, RecordKey, new_data_key

_SEAL_THREADS = 4  # threads sealing one import batch (two cores here; I/O waits overlap)


class Intake:
    def __init__(self, gate: Gate, index: Recordings, blobs: BlobStore, config: Config) -> None:
        self._gate = gate
        self._index = index
        self._blobs = blobs
        self._config = config

    async def add_recordings(self, new: Sequence[NewRecording], *, source: str) -> AddResult:
        """Encrypt and index recordings of one organisation, in one audited transaction."""
        orgs = {r.org for r in new}
        if len(orgs) != 1:
            raise UsageError("add_recordings takes the recordings of one organisation at a time")
        (org,) = orgs
        await self._gate.authorize_org(Action.INGEST, org, detail=source)
        org_key = await self._gate.keys.org_key(org)
        fresh = await self._fresh(org, new)
        rows = await self._seal_all(org_key, fresh)
        refs = [r.blob_ref for r in rows]
        event = self._gate.event(
            Action.INGEST.value, org=org, detail=source, result_count=len(rows)
        )
        try:
            result = await self._index.add_recordings(rows, event)
        except Exception:
            # The transaction did not commit. Not on cancellation (Ctrl-C): the writer
            # thread may still commit these rows, and then they need their blobs.
            await asyncio.to_thread(self._delete_blobs, refs)
            raise
        await self._gate.counted()
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
            phone_bidx=self._gate.keys.blind_index(new.phone) if new.phone else None,
            transcript_enc=seal_transcript(key, new.transcript),
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

        await self._gate.authorize(Action.INGEST, detail="synthetic metadata")
        if self._config.is_network:
            raise UsageError("a metadata-scale demo register needs the SQLite index")
        spec = BulkSpec(
            records, seed, end, days, max_duration_s=3600, stand_ins=False, source_prefix="bulk-"
        )
        await self._gate.audit(
            Action.INGEST.value, detail="synthetic metadata", result_count=records
        )
        await asyncio.to_thread(fill, self._config.sqlite_path, spec)
