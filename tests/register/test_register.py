"""The Register in process: authorize -> audit -> act, denials and errors audited."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kaiku_tui.config import Config, from_mapping
from kaiku_tui.domain.access import Identity, Person, Purpose, Role
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import Channel, Direction, NewRecording, Speaker, TranscriptLine
from kaiku_tui.errors import AccessDenied, NotFound, VaultError
from kaiku_tui.register import Register

ADMIN = Identity("admin.aalto", "10.0.0.7")
SUPERVISOR = Identity("sari.super")
REVIEWER = Identity("reijo.review")


def config_for(tmp_path: Path) -> Config:
    return from_mapping({"register": {"data_dir": str(tmp_path / "data")}}, None)


def call(n: int, org: str = "ITU", phone: str | None = "+358401234567") -> NewRecording:
    line = TranscriptLine(1.5, "Asiakas", Speaker.CUSTOMER, f"viesti {n} \x1b[31m")
    return NewRecording(
        org, Channel.CALL, Direction.INBOUND, 1_790_000_000 + n * 60, 100 + n, "Aino", "neuvonta",
        f"src-{n}", phone, (line,),
    )  # fmt: skip


@pytest.fixture
async def config(tmp_path: Path) -> AsyncIterator[Config]:
    config = config_for(tmp_path)
    admin = await Register.initialise(config, ADMIN, "Admin")
    try:
        await admin.orgs.add(Organisation("ITU", "Itä", None, None))
        await admin.orgs.add(Organisation("KESKI", "Keski", None, None))
        await admin.persons.add(Person(SUPERVISOR.login, "Sari", frozenset({Role.SUPERVISOR})))
        await admin.persons.add(
            Person(REVIEWER.login, "Reijo", frozenset({Role.REVIEWER}), orgs=("KESKI",))
        )
        await admin.intake.add_recordings([call(n) for n in range(5)], source="test")
        await admin.intake.add_recordings([call(9, "KESKI", None)], source="test")
    finally:
        await admin.close()
    yield config


async def opened(config: Config, identity: Identity) -> Register:
    return await Register.open(config, identity, environ={})


def events(config: Config) -> list[dict[str, object]]:
    db = sqlite3.connect(config.sqlite_path)
    try:
        return [json.loads(b) for (b,) in db.execute("SELECT body FROM audit_event ORDER BY seq")]
    finally:
        db.close()


async def test_admin_may_not_read_content(config: Config) -> None:
    admin = await opened(config, ADMIN)
    try:
        with pytest.raises(AccessDenied, match="may not record.open"):
            await admin.recordings.open_recording(1, Purpose.QUALITY)
    finally:
        await admin.close()
    last = [e for e in events(config) if e["outcome"] == "denied"][-1]
    assert last["action"] == "record.open" and last["purpose"] == "quality"
    assert last["client_host"] == "10.0.0.7"


async def test_denied_ingest_keeps_its_source(config: Config) -> None:
    reviewer = await opened(config, REVIEWER)
    try:
        with pytest.raises(AccessDenied):
            await reviewer.intake.add_recordings([call(20, "KESKI")], source="cdr.csv")
    finally:
        await reviewer.close()
    last = [e for e in events(config) if e["outcome"] == "denied"][-1]
    assert last["detail"] == "role does not permit (cdr.csv)"


async def test_scope_denies_and_audits(config: Config) -> None:
    reviewer = await opened(config, REVIEWER)
    try:
        page = await reviewer.recordings.search(RecordingFilter())
        assert {r.org for r in page.rows} == {"KESKI"}
        itu = (await reviewer.recordings.search(RecordingFilter(), limit=1)).rows[0].id
        with pytest.raises(AccessDenied, match="organisation ITU"):
            await reviewer.recordings.open_recording(itu - 1, Purpose.QUALITY)
    finally:
        await reviewer.close()
    last = [e for e in events(config) if e["outcome"] == "denied"][-1]
    assert last["detail"] == "outside scope" and last["org"] == "ITU"


async def test_open_reveal_and_count_are_audited(config: Config) -> None:
    sup = await opened(config, SUPERVISOR)
    try:
        found = await sup.recordings.search(RecordingFilter(phone="+358401234567"))
        assert len(found.rows) == 5 and all(r.phone_masked.endswith("67") for r in found.rows)
        record = await sup.recordings.open_recording(found.rows[0].id, Purpose.FEEDBACK)
        assert record.transcript[0].text.startswith("viesti") and record.phone is None
        assert (
            await sup.recordings.reveal_phone(found.rows[0].id, Purpose.FEEDBACK) == "+358401234567"
        )
        count = await sup.recordings.count(RecordingFilter(orgs=("ITU",)))
        assert (count.value, count.exact) == (5, True)
    finally:
        await sup.close()
    by_action = {e["action"]: e for e in events(config) if e["actor"] == SUPERVISOR.login}
    subject = by_action["search"]["subject"]
    assert subject and by_action["record.open"]["subject"] == subject
    assert by_action["phone.reveal"]["purpose"] == "feedback"
    assert "+358401234567" not in json.dumps(events(config))
    assert by_action["search.count"]["result_count"] == 5


async def test_missing_record_is_an_audited_error(config: Config) -> None:
    sup = await opened(config, SUPERVISOR)
    try:
        with pytest.raises(NotFound):
            await sup.recordings.open_recording(999, Purpose.VERIFY)
    finally:
        await sup.close()
    error = [e for e in events(config) if e["outcome"] == "error"][-1]
    assert (error["action"], error["target"]) == ("record.open", "999")
    assert "does not exist" in str(error["detail"])


async def test_altered_ciphertext_names_the_record_and_reveals_nothing(config: Config) -> None:
    db = sqlite3.connect(config.sqlite_path)
    (blob,) = db.execute("SELECT transcript_enc FROM recording WHERE id = 1").fetchone()
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    db.execute("UPDATE recording SET transcript_enc = ? WHERE id = 1", (flipped,))
    db.commit()
    db.close()
    sup = await opened(config, SUPERVISOR)
    try:
        with pytest.raises(VaultError, match="ITU/src-0"):
            await sup.recordings.open_recording(1, Purpose.VERIFY)
    finally:
        await sup.close()
    errors = [e for e in events(config) if e["outcome"] == "error"]
    assert errors[-1]["action"] == "record.open" and errors[-1]["target"] == "1"
    assert not any(e["action"] == "record.open" and e["outcome"] == "ok" for e in events(config))


async def test_verify_and_audit_read(config: Config) -> None:
    admin = await opened(config, ADMIN)
    try:
        report = await admin.audit.verify()
        assert report.problem is None and report.checked >= 9
        shown = await admin.audit.events(AuditQuery(action="ingest"))
        assert [e.detail for _, e in shown] == ["test", "test"]
    finally:
        await admin.close()


async def test_disabled_person_is_refused(config: Config) -> None:
    admin = await opened(config, ADMIN)
    try:
        await admin.persons.disable(SUPERVISOR.login)
    finally:
        await admin.close()
    with pytest.raises(AccessDenied, match="not an active named person"):
        await opened(config, SUPERVISOR)
    last = events(config)[-1]
    assert (last["actor"], last["detail"]) == (SUPERVISOR.login, "person is disabled")
