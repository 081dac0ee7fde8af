"""Retention and legal holds through the index, on every backend.

The purge batch is one transaction with one event per recording: tombstones in,
the recording and everything hung on it out; a hold set meanwhile, or a recording
gone, undoes all of it, events included.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from kaiku_tui.domain.access import Purpose
from kaiku_tui.domain.browse import RecordingFilter, Sort, SortKey
from kaiku_tui.domain.recording import Channel
from kaiku_tui.domain.retention import Hold, Tombstone
from kaiku_tui.errors import NotFound, StoreError, UsageError
from kaiku_tui.index.base import Index
from kaiku_tui.index.records import DueRecording, StoredCase, StoredNote, StoredTombstone
from kaiku_tui.index.retention_sql import REKEY
from tests.contract.rows import event, recording, stored_org

T = 1_750_000_000
PHONE = b"\x07" * 16


async def four(index: Index) -> list[int]:
    """HKI's recordings a..c an hour apart (a and b with a blob), PIRHA's d; ids by date."""
    for code in ("HKI", "PIRHA"):
        await index.add_org(stored_org(code), event("org.add"))
    rows = [
        recording("a", T, 60, tags=("complaint",), phone_bidx=PHONE, transcript_enc=b"t",
                  blob_ref="aa/blob-a"),
        recording("b", T + 3600, 90, blob_ref="bb/blob-b"),
        recording("c", T + 7200, 30, channel=Channel.CHAT),
        recording("d", T, 45, org="PIRHA"),
    ]  # fmt: skip
    await index.add_recordings(rows, event("ingest"))
    page = await index.page(RecordingFilter(orgs=("HKI",)), Sort(SortKey.DATE, False), limit=10)
    other = await index.page(RecordingFilter(orgs=("PIRHA",)), Sort(SortKey.DATE, False))
    return [r.id for r in page.rows] + [other.rows[0].id]


def hold(record_id: int | None = None, case_id: int | None = None) -> Hold:
    return Hold(0, record_id, case_id, "court case", "KO-1/2026", Purpose.LEGAL_HOLD, "sari", T)


def stone(due: DueRecording, org: str = "HKI") -> StoredTombstone:
    reason = "retention 30 days"
    t = Tombstone(due.id, org, due.channel, due.started_at, due.duration_s, T + 99, reason)
    return StoredTombstone(t, due.blob_ref)


async def head(index: Index) -> int:
    found = await index.audit_head()
    return found[0] if found else 0


async def test_an_organisation_rule_is_set_with_its_event(index: Index) -> None:
    await index.add_org(stored_org("HKI"), event("org.add"))
    was = stored_org("HKI").mac
    await index.set_org_rule("HKI", date(2027, 6, 30), 365, event("org.set"), mac=b"m2", was=was)
    org = await index.get_org("HKI")
    assert org is not None and (org.org.contract_end, org.org.retention_days, org.mac) == (
        date(2027, 6, 30), 365, b"m2",
    )  # fmt: skip
    await index.set_org_rule("HKI", None, None, event("org.set"), mac=b"m3", was=b"m2")
    org = await index.get_org("HKI")
    assert org is not None and (org.org.contract_end, org.org.retention_days) == (None, None)
    before = await head(index)
    with pytest.raises(NotFound):
        await index.set_org_rule("NOPE", None, 1, event("org.set"), mac=b"m", was=None)
    with pytest.raises(StoreError, match="changed meanwhile"):  # the row's MAC is not `was`
        await index.set_org_rule("HKI", None, 1, event("org.set"), mac=b"m4", was=b"m2")
    assert await head(index) == before
    assert (await index.get_org("HKI")) == replace(org, mac=b"m3")


async def test_due_rows_are_one_organisations_range_oldest_first(index: Index) -> None:
    a, b, c, d = await four(index)
    assert await index.retention_count("HKI", -(2**62), T + 3601) == 2
    assert await index.retention_count("HKI", T + 1, 2**62) == 2
    rows = await index.retention_rows("HKI", T + 7200, None, 10)
    assert [r.id for r in rows] == [a, b]
    assert rows[0] == DueRecording(a, T, 60, Channel.CALL, PHONE, "aa/blob-a")
    after = await index.retention_rows("HKI", 2**62, (T, a), 1)
    assert [r.id for r in after] == [b]
    assert [r.id for r in await index.retention_rows("PIRHA", 2**62, None, 10)] == [d]


async def test_holds_on_a_recording_and_on_a_case_also_linked_later(index: Index) -> None:
    a, b, c, _ = await four(index)
    own = await index.add_hold(hold(a), event("hold.set"))
    case = StoredCase(0, "HKI", "FB-1", "2026-05-01", "summary", "open", "", None)
    case_id = await index.add_case(case, event("case.add"))
    on_case = await index.add_hold(hold(case_id=case_id), event("hold.set"))
    await index.link_case(case_id, [b], event("case.link"))
    assert {i for i, _ in await index.held("HKI")} == {a, b}
    await index.link_case(case_id, [c], event("case.link"))  # linked after the hold
    assert sorted((i, h.id) for i, h in await index.held("HKI")) == [
        (a, own), (b, on_case), (c, on_case),
    ]  # fmt: skip
    assert await index.held("PIRHA") == []
    assert [h.id for h in await index.holds_on(c)] == [on_case]
    await index.release_hold(on_case, "admin.aalto", T + 5, event("hold.release"))
    assert await index.holds_on(c) == []
    released = await index.get_hold(on_case)
    assert released is not None and (released.released_by, released.released_at) == (
        "admin.aalto", T + 5,
    )  # fmt: skip
    with pytest.raises(UsageError, match="released already"):
        await index.release_hold(on_case, "admin.aalto", T + 6, event("hold.release"))
    assert [h.id for h in await index.list_holds(active_only=True)] == [own]
    assert [h.id for h in await index.list_holds(active_only=False)] == [own, on_case]


async def test_a_purge_batch_leaves_tombstones_and_no_content(index: Index) -> None:
    a, b, c, d = await four(index)
    note = StoredNote(0, 1, a, "rev", T, None, None, False, b"secret")
    await index.add_note(note, event("note.add"))
    case_id = await index.add_case(
        StoredCase(0, "HKI", "FB-1", "2026-05-01", "s", "open", "", None), event("case.add")
    )
    await index.link_case(case_id, [a], event("case.link"))
    due = await index.retention_rows("HKI", T + 3601, None, 10)
    before = await head(index)
    events = [event("retention.purge", target=str(r.id)) for r in due]
    await index.purge([stone(r) for r in due], events, [])
    assert await head(index) == before + 2
    assert await index.get_recording(a) is None and await index.get_recording(b) is None
    assert await index.get_recording(c) is not None and await index.get_recording(d) is not None
    assert await index.notes(a) == []
    linked = await index.get_case(case_id)
    assert linked is not None and linked.records == ()
    assert dict(await index.tag_counts(())) == {}
    found = await index.tombstone(a)
    assert found == Tombstone(a, "HKI", Channel.CALL, T, 60, T + 99, "retention 30 days")
    assert await index.pending_blobs(10) == [(a, "aa/blob-a"), (b, "bb/blob-b")]
    await index.purge([], [event("retention.purge")], [a])
    assert await index.pending_blobs(10) == [(b, "bb/blob-b")]
    await index.blobs_gone([b], event("retention.purge"))
    assert await index.pending_blobs(10) == []
    # the browse list no longer knows them
    page = await index.page(RecordingFilter(), Sort(SortKey.DATE, False), limit=10)
    assert {r.id for r in page.rows} == {c, d}


async def test_a_hold_set_meanwhile_undoes_the_whole_batch(index: Index) -> None:
    a, b, _, _ = await four(index)
    due = await index.retention_rows("HKI", T + 3601, None, 10)
    await index.add_hold(hold(b), event("hold.set"))
    before = await head(index)
    events = [event("retention.purge", target=str(r.id)) for r in due]
    with pytest.raises(StoreError, match=f"recording {b} was put on hold"):
        await index.purge([stone(r) for r in due], events, [])
    assert await head(index) == before  # no event of the batch landed
    assert await index.get_recording(a) is not None and await index.tombstone(a) is None


async def test_a_batch_whose_recording_is_gone_lands_nothing(index: Index) -> None:
    a, _, _, _ = await four(index)
    due = await index.retention_rows("HKI", T + 1, None, 10)
    await index.purge([stone(r) for r in due], [event("retention.purge")], [])
    ghost = DueRecording(a + 1000, T, 1, Channel.CALL, None, None)
    before = await head(index)
    with pytest.raises(StoreError, match="gone already"):
        await index.purge([stone(ghost)], [event("retention.purge")], [])
    assert await head(index) == before and await index.tombstone(a + 1000) is None


async def test_shredding_needs_an_empty_organisation(index: Index) -> None:
    _, _, _, d = await four(index)
    case = StoredCase(0, "PIRHA", "FB-2", "2026-05-01", "about a person", "open", "", b"k",
                      b"findings", b"resolution")  # fmt: skip
    case_id = await index.add_case(case, event("case.add"))
    was = stored_org("PIRHA").mac
    with pytest.raises(StoreError, match="still has recordings"):
        await index.shred_org("PIRHA", event("retention.shred"), mac=b"shred", was=was)
    due = await index.retention_rows("PIRHA", 2**62, None, 10)
    await index.purge([stone(r, "PIRHA") for r in due], [event("retention.purge")], [])
    assert await index.get_info(REKEY) is None
    with pytest.raises(StoreError, match="no key"):  # the row's MAC is not `was`
        await index.shred_org("PIRHA", event("retention.shred"), mac=b"shred", was=b"other")
    await index.shred_org("PIRHA", event("retention.shred"), mac=b"shred", was=was)
    org = await index.get_org("PIRHA")
    assert org is not None and org.wrapped_key is None and org.mac == b"shred"
    cleared = await index.get_case(case_id)
    assert cleared is not None
    assert (cleared.wrapped_key, cleared.findings_enc, cleared.resolution_enc, cleared.summary) == (
        None, None, None, "",
    )  # fmt: skip
    assert await index.get_info(REKEY) == "pending"
    with pytest.raises(StoreError, match="no key"):
        await index.shred_org("PIRHA", event("retention.shred"), mac=b"again", was=b"shred")
    hki = await index.get_org("HKI")
    assert hki is not None and hki.wrapped_key is not None
    assert await index.tombstone(d) is not None


async def test_a_destroyed_id_is_never_given_again(index: Index) -> None:
    """SQLite gives a new row the largest rowid + 1: destroying the newest recording must
    not let the next import take its id (the audit log names recordings by id)."""
    ids = await four(index)
    newest = max(ids)
    everything = await index.retention_rows("PIRHA", 2**62, None, 10)
    assert [r.id for r in everything] == [newest]
    await index.purge([stone(r, "PIRHA") for r in everything], [event("retention.purge")], [])
    await index.add_recordings([recording("e", T, 10, org="PIRHA")], event("ingest"))
    page = await index.page(RecordingFilter(orgs=("PIRHA",)), Sort(SortKey.DATE, False))
    assert [r.id for r in page.rows][0] > newest
