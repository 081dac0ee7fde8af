"""Notes, tags, feedback cases and coaching samples through the index, on every backend.

Each change lands with its audit event or not at all: a change the database
refuses (a foreign key, a duplicate) leaves the audit head where it was.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from kaiku_tui.domain.browse import RecordingFilter, Sort, SortKey
from kaiku_tui.errors import StoreError, UsageError
from kaiku_tui.index.base import Index
from kaiku_tui.index.records import StoredCase, StoredNote, StoredSample, StoredScore
from tests.contract.rows import event, recording, stored_org

CIPHER = bytes(range(256)) + b"\x00"  # every byte value and a NUL: not text


async def two_recordings(index: Index) -> tuple[int, int]:
    for code in ("HKI", "PIRHA"):
        await index.add_org(stored_org(code), event("org.add"))
    rows = [
        recording("a", 1_750_000_000, 60, tags=("complaint",)),
        recording("b", 1_750_000_600, 90, org="PIRHA"),
    ]
    await index.add_recordings(rows, event("ingest"))
    page = await index.page(RecordingFilter(), Sort(SortKey.DATE, False), limit=10)
    ids = [r.id for r in page.rows]
    return ids[0], ids[1]


def note(record_id: int, note_id: int = 0, version: int = 1, **changes: object) -> StoredNote:
    base = StoredNote(note_id, version, record_id, "rev.laine", 1_760_000_000, 12.5, None, False,
                      CIPHER)  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


async def head_seq(index: Index) -> int:
    head = await index.audit_head()
    return head[0] if head else 0


async def test_note_versions_are_kept_in_order(index: Index) -> None:
    a, b = await two_recordings(index)
    first = await index.add_note(note(a), event("note.add"))
    other = await index.add_note(note(a, at_s=None, message=3), event("note.add"))
    assert other != first
    await index.add_note(note(a, first, 2, text_enc=b"v2"), event("note.edit"))
    withdrawn = note(a, first, 3, withdrawn=True, text_enc=None, at_s=None)
    await index.add_note(withdrawn, event("note.withdraw"))
    history = await index.note_history(first)
    assert [(v.version, v.withdrawn, v.text_enc) for v in history] == [
        (1, False, CIPHER), (2, False, b"v2"), (3, True, None),
    ]  # fmt: skip
    assert history[0] == note(a, first)
    assert history[2] == replace(withdrawn, note_id=first)
    on_a = await index.notes(a)
    versions = [(n.note_id, n.version) for n in on_a]
    assert versions == [(first, 1), (first, 2), (first, 3), (other, 1)]
    assert on_a[3].message == 3 and on_a[3].at_s is None
    assert await index.notes(b) == [] and await index.note_history(9999) == []


async def test_a_version_taken_is_refused_with_its_event(index: Index) -> None:
    a, _ = await two_recordings(index)
    first = await index.add_note(note(a), event("note.add"))
    await index.add_note(note(a, first, 2), event("note.edit"))
    before = await head_seq(index)
    with pytest.raises(UsageError, match="version 2 already"):
        await index.add_note(note(a, first, 2), event("note.edit"))
    assert await head_seq(index) == before
    assert len(await index.note_history(first)) == 2


async def test_a_note_on_no_recording_leaves_no_event(index: Index) -> None:
    await two_recordings(index)
    before = await head_seq(index)
    with pytest.raises(StoreError):
        await index.add_note(note(424242), event("note.add"))
    assert await head_seq(index) == before


async def test_tags_added_and_removed_with_their_events(index: Index) -> None:
    a, b = await two_recordings(index)
    before = await head_seq(index)
    assert await index.set_tag(b, "good-example", True, event("tag.add"))
    assert not await index.set_tag(b, "good-example", True, event("tag.add"))
    assert await index.set_tag(a, "good-example", True, event("tag.add"))
    assert await index.set_tag(a, "complaint", False, event("tag.remove"))
    assert not await index.set_tag(a, "complaint", False, event("tag.remove"))
    assert await head_seq(index) == before + 5
    assert await index.tag_counts(()) == [("good-example", 2)]
    assert await index.tag_counts(("PIRHA",)) == [("good-example", 1)]
    stored = await index.get_recording(a)
    assert stored is not None and stored.summary.tags == ("good-example",)
    with pytest.raises(StoreError):
        await index.set_tag(424242, "complaint", True, event("tag.add"))
    assert await head_seq(index) == before + 5


def case(org: str = "HKI", ref: str = "PAL-1", **changes: object) -> StoredCase:
    base = StoredCase(0, org, ref, "2026-05-02", "Soittaja ei saanut apua", "open", "", CIPHER)
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_cases_round_trip_link_and_list(index: Index) -> None:
    a, b = await two_recordings(index)
    one = await index.add_case(case(), event("case.add"))
    two = await index.add_case(case("PIRHA", "PAL-1"), event("case.add"))
    assert await index.link_case(one, [a, b, a], event("case.link")) == 2
    assert await index.link_case(one, [b], event("case.link")) == 0
    got = await index.get_case(one)
    assert got == case(id=one, records=tuple(sorted((a, b))))
    changed = replace(got, status="investigating", owner="sup.mäkinen", findings_enc=b"f",
                      resolution_enc=b"r")  # fmt: skip
    await index.update_case(changed, event("case.move"))
    assert await index.get_case(one) == changed

    def ids(found: list[StoredCase]) -> list[int]:
        return [c.id for c in found]

    assert ids(await index.list_cases(None, (), before_id=None, limit=10)) == [two, one]
    assert ids(await index.list_cases(None, (), before_id=None, limit=1)) == [two]
    assert ids(await index.list_cases(None, (), before_id=two, limit=1)) == [one]
    assert ids(await index.list_cases("open", (), before_id=None, limit=10)) == [two]
    hki = await index.list_cases(None, ("HKI",), before_id=None, limit=10)
    assert ids(hki) == [one] and hki[0].records == ()
    assert await index.get_case(9999) is None


async def test_case_changes_refused_leave_no_event(index: Index) -> None:
    a, _ = await two_recordings(index)
    one = await index.add_case(case(), event("case.add"))
    before = await head_seq(index)
    with pytest.raises(UsageError, match="exists already"):
        await index.add_case(case(summary="again"), event("case.add"))
    with pytest.raises(StoreError):  # the second recording does not exist: neither link lands
        await index.link_case(one, [a, 424242], event("case.link"))
    with pytest.raises(UsageError, match="does not exist"):
        await index.update_case(case(id=9999), event("case.move"))
    assert await head_seq(index) == before
    got = await index.get_case(one)
    assert got is not None and got.records == ()


async def test_samples_and_scores(index: Index) -> None:
    a, b = await two_recordings(index)
    criteria = json.dumps({"agents": ["agent-0"], "per_agent": 2})
    sample = StoredSample(0, "rev.laine", 1_760_000_000, 7, criteria, (a, b))
    sid = await index.add_sample(sample, event("sample.draw"))
    assert await index.get_sample(sid) == replace(sample, id=sid)
    score = StoredScore(sid, a, "rev.laine", 1_760_000_100, '{"empathy": 4}', CIPHER)
    await index.add_score(score, event("sample.score"))
    before = await head_seq(index)
    with pytest.raises(UsageError, match="scored already"):
        await index.add_score(score, event("sample.score"))
    assert await head_seq(index) == before
    await index.add_score(replace(score, scorer="rev.other"), event("sample.score"))
    assert await index.scores(sid) == [score, replace(score, scorer="rev.other")]
    assert await index.get_sample(9999) is None


async def test_samples_are_listed_newest_first_in_pages(index: Index) -> None:
    a, b = await two_recordings(index)
    made = [StoredSample(0, "rev.laine", 1_760_000_000 + i, i, "{}", (a, b)) for i in range(3)]
    ids = [await index.add_sample(s, event("sample.draw")) for s in made]
    listed = await index.samples(before_id=None, limit=2)
    assert [s.id for s in listed] == [ids[2], ids[1]]
    assert listed[0] == replace(made[2], id=ids[2])
    assert [s.id for s in await index.samples(before_id=ids[1], limit=2)] == [ids[0]]


async def test_the_agents_of_a_range_for_a_sample(index: Index) -> None:
    for code in ("HKI", "PIRHA"):
        await index.add_org(stored_org(code), event("org.add"))
    rows = [
        recording("a", 1_750_000_000, 60, agent="Veera"),
        recording("b", 1_750_000_600, 90, agent="Aino"),
        recording("c", 1_750_001_200, 30, agent="Aino", org="PIRHA"),
        recording("d", 1_760_000_000, 90, agent="Outi"),
    ]
    await index.add_recordings(rows, event("ingest"))
    assert await index.agents(RecordingFilter(1_750_000_000, 1_751_000_000)) == ["Aino", "Veera"]
    short = RecordingFilter(1_750_000_000, 1_751_000_000, max_duration=59, orgs=("PIRHA",))
    assert await index.agents(short) == ["Aino"]
    assert await index.agents(RecordingFilter(), limit=1) == ["Aino"]


async def test_a_tag_added_later_is_found_in_date_order(index: Index) -> None:
    """The tag's row carries its recording's start (migration 8): set by the index itself,
    whichever way the tag arrives (an import, `set_tag`), and read by the tag filter."""
    a, b = await two_recordings(index)  # a: 1,750,000,000 tagged `complaint` on import
    assert await index.set_tag(b, "complaint", True, event("tag.add"))
    newest_first = await index.page(RecordingFilter(tag="complaint"), Sort(), limit=1)
    assert [r.id for r in newest_first.rows] == [b] and newest_first.has_after
    rest = await index.page(RecordingFilter(tag="complaint"), Sort(), after=newest_first.last)
    assert [r.id for r in rest.rows] == [a]
    later = RecordingFilter(1_750_000_300, tag="complaint")
    assert [r.id for r in (await index.page(later, Sort(), limit=5)).rows] == [b]
    assert (await index.count(RecordingFilter(tag="complaint"))).value == 2
