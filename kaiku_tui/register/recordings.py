"""The register's recordings facet: finding recordings, and opening, reading and
hearing one.

A read is done into memory first, then audited, then returned: if the audit
append fails, what was read is dropped and the caller gets an AuditFailure —
nothing is revealed without its event (fail closed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from kaiku_tui.domain.access import Action, Purpose
from kaiku_tui.domain.browse import Count, Cursor, Page, RecordingFilter, Sort
from kaiku_tui.domain.recording import Recording
from kaiku_tui.errors import NotFound, StoreError, VaultError
from kaiku_tui.index.protocols import Recordings as RecordingStore
from kaiku_tui.index.protocols import RetentionStore
from kaiku_tui.register.cases import Cases
from kaiku_tui.register.gate import Gate, record_fields
from kaiku_tui.register.recorded_audio import RecordingAudio
from kaiku_tui.register.sealing import open_field, open_transcript
from kaiku_tui.vault.blobs import BlobStore

NEWEST_FIRST = Sort()


class BrowseStore(RecordingStore, RetentionStore, Protocol):
    """The recordings, and their holds (an opened recording says whether it is held)."""


class Recordings:
    def __init__(self, gate: Gate, index: BrowseStore, blobs: BlobStore, cases: Cases) -> None:
        self._gate = gate
        self._index = index
        self._blobs = blobs
        self._cases = cases

    # -- browsing -----------------------------------------------------------------

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
        await self._gate.authorize(Action.SEARCH, criteria=where.criteria())
        scoped, bidx = await self._gate.scoped(where)
        page = await self._index.page(
            scoped, sort, phone_bidx=bidx, after=after, before=before, limit=limit
        )
        criteria = {**where.criteria(), "sort": str(sort), "limit": limit}
        cursor = after or before
        if cursor is not None:
            criteria["from_cursor"] = list(cursor.values)
        await self._gate.audit(
            Action.SEARCH.value,
            criteria=criteria,
            subject=bidx.hex() if bidx else None,
            result_count=len(page.rows),
            revealed=tuple(str(r.id) for r in page.rows),
        )
        return page

    async def count(self, where: RecordingFilter, *, cap: int | None = 10_000) -> Count:
        """How many match, capped (None: exact); audited, since a count can be personal data."""
        await self._gate.authorize(Action.SEARCH, criteria=where.criteria())
        scoped, bidx = await self._gate.scoped(where)
        count = await self._index.count(scoped, phone_bidx=bidx, cap=cap)
        await self._gate.audit(
            "search.count",
            criteria={**where.criteria(), "cap": cap},
            subject=bidx.hex() if bidx else None,
            result_count=count.value,
        )
        return count

    async def histogram(self, where: RecordingFilter, edges: Sequence[int]) -> list[int]:
        """How many start in each [edges[i], edges[i+1]) within the filter: the sparkline's
        bars. Counted bucket by bucket (each an index range), audited once as a whole."""
        await self._gate.authorize(Action.SEARCH, criteria=where.criteria())
        scoped, bidx = await self._gate.scoped(where)
        counts: list[int] = []
        for low, high in zip(edges, edges[1:], strict=False):
            low = max(low, scoped.started_from or low)
            high = min(high, scoped.started_before or high)
            if low >= high:
                counts.append(0)
                continue
            bucket = replace(scoped, started_from=low, started_before=high)
            counts.append((await self._index.count(bucket, phone_bidx=bidx, cap=None)).value)
        await self._gate.audit(
            "search.histogram",
            criteria={**where.criteria(), "buckets": len(counts)},
            subject=bidx.hex() if bidx else None,
            result_count=sum(counts),
        )
        return counts

    async def seek(self, where: RecordingFilter, sort: Sort, fraction: float) -> Cursor | None:
        """Where `fraction` of the way through the result is; reveals no row, so not audited."""
        await self._gate.authorize(Action.SEARCH, criteria=where.criteria())
        scoped, bidx = await self._gate.scoped(where)
        return await self._index.seek(scoped, sort, fraction, phone_bidx=bidx)

    # -- one recording --------------------------------------------------------------

    async def open_recording(
        self, record_id: int, purpose: Purpose, *, case_id: int | None = None
    ) -> Recording:
        """Metadata and transcript, decrypted; audited with the purpose before returning.

        Worked from a feedback case (`case_id`), the purpose is the case's (`feedback`;
        another is refused) and the event names the case's reference; the recording
        must be linked to the case."""
        ref = None if case_id is None else await self._cases.ref_of(case_id, record_id, purpose)
        stored = await self._gate.recording(Action.RECORD_OPEN, record_id, purpose)
        fields = record_fields(stored, purpose)
        if ref is not None:
            fields["request_ref"] = ref
        try:
            key = await self._gate.keys.record_key(stored)
            transcript = open_transcript(key, stored.transcript_enc)
        except VaultError as err:
            await self._gate.failed(Action.RECORD_OPEN, err, **fields)
            raise
        held = bool(await self._index.holds_on(record_id))  # the holds table, not the old column
        await self._gate.audit(Action.RECORD_OPEN.value, **fields)
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
        stored = await self._gate.recording(Action.PHONE_REVEAL, record_id, purpose)
        fields = record_fields(stored, purpose)
        try:
            key = await self._gate.keys.record_key(stored)
            number = open_field(key, "phone", stored.phone_enc)
        except VaultError as err:
            await self._gate.failed(Action.PHONE_REVEAL, err, **fields)
            raise
        await self._gate.audit(Action.PHONE_REVEAL.value, **fields)
        return number

    # -- audio ----------------------------------------------------------------------

    async def open_audio(self, record_id: int, purpose: Purpose) -> RecordingAudio:
        """The recording's audio, exactly the bytes that were imported, decrypted on demand.

        The blob's header and last segment are authenticated and the event
        (`audio.play`, with the purpose) is durable before the reader is
        returned; the caller must close it (it is a context manager).
        """
        stored = await self._gate.recording(Action.AUDIO_PLAY, record_id, purpose)
        fields = record_fields(stored, purpose)
        if stored.blob_ref is None:
            err = NotFound(f"recording {record_id} has no audio")
            await self._gate.failed(Action.AUDIO_PLAY, err, **fields)
            raise err
        try:
            key = await self._gate.keys.record_key(stored)
            reader = await asyncio.to_thread(self._blobs.open, stored.blob_ref, key)
        except (VaultError, StoreError) as err:
            await self._gate.failed(Action.AUDIO_PLAY, err, **fields)
            raise
        try:
            await self._gate.audit(Action.AUDIO_PLAY.value, **fields)
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
        stored = await self._gate.recording(Action.AUDIO_PLAY, record_id, purpose)
        span = {"from_s": round(start_s, 2), "to_s": round(end_s, 2)}
        await self._gate.audit("audio.played", **record_fields(stored, purpose), criteria=span)
