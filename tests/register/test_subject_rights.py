"""The data subject's rights through `register.subjects`: find, requests, the access copy,
the log report, disclosures, review at the premises; who may, and what each leaves in the
audit log."""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from kaiku_tui.config import Config
from kaiku_tui.domain.access import Identity, Person, Purpose, Role
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import (
    AudioSource,
    Channel,
    Direction,
    NewRecording,
    Speaker,
    TranscriptLine,
)
from kaiku_tui.domain.subject import RequestKind
from kaiku_tui.errors import AccessDenied, NotFound, UsageError
from kaiku_tui.register import Register
from tests.e2e.test_ingest_cli import alaw_wav
from tests.register.test_register import ADMIN, REVIEWER, SUPERVISOR, config_for, events

DPO = Identity("dora.dpo")
ITU_SUPERVISOR = Identity("sanna.super")
ANNA = "+358401234567"
BERT = "+358501112233"
TODAY = date.today()


def recording(
    n: int, org: str, phone: str | None, channel: Channel = Channel.CALL, audio: Path | None = None
) -> NewRecording:
    lines = (
        TranscriptLine(0.0, "Aino Agentti", Speaker.AGENT, "Hyvää päivää"),
        TranscriptLine(75.5, "Asiakas", Speaker.CUSTOMER, f"viesti {n}\nrivi \x1b[31m"),
    )
    source = None if audio is None else AudioSource(audio, audio.stat().st_size)
    return NewRecording(
        org, channel, Direction.INBOUND, 1_790_000_000 + n * 60, 100 + n, "Aino Agentti",
        "neuvonta", f"src-{n}", phone, lines, audio=source,
    )  # fmt: skip


@pytest.fixture
async def config(tmp_path: Path) -> AsyncIterator[Config]:
    """Anna: a call with audio and a chat in ITU, a call with audio in KESKI. Bert: a call
    in ITU. One KESKI call without a number. Ids in that order: 1..5."""
    config = config_for(tmp_path)
    wavs = tmp_path / "wav"
    wavs.mkdir()
    for n in (1, 3):
        (wavs / f"{n}.wav").write_bytes(alaw_wav(0.25, n))
    admin = await Register.initialise(config, ADMIN, "Admin")
    try:
        await admin.orgs.add(Organisation("ITU", "Itä", None, date(2030, 12, 31), 3650))
        await admin.orgs.add(Organisation("KESKI", "Keski", None, None))
        staff = {
            SUPERVISOR: ("Sari", Role.SUPERVISOR, ()), DPO: ("Dora", Role.DPO, ()),
            ITU_SUPERVISOR: ("Sanna", Role.SUPERVISOR, ("ITU",)),
            REVIEWER: ("Reijo", Role.REVIEWER, ("KESKI",)),
        }  # fmt: skip
        for who, (name, role, orgs) in staff.items():
            await admin.persons.add(Person(who.login, name, frozenset({role}), orgs))
        await admin.intake.add_recordings(
            [recording(1, "ITU", ANNA, audio=wavs / "1.wav"),
             recording(2, "ITU", ANNA, Channel.CHAT),
             recording(4, "ITU", BERT)], source="test",
        )  # fmt: skip
        await admin.intake.add_recordings(
            [recording(3, "KESKI", ANNA, audio=wavs / "3.wav"), recording(5, "KESKI", None)],
            source="test",
        )
    finally:
        await admin.close()
    yield config


ANNA_ITU_CALL, ANNA_CHAT, BERT_CALL, ANNA_KESKI_CALL = 1, 2, 3, 4


async def as_(config: Config, identity: Identity) -> Register:
    return await Register.open(config, identity, environ={})


def head(config: Config) -> int:
    return len(events(config))


async def test_find_takes_every_spelling_and_every_channel(config: Config) -> None:
    dora = await as_(config, DPO)
    try:
        rights = dora.subjects
        for spelling in ("0401234567", "+358401234567", "00358401234567", "040 123 4567",
                         "040-123 45 67", "+358 (0)40 1234567"):  # fmt: skip
            found = await rights.find(spelling)
            assert [r.id for r in found] == [ANNA_ITU_CALL, ANNA_CHAT, ANNA_KESKI_CALL], spelling
            assert {r.channel for r in found} == {Channel.CALL, Channel.CHAT}
        assert [r.id for r in await rights.find("050 111 2233")] == [BERT_CALL]
        assert await rights.find("044 999 9999") == []
        with pytest.raises(UsageError, match="phone number '12' has the wrong length"):
            await rights.find("12")
    finally:
        await dora.close()
    last = events(config)[-2]  # the last find that found something... then the empty one
    assert last["action"] == "subject.find" and last["purpose"] == "access-request"
    assert last["result_count"] == 1 and last["revealed"] == [str(BERT_CALL)]
    assert ANNA not in json.dumps(events(config)) and "401234567" not in json.dumps(events(config))


async def test_the_log_report_lists_exactly_the_events_about_the_persons_recordings(
    config: Config,
) -> None:
    expected: set[int] = set()
    keski: set[int] = set()
    sari = await as_(config, SUPERVISOR)
    try:
        await sari.recordings.open_recording(ANNA_ITU_CALL, Purpose.VERIFY)
        expected.add(head(config))
        with await sari.recordings.open_audio(ANNA_ITU_CALL, Purpose.VERIFY):
            expected.add(head(config))
        await sari.tags.add(ANNA_CHAT, "palaute")
        expected.add(head(config))
        await sari.recordings.open_recording(
            BERT_CALL, Purpose.VERIFY
        )  # Bert's: not in Anna's report
        await sari.recordings.search(RecordingFilter())  # a list page that showed Anna's rows
        expected.add(head(config))
        keski.add(head(config))  # the page showed her KESKI call too
        listed = head(config)
        await sari.recordings.search(
            RecordingFilter(phone=BERT)
        )  # showed only Bert's: not about Anna
        case = await sari.cases.add("ITU", "FB-1", "asiakas valitti")  # no recording yet
        await sari.cases.link(case.id, [ANNA_CHAT])  # the case's link shows Anna's chat
        expected.add(head(config))
        linked = head(config)
    finally:
        await sari.close()
    reijo = await as_(config, REVIEWER)
    try:
        await reijo.notes.add(ANNA_KESKI_CALL, "hyvä puhelu")
        noted = head(config)
        expected.add(head(config))
        keski.add(head(config))
        with pytest.raises(AccessDenied):  # outside his scope: audited, by target
            await reijo.recordings.open_recording(ANNA_CHAT, Purpose.QUALITY)
        expected.add(head(config))
    finally:
        await reijo.close()
    sanna = await as_(config, ITU_SUPERVISOR)
    try:
        await sanna.recordings.search(RecordingFilter(phone=ANNA))  # by her number: subject
        expected.add(head(config))
    finally:
        await sanna.close()
    admin = await as_(config, ADMIN)
    try:
        with pytest.raises(AccessDenied):
            await admin.recordings.open_recording(ANNA_KESKI_CALL, Purpose.QUALITY)
        expected.add(head(config))
        keski.add(head(config))
    finally:
        await admin.close()
    dora = await as_(config, DPO)
    try:
        report = await dora.subjects.access_log("040 123 4567")
        only_keski = await dora.subjects.access_log(ANNA, org="KESKI")
        nothing = await dora.subjects.access_log(ANNA, until=TODAY - timedelta(days=1))
    finally:
        await dora.close()
    assert {e.seq for e in report} == expected
    assert {e.seq for e in only_keski} == keski
    assert nothing == []
    by_seq = {e.seq: e for e in report}
    note = by_seq[noted]
    assert (note.actor, note.display_name, note.roles) == (REVIEWER.login, "Reijo", ("reviewer",))
    assert note.action == "note.add" and note.target == str(ANNA_KESKI_CALL)
    assert {e.outcome for e in report} == {"ok", "denied"}
    page = by_seq[listed]
    assert page.action == "search" and page.target is None
    assert page.shown == (str(ANNA_KESKI_CALL), str(ANNA_CHAT), str(ANNA_ITU_CALL))  # newest first
    assert (by_seq[linked].action, by_seq[linked].shown) == ("case.link", (str(ANNA_CHAT),))
    assert note.shown == ()  # a note names its recording as the target
    reports = [e for e in events(config) if e["action"] == "subject.log"]
    assert [r["purpose"] for r in reports] == ["log-request"] * 3
    assert reports[0]["result_count"] == len(expected)


async def test_the_log_report_shows_the_destruction_and_the_use_of_destroyed_recordings(
    config: Config,
) -> None:
    """A purged recording keeps no blind index (the tombstone has no content), but its
    `retention.purge` event names the person: the report lists it, and through it the
    events that named the recording only by id (a refusal outside one's scope, an attempt
    to open it after its destruction)."""
    reijo = await as_(config, REVIEWER)
    try:
        with pytest.raises(AccessDenied):  # KESKI's reviewer: by target only
            await reijo.recordings.open_recording(ANNA_CHAT, Purpose.QUALITY)
        by_target = {head(config)}
    finally:
        await reijo.close()
    admin = await as_(config, ADMIN)
    try:
        await admin.retention.set_org("ITU", retention_days=30)
        await admin.retention.purge(environ={})
    finally:
        await admin.close()
    sari = await as_(config, SUPERVISOR)
    try:
        with pytest.raises(NotFound, match="was destroyed"):
            await sari.recordings.open_recording(ANNA_ITU_CALL, Purpose.VERIFY)
        by_target.add(head(config))
    finally:
        await sari.close()
    dora = await as_(config, DPO)
    try:
        report = await dora.subjects.access_log(ANNA)
        found = await dora.subjects.find(ANNA)
        only_keski = await dora.subjects.access_log(ANNA, org="KESKI")
    finally:
        await dora.close()
    assert [r.id for r in found] == [ANNA_KESKI_CALL]  # the destroyed ones are gone
    purged = {e.target for e in report if e.action == "retention.purge"}
    assert purged == {str(ANNA_ITU_CALL), str(ANNA_CHAT)}  # not Bert's
    assert by_target <= {e.seq for e in report}
    assert not {e.target for e in report} & {str(BERT_CALL)}
    assert not [e for e in only_keski if e.org == "ITU" or e.target in purged]


async def test_the_access_copy_is_the_imported_audio_byte_for_byte(
    config: Config, tmp_path: Path
) -> None:
    sari = await as_(config, SUPERVISOR)
    try:
        await sari.recordings.open_recording(ANNA_ITU_CALL, Purpose.FEEDBACK)
        await sari.holds.set(record_ids=[ANNA_CHAT], reason="riita", ref="KO-1")
    finally:
        await sari.close()
    to = tmp_path / "copy"
    to.mkdir()  # an empty folder is fine
    dora = await as_(config, DPO)
    try:
        rights = dora.subjects
        await rights.add_request("TS-1", RequestKind.ACCESS, TODAY, "0401234567")
        before = head(config)
        report = await rights.export("+358 40 123 4567", to, "TS-1")
        requests = await rights.requests()
    finally:
        await dora.close()
    assert report.recordings == 3 and report.files == 6  # 2 WAVs, 3 transcripts, manifest
    for n, record_id in ((1, ANNA_ITU_CALL), (3, ANNA_KESKI_CALL)):
        original = (tmp_path / "wav" / f"{n}.wav").read_bytes()
        assert (to / f"{record_id}.wav").read_bytes() == original
    manifest = json.loads((to / "manifest.json").read_text(encoding="utf-8"))
    assert hashlib.sha256((to / "manifest.json").read_bytes()).hexdigest() == report.manifest_sha256
    assert manifest["request_ref"] == "TS-1" and manifest["recipient"] == "data subject"
    entries = {r["id"]: r for r in manifest["recordings"]}
    assert set(entries) == {ANNA_ITU_CALL, ANNA_CHAT, ANNA_KESKI_CALL}
    for entry in entries.values():
        assert "agent" not in entry  # the staff's names are theirs, not the customer's
        for f in entry["files"]:
            assert hashlib.sha256((to / f["name"]).read_bytes()).hexdigest() == f["sha256"]
    call = entries[ANNA_ITU_CALL]
    assert call["purposes"] == ["feedback"]
    # The purge's own rule: the contract's end plus the grace (config 90 days) comes
    # before 3650 days after the call; the reason as the retention plan says it.
    assert call["retention"] == {
        "destroyed_by": "2031-03-31", "reason": "contract ended 2030-12-31 + grace 90",
        "retention_days": 3650, "contract_end": "2030-12-31", "grace_days": 90,
        "legal_hold": False,
    }  # fmt: skip
    chat = entries[ANNA_CHAT]["retention"]
    assert chat["legal_hold"] is True and "KO-1" not in json.dumps(manifest)  # held, not why
    keski = entries[ANNA_KESKI_CALL]["retention"]
    assert (keski["destroyed_by"], keski["reason"], keski["legal_hold"]) == (None, None, False)
    text = (to / f"{ANNA_CHAT}.txt").read_text(encoding="utf-8").splitlines()
    assert text == ["[00:00:00] agent: Hyvää päivää", "[00:01:15] customer: viesti 2␊rivi ␛[31m"]
    assert stat.S_IMODE(to.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in to.iterdir()} == {0o600}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".copy")]  # no staging left
    written = events(config)[before:]
    assert [e["action"] for e in written] == ["subject.export.record"] * 3 + [
        "subject.export", "subject.request.answer", "subject.request.list",
    ]  # fmt: skip
    assert {e["target"] for e in written[:3]} == {str(i) for i in entries}
    assert all(e["request_ref"] == "TS-1" and e["recipient"] == "data subject"
               for e in written[:4])  # fmt: skip
    assert requests[0].answered == TODAY


async def test_export_refuses_what_it_cannot_do_in_one_line(config: Config, tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    dora = await as_(config, DPO)
    try:
        rights = dora.subjects
        await rights.add_request("TS-2", RequestKind.ACCESS, TODAY, BERT)
        await rights.add_request("LOG-1", RequestKind.LOG, TODAY, ANNA)
        with pytest.raises(UsageError, match="full: the folder is not empty"):
            await rights.export(ANNA, full, "TS-2")
        with pytest.raises(NotFound, match="request 'NOPE' is not recorded"):
            await rights.export(ANNA, tmp_path / "a", "NOPE")
        with pytest.raises(UsageError, match="request TS-2 is about another phone number"):
            await rights.export(ANNA, tmp_path / "b", "TS-2")
        with pytest.raises(UsageError, match="is of kind log, not access"):
            await rights.export(ANNA, tmp_path / "c", "LOG-1")
        with pytest.raises(UsageError, match="is recorded already"):
            await rights.add_request("TS-2", RequestKind.ACCESS, TODAY, BERT)
        with pytest.raises(UsageError, match="is in the future"):
            await rights.add_request("TS-3", RequestKind.ACCESS, TODAY + timedelta(days=1), BERT)
        with pytest.raises(UsageError, match="needs --phone"):
            await rights.add_request("TS-4", RequestKind.LOG, TODAY, None)
        with pytest.raises(UsageError, match="request LOG-1 is about another phone number"):
            await rights.access_log(BERT, request_ref="LOG-1")
        await rights.access_log("040 123 4567", request_ref="LOG-1")  # answers it
        with pytest.raises(UsageError, match=f"LOG-1 was answered on {TODAY.isoformat()}"):
            await rights.answer("LOG-1")
    finally:
        await dora.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "full", "wav"]


async def test_disclosure_to_an_authority_is_logged(config: Config, tmp_path: Path) -> None:
    dora = await as_(config, DPO)
    try:
        rights = dora.subjects
        await rights.add_request("POL-9", RequestKind.AUTHORITY, TODAY, None)
        done = await rights.disclose([ANNA_ITU_CALL, BERT_CALL], "Poliisi", "Poliisilaki 4:3",
                                     "POL-9", tmp_path / "pol")  # fmt: skip
        log = await rights.disclosures()
    finally:
        await dora.close()
    assert log == [done] and done.record_ids == (ANNA_ITU_CALL, BERT_CALL) and done.id > 0
    manifest = (tmp_path / "pol" / "manifest.json").read_bytes()
    assert hashlib.sha256(manifest).hexdigest() == done.manifest_sha256
    entries = json.loads(manifest)["recordings"]
    assert [e["agent"] for e in entries] == ["Aino Agentti"] * 2  # the authority's copy names them
    assert (tmp_path / "pol" / "1.wav").read_bytes() == (tmp_path / "wav" / "1.wav").read_bytes()
    txt = (tmp_path / "pol" / f"{BERT_CALL}.txt").read_text(encoding="utf-8")
    assert txt.startswith("[00:00:00] Aino Agentti (agent): Hyvää päivää")
    trail = [e for e in events(config) if e.get("recipient") == "Poliisi"]
    assert [e["action"] for e in trail] == ["disclose.record", "disclose.record", "disclose"]
    assert all(e["legal_basis"] == "Poliisilaki 4:3" and e["request_ref"] == "POL-9"
               and e["purpose"] == "authority" for e in trail)  # fmt: skip
    assert trail[-1]["criteria"] == {"manifest_sha256": done.manifest_sha256}
    admin = await as_(config, ADMIN)  # the log names no content: an admin may read it
    try:
        assert [d.id for d in await admin.subjects.disclosures()] == [done.id]
    finally:
        await admin.close()


@pytest.mark.parametrize("who", [SUPERVISOR, REVIEWER, ADMIN])
async def test_each_operation_is_the_dpos_and_refusals_are_audited(
    config: Config, tmp_path: Path, who: Identity
) -> None:
    register = await as_(config, who)
    rights = register.subjects
    calls = {
        "subject.access": [lambda: rights.find(ANNA),
                           lambda: rights.export(ANNA, tmp_path / "x", "R"),
                           lambda: rights.start_premises_review("R")],
        "subject.request": [lambda: rights.add_request("R", RequestKind.ACCESS, TODAY, ANNA),
                            rights.requests, lambda: rights.answer("R")],
        "subject.log": [lambda: rights.access_log(ANNA)],
        "disclose": [lambda: rights.disclose([1], "Poliisi", "laki", "R", tmp_path / "y")],
    }  # fmt: skip
    if who != ADMIN:
        calls["disclosure.read"] = [rights.disclosures]
    try:
        for action, attempts in calls.items():
            for attempt in attempts:
                before = head(config)
                with pytest.raises(AccessDenied, match=f"may not {action}"):
                    await attempt()
                (refusal,) = events(config)[before:]
                assert (refusal["action"], refusal["outcome"]) == (action, "denied")
                assert refusal["actor"] == who.login
    finally:
        await register.close()
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


async def test_review_at_the_premises_is_playback_of_the_persons_own(config: Config) -> None:
    dora = await as_(config, DPO)
    try:
        rights = dora.subjects
        await rights.add_request("TS-5", RequestKind.ACCESS, TODAY, ANNA)
        before = head(config)
        review = await rights.start_premises_review("TS-5")
        assert dora.premises == review
        page = await dora.recordings.search(RecordingFilter())  # only hers, whatever was asked
        assert [r.id for r in page.rows] == [ANNA_KESKI_CALL, ANNA_CHAT, ANNA_ITU_CALL]
        opened = await dora.recordings.open_recording(ANNA_ITU_CALL, Purpose.VERIFY)
        assert opened.transcript
        with await dora.recordings.open_audio(ANNA_ITU_CALL, Purpose.VERIFY) as audio:
            assert audio.size > 0
        with pytest.raises(AccessDenied, match="not the data subject's of TS-5"):
            await dora.recordings.open_recording(BERT_CALL, Purpose.VERIFY)
        with pytest.raises(AccessDenied, match="playback only: no phone.reveal"):
            await dora.recordings.reveal_phone(ANNA_ITU_CALL, Purpose.VERIFY)
        with pytest.raises(AccessDenied, match="playback only: no annotation.read"):
            await dora.notes.read(ANNA_ITU_CALL, Purpose.VERIFY)
        with pytest.raises(AccessDenied, match="playback only: no subject.access"):
            await rights.find(BERT)
        with pytest.raises(UsageError, match="a review for TS-5 is under way"):
            await rights.start_premises_review("TS-5")
        await rights.end_premises_review()
        assert dora.premises is None
        assert await dora.recordings.reveal_phone(ANNA_ITU_CALL, Purpose.ACCESS_REQUEST) == ANNA
    finally:
        await dora.close()
    during = events(config)[before:-1]
    assert during[0]["action"] == "subject.premises.start"
    assert during[-1]["action"] == "subject.premises.end"
    assert all(e["request_ref"] == "TS-5" and e["purpose"] == "access-request" for e in during)
    denied = [e["action"] for e in during if e["outcome"] == "denied"]
    assert denied == ["record.open", "phone.reveal", "annotation.read", "subject.access"]
    assert "request_ref" not in events(config)[-1]  # after the review: an ordinary session


async def test_a_scoped_dpo_sees_only_their_organisations(config: Config) -> None:
    admin = await as_(config, ADMIN)
    try:
        await admin.persons.add(Person("kaija.dpo", "Kaija", frozenset({Role.DPO}), ("KESKI",)))
    finally:
        await admin.close()
    reijo = await as_(config, REVIEWER)
    try:
        await reijo.notes.add(ANNA_KESKI_CALL, "KESKI:n puhelu")
        note_seq = head(config)
    finally:
        await reijo.close()
    sari = await as_(config, SUPERVISOR)
    try:
        await sari.recordings.open_recording(
            ANNA_ITU_CALL, Purpose.VERIFY
        )  # ITU's: not in Kaija's report
    finally:
        await sari.close()
    kaija = await as_(config, Identity("kaija.dpo"))
    try:
        rights = kaija.subjects
        assert [r.id for r in await rights.find(ANNA)] == [ANNA_KESKI_CALL]
        find_seq = head(config)  # her own find showed Anna's KESKI call: in the report
        with pytest.raises(AccessDenied, match="may not see organisation ITU"):
            await rights.access_log(ANNA, org="ITU")
        report = await rights.access_log(ANNA)
    finally:
        await kaija.close()
    assert [e.seq for e in report] == [note_seq, find_seq]
    denied = [e for e in events(config) if e["outcome"] == "denied"][-1]
    assert (denied["action"], denied["org"]) == ("subject.log", "ITU")
