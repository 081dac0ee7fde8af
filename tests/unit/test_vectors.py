"""The committed reference vectors (tests/vectors/data/) still open, verify and decrypt.

They were written once by tests/vectors/make_vectors.py with the code of their day. A
refactor must change structure, not behaviour: if one of these fails, the code no longer
reads what is on disk in registers today. Never regenerate the vectors to make this pass;
a format change must keep reading the old bytes (and may add new vectors beside them).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kaiku_tui.audit.chain import (
    GENESIS,
    ChainVerifier,
    Problem,
    canonical_body,
    event_from_body,
    seal,
)
from kaiku_tui.audit.checkpoint import Checkpoint, CheckpointFile
from kaiku_tui.config import load
from kaiku_tui.domain.access import Identity, Purpose
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.errors import AccessDenied, ConfigError, TamperDetected, VaultError
from kaiku_tui.register import Register
from kaiku_tui.vault.fields import blind_index, decrypt_field
from kaiku_tui.vault.keys import MasterKey, OrgKey, RecordKey
from kaiku_tui.vault.keystore import KeyStore
from kaiku_tui.vault.stream import SEGMENT_SIZE, BlobReader

DATA = Path(__file__).resolve().parents[1] / "vectors" / "data"
EXPECTED: dict[str, Any] = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
Row = tuple[int, bytes, bytes, bytes, bytes]


def master() -> MasterKey:
    return MasterKey.from_bytes(bytes.fromhex(EXPECTED["master_key_hex"]))


def org_key() -> OrgKey:
    org = EXPECTED["org"]
    return master().open_org_key(org["code"], (DATA / org["wrapped"]).read_bytes())


def record_key() -> RecordKey:
    record = EXPECTED["record"]
    return org_key().unwrap_record_key(record["ref"], (DATA / record["wrapped"]).read_bytes())


def blob_plaintext(length: int) -> bytes:
    """The recipe recorded in expected.json (its sha256 is checked too)."""
    blocks = (hashlib.sha256(b"kaiku-tui vector %d" % i).digest() for i in range(length // 32 + 1))
    return b"".join(blocks)[:length]


def audit_rows() -> list[Row]:
    rows = json.loads((DATA / EXPECTED["audit"]["rows"]).read_text(encoding="utf-8"))
    return [
        (
            r["seq"],
            base64.b64decode(r["body_b64"]),
            bytes.fromhex(r["prev_hash"]),
            bytes.fromhex(r["hash"]),
            bytes.fromhex(r["mac"]),
        )
        for r in rows
    ]


def checkpoint_public_key() -> Ed25519PublicKey:
    return master().checkpoint_signing_key().public_key()


def checkpoints() -> list[Checkpoint]:
    return CheckpointFile(DATA / EXPECTED["audit"]["checkpoints"]).read(checkpoint_public_key())


def verify(rows: list[Row], marks: list[Checkpoint]) -> Problem | None:
    verifier = ChainVerifier(master().audit_mac_key(), marks)
    verifier.feed(rows)
    return verifier.finish()


def test_the_vectors_are_there_and_small() -> None:
    files = [p for p in DATA.rglob("*") if p.is_file()]
    assert len(files) >= 12
    assert sum(p.stat().st_size for p in files) < 500_000


# -- keys -------------------------------------------------------------------------------


def test_the_master_key_derives_the_recorded_keys() -> None:
    key = master()
    assert key.key_id == EXPECTED["key_id"]
    assert key.audit_mac_key().hex() == EXPECTED["audit_mac_key_hex"]
    assert key.search_key().hex() == EXPECTED["search_key_hex"]
    public = checkpoint_public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert public.hex() == EXPECTED["checkpoint_public_key_hex"]


def test_the_org_and_record_keys_unwrap() -> None:
    org, record = EXPECTED["org"], EXPECTED["record"]
    wrapped = (DATA / org["wrapped"]).read_bytes()
    assert master().unwrap_org_key(org["code"], wrapped) == bytes.fromhex(org["key_hex"])
    opened = record_key()
    same = RecordKey(record["ref"], bytes.fromhex(record["key_hex"]))
    assert opened.ref == record["ref"]
    assert (opened.blob_key, opened.field_key) == (same.blob_key, same.field_key)


def test_a_wrapped_key_opens_only_where_it_belongs() -> None:
    org, record = EXPECTED["org"], EXPECTED["record"]
    with pytest.raises(VaultError):
        master().unwrap_org_key("OTHER", (DATA / org["wrapped"]).read_bytes())
    with pytest.raises(VaultError):
        org_key().unwrap_record_key("VECTORS/other", (DATA / record["wrapped"]).read_bytes())
    with pytest.raises(VaultError):
        MasterKey.from_bytes(bytes(32)).unwrap_org_key(
            org["code"], (DATA / org["wrapped"]).read_bytes()
        )


def test_the_blind_index_is_unchanged() -> None:
    vector = EXPECTED["blind_index"]
    assert blind_index(master().search_key(), vector["e164"]).hex() == vector["hex"]


# -- a field and a blob -------------------------------------------------------------------


def test_the_field_decrypts() -> None:
    field = EXPECTED["field"]
    sealed = (DATA / field["file"]).read_bytes()
    plaintext = decrypt_field(record_key(), field["name"], sealed)
    assert plaintext.decode("utf-8") == field["plaintext_utf8"]


def test_a_flipped_byte_in_the_field_is_refused() -> None:
    field = EXPECTED["field"]
    sealed = bytearray((DATA / field["file"]).read_bytes())
    sealed[-1] ^= 0x01
    with pytest.raises(VaultError, match="does not decrypt"):
        decrypt_field(record_key(), field["name"], bytes(sealed))
    with pytest.raises(VaultError):  # the field name is bound too
        decrypt_field(record_key(), "phone", (DATA / field["file"]).read_bytes())


def test_the_blob_decrypts_across_segments() -> None:
    blob = EXPECTED["blob"]
    expected = blob_plaintext(blob["length"])
    assert hashlib.sha256(expected).hexdigest() == blob["sha256"]
    with BlobReader(record_key(), io.BytesIO((DATA / blob["file"]).read_bytes())) as reader:
        assert reader.size == blob["length"]
        assert reader.segment_count == blob["segments"] > 1
        assert b"".join(reader.iter_plaintext()) == expected
        middle = SEGMENT_SIZE - 10
        assert reader.read(middle, 20) == expected[middle : middle + 20]


@pytest.mark.parametrize("where", ["header", "segment 0", "segment 1", "last segment"])
def test_a_flipped_byte_in_the_blob_is_detected(where: str) -> None:
    data = bytearray((DATA / EXPECTED["blob"]["file"]).read_bytes())
    offset = {"header": 5, "segment 0": 100, "segment 1": SEGMENT_SIZE + 200, "last segment": -3}
    data[offset[where]] ^= 0x80
    with pytest.raises(VaultError):
        with BlobReader(record_key(), io.BytesIO(bytes(data))) as reader:
            b"".join(reader.iter_plaintext())


def test_a_truncated_blob_is_detected() -> None:
    data = (DATA / EXPECTED["blob"]["file"]).read_bytes()
    with pytest.raises(VaultError):
        BlobReader(record_key(), io.BytesIO(data[: -SEGMENT_SIZE // 2]))


# -- the audit log ------------------------------------------------------------------------


def test_the_audit_rows_and_the_checkpoint_verify() -> None:
    rows, marks = audit_rows(), checkpoints()
    assert [(c.seq, c.hash.hex(), c.key_id) for c in marks] == [
        (EXPECTED["audit"]["head_seq"], EXPECTED["audit"]["head_hash"], EXPECTED["key_id"])
    ]
    assert rows[0][2] == GENESIS
    assert verify(rows, marks) is None
    actions = [event_from_body(body)[1].action for _, body, *_ in rows]
    assert actions == EXPECTED["audit"]["actions"]


def test_sealing_is_byte_for_byte_what_it_was() -> None:
    """The canonical body and the seal are deterministic: today's code writes the same row."""
    mac_key = master().audit_mac_key()
    for seq, body, prev, digest, mac in audit_rows():
        again_seq, event = event_from_body(body)
        assert again_seq == seq
        assert canonical_body(seq, event) == body
        row = seal(seq, prev, body, mac_key)
        assert (row.hash, row.mac) == (digest, mac)


def test_a_changed_audit_row_is_detected() -> None:
    rows = audit_rows()
    seq, body, prev, digest, mac = rows[1]
    edited = [
        rows[0],
        (seq, body.replace(b'result_count":2', b'result_count":3'), prev, digest, mac),
    ]
    assert edited[1][1] != body
    problem = verify([*edited, rows[2]], checkpoints())
    assert problem is not None and (problem.seq, problem.kind) == (2, "hash")
    # MACs are sampled (every 64th row and a batch's last): a re-hashed tail shows at its end
    last_seq, last_body, last_prev, last_digest, last_mac = rows[2]
    bad_mac = bytes([last_mac[0] ^ 1]) + last_mac[1:]
    problem = verify([*rows[:2], (last_seq, last_body, last_prev, last_digest, bad_mac)], [])
    assert problem is not None and (problem.seq, problem.kind) == (3, "mac")
    problem = verify(rows[:2], checkpoints())
    assert problem is not None and problem.kind == "checkpoint"  # a truncated tail


def test_a_forged_checkpoint_is_refused(tmp_path: Path) -> None:
    text = (DATA / EXPECTED["audit"]["checkpoints"]).read_text(encoding="ascii")
    forged = tmp_path / "audit-checkpoints.jsonl"
    forged.write_text(text.replace('"seq":3', '"seq":4'), encoding="ascii")
    with pytest.raises(TamperDetected, match="signature"):
        CheckpointFile(forged).read(checkpoint_public_key())
    other = MasterKey.from_bytes(bytes(32)).checkpoint_signing_key().public_key()
    with pytest.raises(TamperDetected):
        CheckpointFile(DATA / EXPECTED["audit"]["checkpoints"]).read(other)


# -- the small register -------------------------------------------------------------------

REG: dict[str, Any] = EXPECTED["register"]
ADMIN = Identity(REG["admin"], "192.0.2.9")
SUPERVISOR = Identity(REG["supervisor"], "192.0.2.9")


@pytest.fixture
def register_copy(tmp_path: Path) -> Path:
    """A copy, since opening may migrate it; git keeps no 0600, so the key file gets it."""
    folder = tmp_path / "register"
    shutil.copytree(DATA / REG["folder"], folder)
    os.chmod(folder / "master.key", 0o600)
    return folder


async def split(folder: Path) -> None:
    """The one-time move of the old register's master key into a key store (`keys split`):
    the register refuses to open before it. The key store is outside the copy."""
    config = load(folder / "config.toml")
    with pytest.raises(ConfigError, match="kaiku-tui keys split"):
        await Register.open(config, ADMIN, environ={})
    report = await Register.split_keys(config, ADMIN, environ={})
    assert report.key_id == EXPECTED["key_id"] and not config.master_key_file.exists()
    store = KeyStore.open(config.key_store)
    assert not store.directory.resolve().is_relative_to(folder.resolve())
    assert store.audit_mac_key.hex() == EXPECTED["audit_mac_key_hex"]
    assert store.search_key.hex() == EXPECTED["search_key_hex"]
    public = store.checkpoint_signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert public.hex() == EXPECTED["checkpoint_public_key_hex"]


async def test_the_register_opens_verifies_and_decrypts(register_copy: Path) -> None:
    config = load(register_copy / "config.toml")
    assert config.data_dir == register_copy.resolve()
    assert config.master_key_file == register_copy.resolve() / "master.key"
    assert config.sqlite_path.parent == register_copy.resolve()
    assert MasterKey.from_env_or_file(config.master_key_file, {}).key_id == EXPECTED["key_id"]
    await split(register_copy)

    admin = await Register.open(config, ADMIN, environ={})
    try:
        report = await admin.audit.verify()
        assert report.problem is None, report.problem
        assert report.checked > REG["audit_events"] and report.checkpoints >= 2
        assert [o.code for o in await admin.orgs.listing()] == [REG["org"]]
    finally:
        await admin.close()

    wav = (DATA / REG["audio_file"]).read_bytes()
    assert hashlib.sha256(wav).hexdigest() == REG["audio_sha256"]
    sup = await Register.open(config, SUPERVISOR, environ={})
    try:
        page = await sup.recordings.search(RecordingFilter())
        by_source = {r.source_id: r for r in page.rows}
        expected = {r["source_id"]: r for r in REG["recordings"]}
        assert set(by_source) == set(expected)
        found = await sup.recordings.search(RecordingFilter(phone=REG["phone"]))
        with_phone = {s for s, r in expected.items() if r["phone"] == REG["phone"]}
        assert {r.source_id for r in found.rows} == with_phone
        for source_id, summary in by_source.items():
            want = expected[source_id]
            assert (summary.org, summary.channel.value) == (REG["org"], want["channel"])
            assert (summary.started_at, summary.has_audio) == (
                want["started_at"],
                want["has_audio"],
            )
            record = await sup.recordings.open_recording(summary.id, Purpose.QUALITY)
            lines = [
                {"at": t.at, "speaker": t.speaker, "role": t.role.value, "text": t.text}
                for t in record.transcript
            ]
            assert lines == want["transcript"]
            assert await sup.recordings.reveal_phone(summary.id, Purpose.VERIFY) == want["phone"]
            if want["has_audio"]:
                with await sup.recordings.open_audio(summary.id, Purpose.QUALITY) as audio:
                    assert audio.size == len(wav)
                    assert b"".join(audio.iter_bytes()) == wav
                notes = await sup.notes.read(summary.id, Purpose.QUALITY)
                assert [n.current.text for n in notes] == [REG["note"]]
                assert REG["tag"] in summary.tags
    finally:
        await sup.close()

    admin = await Register.open(config, ADMIN, environ={})
    try:
        assert (await admin.audit.verify()).problem is None  # our reads are in the chain too
        with pytest.raises(AccessDenied):  # the policy still holds on old data
            await admin.recordings.reveal_phone(next(iter(by_source.values())).id, Purpose.VERIFY)
    finally:
        await admin.close()


async def test_a_flipped_byte_in_the_registers_blob_is_detected(register_copy: Path) -> None:
    (blob,) = (register_copy / "blobs").rglob("*.kkb")
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    await split(register_copy)
    config = load(register_copy / "config.toml")
    sup = await Register.open(config, SUPERVISOR, environ={})
    try:
        page = await sup.recordings.search(RecordingFilter())
        (with_audio,) = [r for r in page.rows if r.has_audio]
        with pytest.raises(VaultError, match="does not authenticate"):
            await sup.recordings.open_audio(with_audio.id, Purpose.QUALITY)
    finally:
        await sup.close()


# -- a register with a key store (tests/vectors/keystore, make_vectors.py --keystore) ------

KEYSTORE = DATA.parent / "keystore"


async def test_the_key_store_register_opens_verifies_and_decrypts(tmp_path: Path) -> None:
    """Git keeps no 0700 or 0600: the copy's key store gets them, as an admin would."""
    want = json.loads((KEYSTORE / "expected.json").read_text(encoding="utf-8"))
    shutil.copytree(KEYSTORE, tmp_path / "vector")
    keys = tmp_path / "vector" / want["key_store"]
    keys.chmod(0o700)
    for path in keys.iterdir():
        path.chmod(0o600)
    config = load(tmp_path / "vector" / want["config"])
    assert config.key_store == keys.resolve() and not config.master_key_file.exists()
    assert KeyStore.open(config.key_store).key_id == want["key_id"]
    admin = await Register.open(config, Identity(want["admin"]), environ={})
    try:
        report = await admin.audit.verify()
        assert report.problem is None and report.checkpoints >= 1, report.problem
    finally:
        await admin.close()
    sup = await Register.open(config, Identity(want["supervisor"]), environ={})
    try:
        found = await sup.recordings.search(RecordingFilter(phone=want["phone"]))
        with_phone = {r["source_id"] for r in want["recordings"] if r["phone"] == want["phone"]}
        assert {r.source_id for r in found.rows} == with_phone
        page = await sup.recordings.search(RecordingFilter())
        by_source = {r["source_id"]: r for r in want["recordings"]}
        assert {r.source_id for r in page.rows} == set(by_source)
        for summary in page.rows:
            record = await sup.recordings.open_recording(summary.id, Purpose.QUALITY)
            lines = [
                {"at": t.at, "speaker": t.speaker, "role": t.role.value, "text": t.text}
                for t in record.transcript
            ]
            assert lines == by_source[summary.source_id]["transcript"]
    finally:
        await sup.close()
