"""Notes, tags, feedback cases and coaching samples through the Register.

Who may do what, what each action leaves in the audit log, that texts are
stored encrypted, and that a change refused by the database leaves no event.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from kaiku_tui.config import Config
from kaiku_tui.domain.access import Identity, Person, Purpose, Role
from kaiku_tui.domain.annotation import (
    CRITERIA,
    Anchor,
    CaseFilter,
    CaseStatus,
    SampleSpec,
    Score,
)
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.org import Organisation
from kaiku_tui.errors import AccessDenied, NotFound, StoreError, UsageError
from kaiku_tui.register import Register
from tests.register.test_register import ADMIN, REVIEWER, SUPERVISOR, call, config_for, events

DPO = Identity("dora.dpo")
OTHER_REVIEWER = Identity("rauni.review")
KESKI_RECORD = 6  # ITU's recordings are 1..5
SECRET = "Asiakkaan diagnoosi: verenpainetauti"  # patient content: never in clear on disk


@pytest.fixture
async def config(tmp_path: Path) -> AsyncIterator[Config]:
    config = config_for(tmp_path)
    admin = await Register.initialise(config, ADMIN, "Admin")
    try:
        await admin.orgs.add(Organisation("ITU", "Itä", None, None))
        await admin.orgs.add(Organisation("KESKI", "Keski", None, None))
        roles = {SUPERVISOR: Role.SUPERVISOR, DPO: Role.DPO, OTHER_REVIEWER: Role.REVIEWER}
        for who, role in roles.items():
            await admin.persons.add(Person(who.login, who.login, frozenset({role})))
        keski = ("KESKI",)
        await admin.persons.add(Person(REVIEWER.login, "R", frozenset({Role.REVIEWER}), keski))
        await admin.intake.add_recordings([call(n) for n in range(5)], source="test")
        await admin.intake.add_recordings([call(9, "KESKI", None)], source="test")
    finally:
        await admin.close()
    yield config


async def as_(config: Config, identity: Identity) -> Register:
    return await Register.open(config, identity, environ={})


def actions(config: Config, actor: str) -> list[tuple[str, str]]:
    return [(str(e["action"]), str(e["outcome"])) for e in events(config) if e["actor"] == actor]


def raw_database(config: Config) -> bytes:
    return b"".join(p.read_bytes() for p in config.sqlite_path.parent.glob("*.sqlite3*"))


# -- notes ------------------------------------------------------------------------------


async def test_note_versions_and_withdrawal(config: Config) -> None:
    reviewer = await as_(config, REVIEWER)
    try:
        note = await reviewer.notes.add(KESKI_RECORD, "first " + SECRET, Anchor(at_s=12.5))
        edited = await reviewer.notes.edit(note.note_id, "second " + SECRET)
        assert [v.text for v in edited.versions] == ["first " + SECRET, "second " + SECRET]
        assert edited.current.anchor == Anchor(at_s=12.5) and edited.author == REVIEWER.login
        seen = await reviewer.notes.read(KESKI_RECORD, Purpose.QUALITY)
        assert [n.note_id for n in seen] == [note.note_id] and len(seen[0].versions) == 2
        withdrawn = await reviewer.notes.withdraw(note.note_id)
        assert withdrawn.withdrawn and withdrawn.current.text == ""
        assert await reviewer.notes.read(KESKI_RECORD, Purpose.QUALITY) == []
        with pytest.raises(UsageError, match="withdrawn already"):
            await reviewer.notes.withdraw(note.note_id)
        with pytest.raises(UsageError, match="is withdrawn; write a new note"):
            await reviewer.notes.edit(note.note_id, "back again")
    finally:
        await reviewer.close()
    for who in (ADMIN, DPO):
        reader = await as_(config, who)
        try:
            kept = await reader.notes.read(KESKI_RECORD, Purpose.ACCESS_REQUEST)
        finally:
            await reader.close()
        assert [len(n.versions) for n in kept] == [3] and kept[0].withdrawn
        assert kept[0].versions[1].text == "second " + SECRET
    sup = await as_(config, SUPERVISOR)
    try:
        assert await sup.notes.read(KESKI_RECORD, Purpose.FEEDBACK) == []  # withdrawn: not for them
    finally:
        await sup.close()
    done = actions(config, REVIEWER.login)
    for action in ("note.add", "note.edit", "note.withdraw", "note.read"):
        assert (action, "ok") in done
    assert SECRET.encode() not in raw_database(config)


async def test_nobody_edits_another_persons_note(config: Config) -> None:
    author = await as_(config, OTHER_REVIEWER)
    try:
        note = await author.notes.add(1, "minun", Anchor(message=2))
    finally:
        await author.close()
    sup = await as_(config, SUPERVISOR)
    try:
        with pytest.raises(AccessDenied, match="nobody edits another's note"):
            await sup.notes.edit(note.note_id, "hänen")
        with pytest.raises(AccessDenied):
            await sup.notes.withdraw(note.note_id)
        with pytest.raises(NotFound):
            await sup.notes.edit(9999, "ei ole")
    finally:
        await sup.close()
    denied = [e for e in events(config) if e["outcome"] == "denied"]
    assert [e["action"] for e in denied[-2:]] == ["note.edit", "note.withdraw"]
    assert denied[-1]["detail"] == "not the author" and denied[-1]["target"] == "1"


async def test_roles_and_scope_for_notes(config: Config) -> None:
    admin, reviewer = await as_(config, ADMIN), await as_(config, REVIEWER)
    try:
        with pytest.raises(AccessDenied, match="may not annotate"):
            await admin.notes.add(1, "ylläpitäjä")
        with pytest.raises(AccessDenied, match="organisation ITU"):
            await reviewer.notes.add(1, "ei omaa")
        with pytest.raises(AccessDenied, match="organisation ITU"):
            await reviewer.notes.read(1, Purpose.QUALITY)
    finally:
        await admin.close()
        await reviewer.close()
    assert ("annotate", "denied") in actions(config, ADMIN.login)
    assert ("annotation.read", "denied") in actions(config, REVIEWER.login)


# -- tags -------------------------------------------------------------------------------


async def test_tags_add_remove_filter_and_vocabulary(config: Config) -> None:
    reviewer = await as_(config, OTHER_REVIEWER)
    try:
        assert await reviewer.tags.add(2, "Coaching:Empathy")
        assert not await reviewer.tags.add(2, "coaching:empathy")
        assert await reviewer.tags.add(3, "oma-tagi")
        page = await reviewer.recordings.search(RecordingFilter(tag="coaching:empathy"))
        assert [r.id for r in page.rows] == [2] and page.rows[0].tags == ("coaching:empathy",)
        vocabulary = {t.tag: t for t in await reviewer.tags.vocabulary()}
        assert vocabulary["coaching:empathy"].count == 1 and vocabulary["complaint"].count == 0
        assert vocabulary["oma-tagi"].managed is False
        assert await reviewer.tags.remove(2, "coaching:empathy")
        assert (
            await reviewer.recordings.search(RecordingFilter(tag="coaching:empathy"))
        ).rows == ()
        with pytest.raises(UsageError, match="is not a tag"):
            await reviewer.tags.add(2, "two words")
    finally:
        await reviewer.close()
    done = actions(config, OTHER_REVIEWER.login)
    assert done.count(("tag.add", "ok")) == 3 and ("tag.remove", "ok") in done
    dpo = await as_(config, DPO)
    try:
        with pytest.raises(AccessDenied):
            await dpo.tags.add(2, "complaint")
        assert {t.tag: t.count for t in await dpo.tags.vocabulary()}["oma-tagi"] == 1
    finally:
        await dpo.close()


# -- feedback cases ---------------------------------------------------------------------


async def test_case_flow_link_move_findings_and_open_from_it(config: Config) -> None:
    sup = await as_(config, SUPERVISOR)
    try:
        case = await sup.cases.add("ITU", "PAL-2026-17", "Soittaja ei saanut aikaa",
                                  date(2026, 5, 2))  # fmt: skip
        assert (case.status, case.owner, case.received) == ("open", SUPERVISOR.login, "2026-05-02")
        assert await sup.cases.link(case.id, [1, 2]) == 2
        assert await sup.cases.link(case.id, [2]) == 0
        with pytest.raises(UsageError, match="is KESKI's, case 1 ITU's"):
            await sup.cases.link(case.id, [3, KESKI_RECORD])
        assert (await sup.cases.read(case.id)).records == (1, 2)  # neither of the two linked
        await sup.cases.move(case.id, CaseStatus.INVESTIGATING)
        with pytest.raises(UsageError, match="can move to resolved"):
            await sup.cases.move(case.id, CaseStatus.CLOSED)
        await sup.cases.change(case.id, findings=SECRET, owner=SUPERVISOR.login)
        got = await sup.cases.read(case.id)
        assert got.findings == SECRET and got.records == (1, 2) and got.status == "investigating"
        listed = await sup.cases.find(CaseFilter(status=CaseStatus.INVESTIGATING))
        assert [c.id for c in listed] == [case.id] and listed[0].findings == ""
        assert await sup.cases.find(CaseFilter(status=CaseStatus.CLOSED)) == []
        assert await sup.cases.find(CaseFilter(before_id=case.id)) == []
        record = await sup.recordings.open_recording(2, Purpose.FEEDBACK, case_id=case.id)
        assert record.summary.id == 2
        with pytest.raises(UsageError, match="not linked"):
            await sup.recordings.open_recording(3, Purpose.FEEDBACK, case_id=case.id)
        with pytest.raises(UsageError, match="for feedback"):
            await sup.recordings.open_recording(2, Purpose.QUALITY, case_id=case.id)
        exported = await sup.cases.export(case.id, "/tmp/case.json")
        assert [r.id for r in exported.recordings] == [1, 2]
        with pytest.raises(UsageError, match="exists already"):
            await sup.cases.add("ITU", "PAL-2026-17", "again")
    finally:
        await sup.close()
    opened = [e for e in events(config) if e["action"] == "record.open"][-1]
    assert opened["request_ref"] == "PAL-2026-17" and opened["purpose"] == "feedback"
    export = [e for e in events(config) if e["action"] == "case.export"][-1]
    assert export["recipient"] == "/tmp/case.json" and export["result_count"] == 2
    done = actions(config, SUPERVISOR.login)
    for action in ("case.add", "case.link", "case.move", "case.set", "case.read", "case.list"):
        assert (action, "ok") in done
    assert SECRET.encode() not in raw_database(config)


async def test_case_permissions(config: Config) -> None:
    sup = await as_(config, SUPERVISOR)
    try:
        case = await sup.cases.add("ITU", "PAL-1", "Palaute")
    finally:
        await sup.close()
    reviewer, admin, dpo = [await as_(config, w) for w in (REVIEWER, ADMIN, DPO)]
    try:
        with pytest.raises(AccessDenied, match="may not case.manage"):
            await reviewer.cases.add("KESKI", "PAL-2", "Palaute")
        with pytest.raises(AccessDenied, match="may not case.read"):
            await reviewer.cases.find()
        with pytest.raises(AccessDenied, match="may not case.manage"):
            await admin.cases.move(case.id, CaseStatus.INVESTIGATING)
        assert (await admin.cases.read(case.id)).ref == "PAL-1"
        with pytest.raises(AccessDenied, match="may not case.export"):
            await admin.cases.export(case.id, "x.json")
        assert [c.ref for c in await dpo.cases.find()] == ["PAL-1"]
    finally:
        for r in (reviewer, admin, dpo):
            await r.close()
    assert ("case.manage", "denied") in actions(config, REVIEWER.login)
    assert ("case.export", "denied") in actions(config, ADMIN.login)


# -- coaching samples -------------------------------------------------------------------


SPEC = SampleSpec(("Aino",), 1_789_000_000, 1_791_000_000, per_agent=2, seed=7)


async def test_sample_is_reproducible_recorded_and_scored(config: Config) -> None:
    reviewer = await as_(config, OTHER_REVIEWER)
    try:
        sample = await reviewer.coaching.draw(SPEC)
        again = await reviewer.coaching.draw(SPEC)
        assert sample.record_ids == again.record_ids and len(sample.record_ids) == 2
        assert (await reviewer.coaching.sample(sample.id)).spec == SPEC
        first = sample.record_ids[0]
        score = Score(first, tuple((c, 4) for c in ("greeting", "understanding", "accuracy",
                                                   "empathy", "closing")), SECRET)  # fmt: skip
        await reviewer.coaching.score(sample.id, score)
        with pytest.raises(UsageError, match="scored already"):
            await reviewer.coaching.score(sample.id, score)
        outside = next(i for i in range(1, 6) if i not in sample.record_ids)
        with pytest.raises(NotFound, match="not in sample"):
            await reviewer.coaching.score(sample.id, Score(outside, score.scores))
        [given] = await reviewer.coaching.scores(sample.id)
        assert given.score == score and given.scorer == OTHER_REVIEWER.login
        narrow = await reviewer.coaching.draw(
            SampleSpec(("Aino",), 1_789_000_000, 1_791_000_000, 5, 7, min_duration=103)
        )
        assert set(narrow.record_ids) == {4, 5, 6}  # durations 103, 104 and 109 s
    finally:
        await reviewer.close()
    done = actions(config, OTHER_REVIEWER.login)
    assert done.count(("sample.draw", "ok")) == 3 and done.count(("sample.score", "ok")) == 1
    assert ("annotate", "error") in done  # the recording that was not in the sample
    assert SECRET.encode() not in raw_database(config)


# -- a change and its event: both or neither ----------------------------------------------

REFUSING = ("note", "recording_tag", "feedback_case", "case_link", "coaching_sample",
            "sample_score")  # fmt: skip


@pytest.mark.parametrize("table", REFUSING)
async def test_a_refused_change_leaves_no_event(config: Config, table: str) -> None:
    sup = await as_(config, SUPERVISOR)
    try:
        case = await sup.cases.add("ITU", "PAL-9", "Palaute")
        sample = await sup.coaching.draw(SPEC)
        db = sqlite3.connect(config.sqlite_path)
        db.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON {table} "
                   "BEGIN SELECT RAISE(ABORT, 'injected failure'); END")  # fmt: skip
        db.execute(f"CREATE TRIGGER refuse_delete BEFORE DELETE ON {table} "
                   "BEGIN SELECT RAISE(ABORT, 'injected failure'); END")  # fmt: skip
        db.close()
        before = len(events(config))
        scores = tuple((c, 3) for c in ("greeting", "understanding", "accuracy", "empathy",
                                        "closing"))  # fmt: skip
        attempts = {
            "note": lambda: sup.notes.add(1, "x"),
            "recording_tag": lambda: sup.tags.add(1, "complaint"),
            "feedback_case": lambda: sup.cases.add("ITU", "PAL-10", "x"),
            "case_link": lambda: sup.cases.link(case.id, [1]),
            "coaching_sample": lambda: sup.coaching.draw(SPEC),
            "sample_score": lambda: sup.coaching.score(
                sample.id, Score(sample.record_ids[0], scores)
            ),
        }
        with pytest.raises(StoreError, match="injected failure"):
            await attempts[table]()
        assert len(events(config)) == before
    finally:
        await sup.close()


async def test_samples_are_listed_and_a_missing_one_is_audited(config: Config) -> None:
    reviewer = await as_(config, OTHER_REVIEWER)
    try:
        first = await reviewer.coaching.draw(SPEC)
        second = await reviewer.coaching.draw(SPEC)
        agents = await reviewer.coaching.agents(RecordingFilter(1_789_000_000, 1_791_000_000))
        assert "Aino" in agents and agents == sorted(set(agents))
        listed = await reviewer.coaching.samples()
        assert [s.id for s in listed] == [second.id, first.id] and listed[0].spec == SPEC
        assert [s.id for s in await reviewer.coaching.samples(before_id=second.id)] == [first.id]
        with pytest.raises(NotFound, match="sample 999 does not exist"):
            await reviewer.coaching.sample(999)
        with pytest.raises(NotFound, match="not in sample 999"):
            await reviewer.coaching.score(999, Score(1, tuple((c, 3) for c in CRITERIA)))
        with pytest.raises(NotFound, match="sample 999 does not exist"):
            await reviewer.coaching.scores(999)
    finally:
        await reviewer.close()
    failed = [e for e in events(config) if e["outcome"] == "error"]
    assert [(e["action"], e["target"]) for e in failed] == [
        ("annotation.read", "sample:999"), ("annotate", "sample:999"),
        ("annotation.read", "sample:999")]  # fmt: skip
    listed_events = [e for e in events(config) if e["action"] == "sample.list"]
    assert listed_events[0]["revealed"] == [f"sample:{second.id}", f"sample:{first.id}"]
