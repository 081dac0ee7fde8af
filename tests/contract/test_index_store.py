"""Persons, organisations and recordings round trip through the index unchanged."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from kaiku_tui.domain.access import Person, Role
from kaiku_tui.domain.browse import RecordingFilter, Sort, SortKey
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import Channel, Direction, RecordingSummary
from kaiku_tui.errors import StoreError
from kaiku_tui.index.base import Index
from kaiku_tui.index.protocols import Directory
from kaiku_tui.index.records import AddResult, StoredOrg
from tests.contract.rows import event, mac_of, recording, stored_org, stored_person

OLDEST_FIRST = Sort(SortKey.DATE, descending=False)
PERSONS = (
    Person("admin.aalto", "Aino Aalto", frozenset({Role.ADMIN})),
    Person("dpo.nieminen", "Juha Nieminen", frozenset({Role.DPO, Role.ADMIN})),
    Person(
        "sup.mäkinen", "Liisa Mäkinen", frozenset({Role.SUPERVISOR, Role.REVIEWER}),
        orgs=("VARHA", "HKI"),
    ),
    Person("rev.laine", "Petri Laine", frozenset({Role.REVIEWER}), ("PIRHA",), active=False),
)  # fmt: skip
CIPHERTEXT = bytes(range(256)) + b"\x00\xff" * 8  # every byte value, NULs, not UTF-8


async def all_summaries(index: Index) -> list[RecordingSummary]:
    return list((await index.page(RecordingFilter(), OLDEST_FIRST, limit=1000)).rows)


async def with_org(index: Index, *codes: str) -> Index:
    for code in codes:
        await index.add_org(stored_org(code), event("org.manage"))
    return index


# -- persons ---------------------------------------------------------------------------


async def test_persons_round_trip(index: Directory) -> None:
    for person in PERSONS:
        await index.put_person(
            person, event("person.manage"), new=True, mac=mac_of(person), was=None
        )
    for person in PERSONS:
        assert await index.get_person(person.login) == stored_person(person)
    listed = {p.person.login: p for p in await index.list_persons()}
    assert listed == {p.login: stored_person(p) for p in PERSONS}
    assert await index.get_person("nobody") is None


async def test_person_is_replaced_roles_scope_and_active_flag(index: Directory) -> None:
    original = PERSONS[2]
    await index.put_person(
        original, event("person.manage"), new=True, mac=mac_of(original), was=None
    )
    changed = replace(original, roles=frozenset({Role.DPO}), orgs=(), active=False)
    await index.put_person(
        changed, event("person.manage"), new=False, mac=mac_of(changed), was=mac_of(original)
    )
    assert await index.get_person(original.login) == stored_person(changed)
    back = replace(changed, display_name="L. Mäkinen", orgs=("PIRHA",), active=True)
    with pytest.raises(StoreError, match="changed meanwhile"):  # `was` is not the row's MAC
        await index.put_person(back, event("person.manage"), new=False, mac=mac_of(back), was=None)
    assert await index.get_person(original.login) == stored_person(changed)
    await index.put_person(
        back, event("person.manage"), new=False, mac=mac_of(back), was=mac_of(changed)
    )
    assert await index.list_persons() == [stored_person(back)]


# -- organisations --------------------------------------------------------------------


async def test_orgs_round_trip(index: Directory) -> None:
    orgs = [
        stored_org("HKI"),
        StoredOrg(Organisation("PIRHA", "Pirkanmaan hyvinvointialue", None, None), None, "mk-0"),
        StoredOrg(Organisation("V-2", "Vantaa", date(2025, 3, 1), date(2027, 2, 28), 0), b"", "k"),
    ]
    for org in orgs:
        await index.add_org(org, event("org.manage"))
    for org in orgs:
        assert await index.get_org(org.org.code) == org
    assert {o.org.code: o for o in await index.list_orgs()} == {o.org.code: o for o in orgs}
    assert await index.get_org("NOPE") is None


# -- facts about the register ----------------------------------------------------------


async def test_info_round_trips_and_is_audited(index: Index) -> None:
    assert await index.get_info("master_key_id") is None
    await index.put_info("master_key_id", "mk-1", event("init"))
    await index.put_info("master_key_id", "mk-2 ä", event("rekey"))
    await index.put_info("other", "", event("init"))
    assert await index.get_info("master_key_id") == "mk-2 ä"
    assert await index.get_info("other") == ""
    assert [r.seq for r in await index.audit_rows(0, 10)] == [1, 2, 3]


# -- recordings -----------------------------------------------------------------------


async def test_add_recordings_dedups_on_org_and_source_id(index: Index) -> None:
    await with_org(index, "HKI", "PIRHA")
    first = [recording(f"u{i}", 1000 + i, 30) for i in range(10)]
    assert await index.add_recordings(first, event("ingest")) == AddResult(10, 0)
    again = first + [recording(f"u{i}", 2000 + i, 45) for i in range(10, 15)]
    assert await index.add_recordings(again, event("ingest")) == AddResult(5, 10)
    other_org = [recording("u1", 3000, 60, org="PIRHA")]  # same source id, other client
    assert await index.add_recordings(other_org, event("ingest")) == AddResult(1, 0)
    twice = [recording("w", 4000, 1), recording("w", 4001, 2)]
    assert await index.add_recordings(twice, event("ingest")) == AddResult(1, 1)
    assert await index.add_recordings([], event("ingest")) == AddResult(0, 0)
    stored = await all_summaries(index)
    assert len(stored) == 17
    assert [r.started_at for r in stored if r.source_id == "u3"] == [1003]  # the first kept


async def test_known_sources_names_what_the_organisation_holds(index: Index) -> None:
    await with_org(index, "HKI", "PIRHA")
    await index.add_recordings([recording(f"u{i}", 1000 + i, 30) for i in range(3)], event("x"))
    await index.add_recordings([recording("p1", 5, 1, org="PIRHA")], event("ingest"))
    asked = ["u0", "u2", "u9", "p1", "u0"] + [f"n{i}" for i in range(1200)]  # past 999 params
    assert await index.known_sources("HKI", asked) == {"u0", "u2"}
    assert await index.known_sources("PIRHA", asked) == {"p1"}
    assert await index.known_sources("HKI", []) == set()


async def test_tags_are_returned_in_summaries(index: Index) -> None:
    await with_org(index, "HKI")
    tagged = {"t0": (), "t1": ("coaching",), "t2": ("praise", "coaching", "feedback")}
    rows = [recording(s, n, 10, tags=tags) for n, (s, tags) in enumerate(tagged.items())]
    await index.add_recordings(rows, event("ingest"))
    summaries = await all_summaries(index)
    assert {r.source_id: r.tags for r in summaries} == {
        s: tuple(sorted(tags)) for s, tags in tagged.items()
    }
    for r in summaries:
        stored = await index.get_recording(r.id)
        assert stored is not None and stored.summary == r


async def test_a_duplicate_does_not_tag_the_recording_it_duplicates(index: Index) -> None:
    """A duplicate is skipped whole: its tags must not land on the recording already there."""
    await with_org(index, "HKI")
    await index.add_recordings([recording("x", 1, 5, tags=("coaching",))], event("ingest"))
    again = [recording("x", 1, 5, tags=("feedback",))]
    assert await index.add_recordings(again, event("ingest")) == AddResult(0, 1)
    (only,) = await all_summaries(index)
    assert only.tags == ("coaching",)


async def test_get_recording_returns_the_stored_ciphertext_byte_for_byte(index: Index) -> None:
    await with_org(index, "HKI")
    full = recording(
        "full", 1_767_225_600, 754, channel=Channel.CHAT, direction=Direction.OUTBOUND,
        agent="Sanna Hämäläinen", tags=("feedback",), phone_bidx=CIPHERTEXT[:16],
        transcript_enc=CIPHERTEXT * 40, blob_ref="ab/cdef0123.kblob", wrapped_key=CIPHERTEXT[::-1],
        phone_enc=CIPHERTEXT[7:90], notice_played=True, legal_hold=True,
        retention_until=1_893_456_000,
    )  # fmt: skip
    bare = recording("bare", 1_767_225_601, 0, wrapped_key=None)  # a shredded record
    await index.add_recordings([full, bare], event("ingest"))
    for written in (full, bare):
        (row,) = [r for r in await all_summaries(index) if r.source_id == written.summary.source_id]
        got = await index.get_recording(row.id)
        assert got == replace(written, summary=replace(written.summary, id=row.id))
    assert await index.get_recording(10**9) is None


async def test_summaries_say_whether_audio_and_transcript_exist(index: Index) -> None:
    await with_org(index, "HKI")
    rows = [
        recording("none", 1, 5),
        recording("audio", 2, 5, blob_ref="blob"),
        recording("text", 3, 5, transcript_enc=b"\x01"),
    ]
    await index.add_recordings(rows, event("ingest"))
    flags = {r.source_id: (r.has_audio, r.has_transcript) for r in await all_summaries(index)}
    assert flags == {"none": (False, False), "audio": (True, False), "text": (False, True)}
