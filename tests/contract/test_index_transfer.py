"""Export and import, the two halves of `kaiku-tui migrate`, on every backend."""

from __future__ import annotations

from datetime import date

from kaiku_tui.audit.chain import GENESIS, canonical_body, seal
from kaiku_tui.domain.browse import RecordingFilter, Sort, SortKey
from kaiku_tui.index.base import Index
from kaiku_tui.index.records import Row
from kaiku_tui.index.transfer import TABLES
from tests.contract.model import Model
from tests.contract.rows import MAC_KEY, SIZE, event, recording


async def exported(index: Index, limit: int) -> dict[str, list[list[Row]]]:
    """Every table's batches, as export gives them."""
    out: dict[str, list[list[Row]]] = {}
    async with index.export() as snapshot:
        for t in TABLES:
            batches: list[list[Row]] = []
            while rows := await snapshot.rows(t.name, batches[-1][-1] if batches else None, limit):
                batches.append(rows)
            out[t.name] = batches
    return out


async def test_export_gives_every_row_once_in_key_order(loaded: tuple[Index, Model]) -> None:
    index, model = loaded
    tables = await exported(index, 7)
    recordings = [r for batch in tables["recording"] for r in batch]
    assert [r[0] for r in recordings] == sorted(r.id for r in model.rows)
    assert len(recordings) == SIZE
    tags = {(r.id, tag) for r in model.rows for tag in r.tags}
    tag_batches = tables["recording_tag"]
    assert {(r[0], r[1]) for batch in tag_batches for r in batch} == tags
    owners = [{r[0] for r in batch} for batch in tag_batches]
    assert sum(map(len, owners)) == len(set().union(*owners))  # no recording in two batches
    seqs = [r[0] for batch in tables["audit_event"] for r in batch]
    assert seqs == list(range(1, len(seqs) + 1))
    async with index.export() as snapshot:
        assert (await snapshot.last("recording"))[0] == max(r.id for r in model.rows)  # type: ignore[index]
        assert await snapshot.last("person") is None


async def test_import_keeps_ids_and_bytes_and_new_rows_follow(index: Index) -> None:
    org = ("HKI", "Helsinki", date(2024, 1, 1), None, 365, b"\x00wrapped\xff", "key-1", b"\x01mac")
    stored = recording("src-new", 1_700_000_100, 30)
    body = canonical_body(1, event("register.migrate")).decode()
    sealed = seal(1, GENESIS, body.encode(), MAC_KEY)
    rows = {
        "register_info": [("migration", "{}"), ("other", "x")],
        "person": [("admin.aalto", "Aino Aalto", "admin", "", False, b"\x02mac")],
        "organisation": [org],
        "recording": [
            (
                41,
                "HKI",
                0,
                1,
                1_700_000_000,
                61,
                "agent-1",
                "q",
                "src-41",
                "+358 40 ••• ••67",
                b"\x00\xffphone",
                b"\x01" * 16,
                b"\x00transcript",
                "blobs/41",
                b"\x02key",
                True,
                False,
                1_800_000_000,
            ),
        ],  # fmt: skip
        "recording_tag": [(41, "coaching"), (41, "praise")],
        "audit_event": [(1, body, sealed.prev_hash, sealed.hash, sealed.mac)],
    }
    for name, batch in rows.items():
        await index.import_rows(name, batch)
    await index.import_rows("register_info", [("other", "y")])  # a fact is replaced
    await index.finish_import("migration", [("master_key_id", "key-1")])
    tables = await exported(index, 5)
    got = {name: [r for batch in batches for r in batch] for name, batches in tables.items()}
    assert sorted(got["register_info"]) == [("master_key_id", "key-1"), ("other", "y")]
    for name in ("person", "organisation", "recording", "audit_event"):
        assert got[name] == rows[name], name
    assert sorted(got["recording_tag"]) == rows["recording_tag"]
    assert await index.audit_head() == (1, sealed.hash)
    await index.add_recordings([stored], event("ingest"))
    page = await index.page(RecordingFilter(), Sort(SortKey.DATE, False), limit=10)
    assert [r.id for r in page.rows] == [41, 42]  # the next id follows the copied ones


async def test_annotations_are_copied_and_new_ones_follow(index: Index) -> None:
    """Migration 4's tables move with their ids (a note's versions name their first row)."""
    from kaiku_tui.index.records import StoredCase, StoredNote, StoredSample

    org = ("HKI", "Helsinki", None, None, None, b"k", "key-1", None)
    rec = (41, "HKI", 0, 0, 1_700_000_000, 61, "a", "q", "s-41", "", None, None, None, None,
           None, False, False, None)  # fmt: skip
    rows = {
        "organisation": [org],
        "recording": [rec],
        "note": [
            (5, None, 1, 41, "rev", 1_760_000_000, 12.5, None, False, b"\x00v1"),
            (9, 5, 2, 41, "rev", 1_760_000_100, 12.5, None, True, None),
        ],
        "feedback_case": [(3, "HKI", "PAL-1", "2026-05-02", "s", "open", "sup", b"w", b"f", None)],
        "case_link": [(3, 41)],
        "coaching_sample": [(2, "rev", 1_760_000_000, 7, "{}", "[41]")],
        "sample_score": [(2, 41, "rev", 1_760_000_200, '{"empathy": 4}', None)],
    }
    for name, batch in rows.items():
        await index.import_rows(name, batch)
    await index.finish_import("migration", [("master_key_id", "key-1")])
    tables = await exported(index, 5)
    for name, batch in rows.items():
        assert [r for b in tables[name] for r in b] == batch, name
    assert [(v.note_id, v.version, v.withdrawn) for v in await index.note_history(5)] == [
        (5, 1, False), (5, 2, True),
    ]  # fmt: skip
    note = StoredNote(0, 1, 41, "rev", 1_760_000_300, None, None, False, b"n")
    assert await index.add_note(note, event("note.add")) > 9
    case = StoredCase(0, "HKI", "PAL-2", "2026-05-03", "s", "open", "sup", b"w")
    assert await index.add_case(case, event("case.add")) > 3
    sample = StoredSample(0, "rev", 1_760_000_400, 8, "{}", (41,))
    assert await index.add_sample(sample, event("sample.draw")) > 2
