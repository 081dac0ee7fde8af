"""Retention through the Register on SQLite: the purge leaves no content, only tombstones
and the audit log; held recordings survive; a purge that stopped resumes; a shredded
organisation's key is gone from every copy the remaining key material could open."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from kaiku_tui.config import Config
from kaiku_tui.domain.access import Purpose
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.errors import AccessDenied, NotFound, StoreError, VaultError
from kaiku_tui.register import Register
from kaiku_tui.register.sealing import record_ref
from kaiku_tui.vault.blobs import BlobStore
from kaiku_tui.vault.keys import MasterKey, OrgKey, RecordKey
from tests.conftest import data_key_file
from tests.maintenance.conftest import ADMIN, SUPERVISOR, blob_of, events, opened

NOTE = "Asiakkaan diagnoosi: verenpainetauti"  # patient content
ITU = (1, 2, 3, 4)  # the fixture's ITU recordings; KESKI's are 5 and 6


def rows(config: Config, query: str, *params: object) -> list[Any]:
    db = sqlite3.connect(config.sqlite_path)
    try:
        return db.execute(query, params).fetchall()
    finally:
        db.close()


def raw_files(config: Config) -> bytes:
    return b"".join(p.read_bytes() for p in config.sqlite_path.parent.glob("index.sqlite3*"))


def secrets_of(config: Config, ids: tuple[int, ...]) -> list[bytes]:
    """Every ciphertext and wrapped key of these recordings and of their notes (the phone's
    blind index is not content, and KESKI's recording has the same number)."""
    marks = ", ".join("?" * len(ids))
    found = rows(
        config,
        f"SELECT transcript_enc, phone_enc, wrapped_key FROM recording WHERE id IN ({marks})",
        *ids,
    )
    found += rows(config, f"SELECT text_enc FROM note WHERE recording_id IN ({marks})", *ids)
    return [bytes(v) for row in found for v in row if v is not None]


async def verified(config: Config) -> None:
    admin = await opened(config)
    try:
        assert (await admin.audit.verify()).problem is None
    finally:
        await admin.close()


async def annotate(config: Config, record_id: int) -> int:
    """A note, a tag and a case linking the recording, by the supervisor; the case id."""
    sup = await opened(config, SUPERVISOR)
    try:
        await sup.notes.add(record_id, NOTE)
        await sup.tags.add(record_id, "complaint")
        case = await sup.cases.add("ITU", "FB-1", "asiakas valitti")
        await sup.cases.link(case.id, [record_id])
        return case.id
    finally:
        await sup.close()


async def set_rule(config: Config, **rule: Any) -> None:
    admin = await opened(config)
    try:
        await admin.retention.set_org("ITU", **rule)
    finally:
        await admin.close()


async def purge(config: Config, **options: Any) -> Any:
    admin = await opened(config)
    try:
        return await admin.retention.purge(environ={}, **options)
    finally:
        await admin.close()


async def test_a_purge_leaves_no_content_only_tombstones_and_the_log(config: Config) -> None:
    await annotate(config, 1)
    blobs = [blob_of(config, i) for i in ITU]
    secrets = secrets_of(config, ITU)
    assert len(secrets) >= 13 and all(b.exists() for b in blobs)
    await set_rule(config, retention_days=30)
    report = await purge(config)
    assert (report.destroyed, report.blobs_deleted, report.held) == (4, 4, 0)
    assert not any(b.exists() for b in blobs)
    assert [r[0] for r in rows(config, "SELECT id FROM recording ORDER BY id")] == [5, 6]
    for table in ("note", "recording_tag", "case_link", "sample_score"):
        assert rows(config, f"SELECT * FROM {table} WHERE recording_id <= 4") == [], table
    stones = rows(config, "SELECT id, org, reason, blob_ref FROM tombstone ORDER BY id")
    assert stones == [(i, "ITU", "retention 30 days", None) for i in ITU]
    data = raw_files(config)  # the file itself, free pages and WAL included
    assert [s for s in secrets if s in data] == []
    purged = [e for e in events(config) if e["action"] == "retention.purge" and e.get("target")]
    assert sorted(str(e["target"]) for e in purged) == [str(i) for i in ITU]
    assert all(e["subject"] and e["detail"] == "retention 30 days" for e in purged)
    await verified(config)


async def test_a_destroyed_recording_says_so_and_is_not_listed(config: Config) -> None:
    await set_rule(config, retention_days=30)
    await purge(config)
    sup = await opened(config, SUPERVISOR)
    try:
        with pytest.raises(NotFound, match=r"recording 2 was destroyed on \d\d\.\d\d\.\d{4} "
                           r"\(retention 30 days\)"):  # fmt: skip
            await sup.recordings.open_recording(2, Purpose.QUALITY)
        page = await sup.recordings.search(RecordingFilter())
        assert sorted(r.id for r in page.rows) == [5, 6]
    finally:
        await sup.close()


async def test_held_recordings_survive_and_are_used_only_for_the_hold(config: Config) -> None:
    case_id = await annotate(config, 3)
    sup = await opened(config, SUPERVISOR)
    try:
        (own,) = await sup.holds.set(record_ids=[2], reason="riita", ref="KO-1/2026")
        (on_case,) = await sup.holds.set(case_id=case_id, reason="kantelu", ref="AVI-7",
                                           purpose=Purpose.AUTHORITY)  # fmt: skip
        with pytest.raises(AccessDenied, match="legal hold"):
            await sup.recordings.open_recording(2, Purpose.QUALITY)
        with pytest.raises(AccessDenied, match="legal hold"):
            await sup.recordings.reveal_phone(3, Purpose.LEGAL_HOLD)
        opened_held = await sup.recordings.open_recording(2, Purpose.LEGAL_HOLD)
        assert opened_held.summary.id == 2 and opened_held.legal_hold
        assert not (await sup.recordings.open_recording(1, Purpose.QUALITY)).legal_hold
        assert (await sup.recordings.open_recording(3, Purpose.AUTHORITY)).summary.id == 3
    finally:
        await sup.close()
    denied = [e for e in events(config) if e["outcome"] == "denied"]
    assert [(e["action"], e["target"], e["detail"]) for e in denied] == [
        ("record.open", "2", f"legal hold (hold {own.id})"),
        ("phone.reveal", "3", f"legal hold (hold {on_case.id})"),
    ]
    await set_rule(config, retention_days=30)
    admin = await opened(config)
    try:
        plan = await admin.retention.plan("ITU")
    finally:
        await admin.close()
    (itu,) = plan.orgs
    assert itu.due_now == 2 and [p.id for p in itu.first_due] == [1, 4]
    assert [(p.id, p.hold.id if p.hold else None) for p in itu.held] == [
        (2, own.id), (3, on_case.id),
    ]  # fmt: skip
    report = await purge(config)
    assert (report.destroyed, report.held) == (2, 2)
    assert [r[0] for r in rows(config, "SELECT id FROM recording ORDER BY id")] == [2, 3, 5, 6]
    sup = await opened(config, SUPERVISOR)
    try:
        await sup.holds.release(own.id)
    finally:
        await sup.close()
    report = await purge(config)
    assert (report.destroyed, report.held) == (1, 1)
    assert [r[0] for r in rows(config, "SELECT id FROM recording ORDER BY id")] == [3, 5, 6]
    await verified(config)


async def test_a_purge_stopped_between_commit_and_blob_deletion_resumes(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kaiku_tui.register.retention.BATCH", 2)
    await set_rule(config, retention_days=30)
    blobs = [blob_of(config, i) for i in ITU]
    real_delete = BlobStore.delete

    def crash(self: BlobStore, ref: str) -> None:
        raise StoreError("disk went away")

    monkeypatch.setattr(BlobStore, "delete", crash)
    with pytest.raises(StoreError, match="disk went away"):
        await purge(config)
    # The first batch committed: tombstones naming their blobs, which are still there.
    assert [r[0] for r in rows(config, "SELECT id FROM recording ORDER BY id")] == [3, 4, 5, 6]
    assert rows(config, "SELECT id FROM tombstone WHERE blob_ref IS NOT NULL") == [(1,), (2,)]
    assert all(b.exists() for b in blobs)
    assert [e["outcome"] for e in events(config) if e["action"] == "retention.purge"][-1] == "error"
    admin = await opened(config)
    try:  # the files left are the tombstones' own, not orphans
        scanned = await admin.upkeep.scan(
            org=None, sample=None, full=False, progress=lambda d, t: None
        )
        assert scanned.findings == ()
    finally:
        await admin.close()
    monkeypatch.setattr(BlobStore, "delete", real_delete)
    report = await purge(config)
    assert (report.resumed_blobs, report.destroyed) == (2, 2)
    assert not any(b.exists() for b in blobs)
    assert rows(config, "SELECT count(*) FROM tombstone WHERE blob_ref IS NULL") == [(4,)]
    await verified(config)


async def test_shredding_leaves_no_key_that_opens_an_old_copy(
    config: Config, tmp_path: Path
) -> None:
    admin = await opened(config)
    try:
        await admin.upkeep.rotate_keys({})  # an earlier rotation left a retired key
        await admin.retention.set_org("ITU", contract_end=date(2026, 1, 1))
    finally:
        await admin.close()
    key_dir = data_key_file(config).parent
    assert len(list(key_dir.glob("data.key.retired-*"))) == 1
    old_index = tmp_path / "old.sqlite3"
    src, dst = sqlite3.connect(config.sqlite_path), sqlite3.connect(old_index)
    src.backup(dst)
    src.close(), dst.close()
    old_blob = tmp_path / "old-blob"
    shutil.copyfile(blob_of(config, 1), old_blob)

    report = await purge(config)
    assert report.shredded == ("ITU",) and report.rekeyed and report.rekey_problem is None
    assert list(key_dir.glob("data.key.*")) == []  # no retired key, no pending key
    assert rows(config, "SELECT wrapped_key FROM organisation WHERE code = 'ITU'") == [(None,)]
    keski = rows(config, "SELECT wrapped_key FROM organisation WHERE code = 'KESKI'")
    assert keski[0][0] is not None

    # Everything that remains: the master key file. The old copy's ITU key does not open.
    remaining = [MasterKey.from_env_or_file(p, {}) for p in key_dir.glob("data.key*")]
    old = sqlite3.connect(old_index)
    itu = "SELECT wrapped_key FROM organisation WHERE code = 'ITU'"
    (wrapped_org,) = old.execute(itu).fetchone()
    (source, wrapped_record, ref) = old.execute(
        "SELECT source_id, wrapped_key, blob_ref FROM recording WHERE id = 1"
    ).fetchone()
    old.close()
    for key in remaining:
        with pytest.raises(VaultError):
            key.unwrap_org_key("ITU", wrapped_org)
    # Without the organisation key no record key opens, so the blob cannot be read; nor
    # does any remaining key open it as if it were one.
    store = BlobStore(tmp_path / "old-store")
    target = store.path(ref)
    target.parent.mkdir(parents=True)
    shutil.copyfile(old_blob, target)
    for key in remaining:
        guess = OrgKey("ITU", key._wrap_key())
        with pytest.raises(VaultError):
            guess.unwrap_record_key(record_ref("ITU", source), wrapped_record)
        with pytest.raises((VaultError, StoreError)):
            store.open(ref, RecordKey(record_ref("ITU", source), key._wrap_key()))
    shredded = [e for e in events(config) if e["action"] == "retention.shred"]
    assert [(e["org"], e["outcome"]) for e in shredded] == [("ITU", "ok")]
    assert [e["outcome"] for e in events(config) if e["action"] == "retention.rekey"] == ["ok"]
    await verified(config)


async def test_a_shred_is_not_possible_while_a_hold_keeps_a_recording(config: Config) -> None:
    sup = await opened(config, SUPERVISOR)
    try:
        await sup.holds.set(record_ids=[4], reason="riita", ref="KO-2")
    finally:
        await sup.close()
    await set_rule(config, contract_end=date(2026, 1, 1))
    report = await purge(config)
    assert (report.destroyed, report.held, report.shredded) == (3, 1, ())
    assert rows(config, "SELECT wrapped_key IS NOT NULL FROM organisation WHERE code = 'ITU'") == [
        (1,)
    ]


@pytest.mark.parametrize(
    ("who", "call"),
    [
        (SUPERVISOR, lambda r: r.retention.plan()),
        (SUPERVISOR, lambda r: r.retention.purge(environ={})),
        (SUPERVISOR, lambda r: r.retention.set_org("ITU", retention_days=5)),
    ],
)
async def test_only_admins_plan_purge_and_set_rules(config: Config, who: Any, call: Any) -> None:
    register = await opened(config, who)
    try:
        with pytest.raises(AccessDenied):
            await call(register)
    finally:
        await register.close()
    last = [e for e in events(config) if e["actor"] == who.login][-1]
    assert last["outcome"] == "denied"


async def test_rule_changes_are_audited_old_to_new(config: Config) -> None:
    await set_rule(config, retention_days=30, contract_end=date(2027, 6, 30))
    await set_rule(config, retention_days=None)
    changes = [e["criteria"] for e in events(config) if e["action"] == "org.set"]
    assert changes == [
        {"contract_end": [None, "2027-06-30"], "retention_days": [None, 30]},
        {"contract_end": ["2027-06-30", "2027-06-30"], "retention_days": [30, None]},
    ]
    assert ADMIN.login in {str(e["actor"]) for e in events(config) if e["action"] == "org.set"}


async def test_register_open_sees_rules_for_the_browse_column(config: Config) -> None:
    await set_rule(config, retention_days=30)
    sup: Register = await opened(config, SUPERVISOR)
    try:
        rules = await sup.retention.rules()
    finally:
        await sup.close()
    assert rules["ITU"].retention_days == 30 and rules["KESKI"].retention_days is None
    assert rules["ITU"].grace_days == 90


KILLED_PURGE = """
import asyncio, os, signal, sys
from pathlib import Path
from kaiku_tui.config import load
from kaiku_tui.register import Register
from kaiku_tui.vault.blobs import BlobStore
from tests.maintenance.conftest import ADMIN

import kaiku_tui.register.retention
kaiku_tui.register.retention.BATCH = 2
# The first batch has committed when its blob files are about to be deleted: die there,
# as a power cut or kill -9 would, with no cleanup, no error event, no close.
BlobStore.delete = lambda self, ref: os.kill(os.getpid(), signal.SIGKILL)

async def main():
    register = await Register.open(load(Path(sys.argv[1])), ADMIN, environ={})
    await register.retention.purge(environ={})

asyncio.run(main())
"""


async def test_a_purge_killed_after_its_first_batch_resumes_and_finishes(
    config: Config, config_file: Path
) -> None:
    import signal
    import subprocess
    import sys

    await set_rule(config, retention_days=30)
    blobs = [blob_of(config, i) for i in ITU]
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_PURGE, str(config_file)],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert rows(config, "SELECT id FROM tombstone WHERE blob_ref IS NOT NULL") == [(1,), (2,)]
    assert [r[0] for r in rows(config, "SELECT id FROM recording ORDER BY id")] == [3, 4, 5, 6]
    report = await purge(config)
    assert (report.resumed_blobs, report.destroyed) == (2, 2)
    assert not any(b.exists() for b in blobs)
    assert rows(config, "SELECT count(*) FROM tombstone WHERE blob_ref IS NULL") == [(4,)]
    await verified(config)


async def test_a_shred_without_the_key_file_is_reported_and_finished_later(
    config: Config,
) -> None:
    key_text = data_key_file(config).read_text().strip()
    await set_rule(config, contract_end=date(2026, 1, 1))
    admin = await Register.open(config, ADMIN, environ={"KAIKU_MASTER_KEY": key_text})
    try:
        report = await admin.retention.purge(environ={"KAIKU_MASTER_KEY": key_text})
        assert report.shredded == ("ITU",) and report.rekeyed is None
        assert report.rekey_problem and "KAIKU_MASTER_KEY" in report.rekey_problem
        checks = {c.name: c for c in await admin.upkeep.health()}
        assert checks["crypto-shredding"].status.value == "fail"
    finally:
        await admin.close()
    report = await purge(config)  # with the key file: the rotation is done now
    assert report.rekeyed is not None and report.destroyed == 0
    admin = await opened(config)
    try:
        assert "crypto-shredding" not in {c.name for c in await admin.upkeep.health()}
    finally:
        await admin.close()
    assert [e["outcome"] for e in events(config) if e["action"] == "retention.rekey"] == [
        "error", "ok",
    ]  # fmt: skip
