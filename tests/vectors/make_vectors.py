"""Write the reference vectors in tests/vectors/data/ with today's code. Run by hand, once:

    .venv/bin/python -m tests.vectors.make_vectors [--force]

NOT run by pytest (the name does not start with test_). The bytes it writes are committed;
tests/unit/test_vectors.py opens, verifies and decrypts them. They prove that a refactor
changes structure, not behaviour, and every later format change must keep them readable.
Re-running it replaces them (the ciphertexts use random nonces and will differ), so only
do that on purpose, with --force, and say so in the commit.

What is deterministic: the master key and everything derived from it, the org and record
keys, the blind index, the audit rows (fixed times) and the checkpoint (Ed25519 signs
deterministically). What is not: the wrapped keys, the field, the blob (random nonces)
and the register (random record keys and blob refs, real times in its audit log).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import io
import json
import shutil
import sqlite3
import struct
import sys
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kaiku_tui.audit.chain import GENESIS, AuditEvent, canonical_body, seal
from kaiku_tui.audit.checkpoint import CheckpointFile
from kaiku_tui.config import load
from kaiku_tui.domain.access import Identity, Person, Purpose, Role
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import Channel, Direction, NewRecording, Speaker, TranscriptLine
from kaiku_tui.register import Register
from kaiku_tui.register.sealing import record_ref
from kaiku_tui.vault.fields import blind_index, encrypt_field
from kaiku_tui.vault.keys import MasterKey, OrgKey, RecordKey
from kaiku_tui.vault.keystore import KeyStore
from kaiku_tui.vault.stream import encrypt_stream

DATA = Path(__file__).resolve().parent / "data"
# A register with a key store (one file per key), written later, beside the old data.
KEYSTORE_DATA = Path(__file__).resolve().parent / "keystore"
KEYSTORE_CONFIG = """\
# A register with a key store, written by tests/vectors/make_vectors.py --keystore. Every
# path is relative to this file; the key store is outside data_dir, as it must be.
[register]
data_dir = "."
key_store = "../keys"

[audio]
sink = "none"
"""

# Obviously a test key: 32 ASCII bytes that say so. Never use it for anything real.
MASTER_KEY = b"kaiku-tui TEST master key !! 32b"
ORG_CODE = "VECTORS"
ORG_KEY = bytes(range(0x40, 0x60))  # 32 fixed bytes
SOURCE_ID = "vector-1"
RECORD_KEY = bytes(range(0x80, 0xA0))
PHONE = "+358401234567"
FIELD_NAME = "transcript"
FIELD_PLAINTEXT = "Hyvää päivää, kaiku-tui vector field ✓".encode()
BLOB_LENGTH = 150_000  # > 2 segments of 64 KiB: 3 segments, the last one short
CHECKPOINT_AT = datetime(2026, 1, 31, 12, 0, 3, 0, tzinfo=UTC)

ADMIN = Identity("vector.admin", "192.0.2.1")
SUPERVISOR = Identity("vector.super", "192.0.2.2")
REGISTER_ORG = Organisation("VEC", "Vector Oy", None, None)
REGISTER_CONFIG = """\
# A register written by tests/vectors/make_vectors.py. Every path is relative to this file,
# so a copy of the folder opens where it is copied.
[register]
data_dir = "."

[audio]
sink = "none"
"""


def blob_plaintext(length: int = BLOB_LENGTH) -> bytes:
    """Known bytes, reproducible anywhere: SHA-256 of a counter, concatenated."""
    blocks = (hashlib.sha256(b"kaiku-tui vector %d" % i).digest() for i in range(length // 32 + 1))
    return b"".join(blocks)[:length]


def tiny_wav() -> bytes:
    """0.25 s of an 8 kHz mono 16-bit ramp: a valid WAV of known bytes."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"".join(struct.pack("<h", (i * 37) % 20000 - 10000) for i in range(2000)))
    return out.getvalue()


def audit_events() -> list[AuditEvent]:
    at = [datetime(2026, 1, 31, 12, 0, s, 123456, tzinfo=UTC) for s in range(3)]
    return [
        AuditEvent(at[0], "vector.admin", ("admin",), "session.open", "ok", client_host="h"),
        AuditEvent(
            at[1],
            "vector.super",
            ("supervisor",),
            "search",
            "ok",
            criteria={"phone": "given"},
            result_count=2,
            revealed=("1", "2"),
            subject="00ff",
            detail="Ääkköset ja \u2603",
        ),
        AuditEvent(
            at[2],
            "vector.super",
            ("supervisor",),
            "record.open",
            "denied",
            org="VEC",
            target="1",
            purpose="quality",
            detail="outside scope",
        ),
    ]


def write_primitives(expected: dict[str, Any]) -> None:
    master = MasterKey.from_bytes(MASTER_KEY)
    public = master.checkpoint_signing_key().public_key()
    expected["master_key_hex"] = MASTER_KEY.hex()
    expected["key_id"] = master.key_id
    expected["audit_mac_key_hex"] = master.audit_mac_key().hex()
    expected["search_key_hex"] = master.search_key().hex()
    raw_public = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    expected["checkpoint_public_key_hex"] = raw_public.hex()

    (DATA / "org_key.wrapped").write_bytes(master.wrap_org_key(ORG_CODE, ORG_KEY))
    ref = record_ref(ORG_CODE, SOURCE_ID)
    org = OrgKey(ORG_CODE, ORG_KEY)
    (DATA / "record_key.wrapped").write_bytes(org.wrap_record_key(ref, RECORD_KEY))
    expected["org"] = {"code": ORG_CODE, "key_hex": ORG_KEY.hex(), "wrapped": "org_key.wrapped"}
    expected["record"] = {
        "ref": ref,
        "key_hex": RECORD_KEY.hex(),
        "wrapped": "record_key.wrapped",
    }

    expected["blind_index"] = {"e164": PHONE, "hex": blind_index(master.search_key(), PHONE).hex()}

    record = RecordKey(ref, RECORD_KEY)
    (DATA / "field.bin").write_bytes(encrypt_field(record, FIELD_NAME, FIELD_PLAINTEXT))
    expected["field"] = {
        "file": "field.bin",
        "name": FIELD_NAME,
        "plaintext_utf8": FIELD_PLAINTEXT.decode(),
    }

    plaintext = blob_plaintext()
    with (DATA / "blob.kkb").open("wb") as out:
        encrypt_stream(record, io.BytesIO(plaintext), out)
    expected["blob"] = {
        "file": "blob.kkb",
        "recipe": "b''.join(sha256(b'kaiku-tui vector %d' % i) for i in 0..)[:length]",
        "length": len(plaintext),
        "sha256": hashlib.sha256(plaintext).hexdigest(),
        "segments": 3,
    }
    write_audit(master, expected)


def write_audit(master: MasterKey, expected: dict[str, Any]) -> None:
    rows = []
    prev = GENESIS
    for seq, event in enumerate(audit_events(), start=1):
        row = seal(seq, prev, canonical_body(seq, event), master.audit_mac_key())
        rows.append(
            {
                "seq": row.seq,
                "body_b64": base64.b64encode(row.body).decode("ascii"),
                "prev_hash": row.prev_hash.hex(),
                "hash": row.hash.hex(),
                "mac": row.mac.hex(),
            }
        )
        prev = row.hash
    (DATA / "audit_rows.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    checkpoints = CheckpointFile(DATA / "audit-checkpoints.jsonl")
    checkpoints.append(
        len(rows),
        prev,
        master.checkpoint_signing_key(),
        master.key_id,
        at=CHECKPOINT_AT,
    )
    expected["audit"] = {
        "rows": "audit_rows.json",
        "checkpoints": "audit-checkpoints.jsonl",
        "head_seq": len(rows),
        "head_hash": prev.hex(),
        "actions": [e.action for e in audit_events()],
    }


@contextmanager
def fixed_master_key() -> Iterator[None]:
    """Register.initialise makes a random key file; here it writes the test key instead,
    so the register's key id is the one recorded above."""
    original = MasterKey.__dict__["generate"]
    MasterKey.generate = classmethod(lambda cls: cls(MASTER_KEY))  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        MasterKey.generate = original  # type: ignore[method-assign]


def recordings(wav: bytes) -> list[NewRecording]:
    lines = (
        TranscriptLine(0.5, "Asiakas", Speaker.CUSTOMER, "Hei, soitan laskusta."),
        TranscriptLine(2.25, "Aino", Speaker.AGENT, "Selvä, katsotaan – hetki ✓"),
    )
    chat = (TranscriptLine(0.0, "Asiakas", Speaker.CUSTOMER, "Onko kauppa auki?"),)
    return [
        NewRecording(
            "VEC", Channel.CALL, Direction.INBOUND, 1_790_000_000, 93, "Aino", "neuvonta",
            "call-1", PHONE, lines, notice_played=True, audio=wav,
        ),
        NewRecording(
            "VEC", Channel.CHAT, Direction.INBOUND, 1_790_000_600, 40, "Aino", "chat",
            "chat-2", None, chat,
        ),
        NewRecording(
            "VEC", Channel.CALL, Direction.OUTBOUND, 1_790_001_200, 12, "Eero", "takaisinsoitto",
            "call-3", PHONE,
        ),
    ]  # fmt: skip


def transcript_json(new: NewRecording) -> list[dict[str, object]]:
    return [
        {"at": t.at, "speaker": t.speaker, "role": t.role.value, "text": t.text}
        for t in new.transcript
    ]


async def write_register(expected: dict[str, Any]) -> None:
    folder = DATA / "register"
    folder.mkdir()
    (folder / "config.toml").write_text(REGISTER_CONFIG, encoding="utf-8")
    config = load(folder / "config.toml")
    wav = tiny_wav()
    (DATA / "call-1.wav").write_bytes(wav)
    news = recordings(wav)
    with fixed_master_key():
        admin = await Register.initialise(config, ADMIN, "Vector Admin")
    try:
        await admin.orgs.add(REGISTER_ORG)
        supervisor = Person(SUPERVISOR.login, "Vector Super", frozenset({Role.SUPERVISOR}))
        await admin.persons.add(supervisor)
        added = await admin.intake.add_recordings(news, source="make_vectors.py")
        assert added.added == len(news), added
    finally:
        await admin.close()
    sup = await Register.open(config, SUPERVISOR, environ={})
    try:
        await sup.notes.add(1, "Vector note: asiakas tyytyväinen.", purpose=Purpose.QUALITY)
        await sup.tags.add(1, "vector-tag", purpose=Purpose.QUALITY)
    finally:
        await sup.close()
    expected["register"] = {
        "folder": "register",
        "config": "register/config.toml",
        "master_key_file": "register/master.key",
        "admin": ADMIN.login,
        "supervisor": SUPERVISOR.login,
        "org": REGISTER_ORG.code,
        "phone": PHONE,
        "audio_file": "call-1.wav",
        "audio_sha256": hashlib.sha256(wav).hexdigest(),
        "recordings": [
            {
                "source_id": r.source_id,
                "channel": r.channel.value,
                "started_at": r.started_at,
                "phone": r.phone,
                "has_audio": r.audio is not None,
                "transcript": transcript_json(r),
            }
            for r in news
        ],
        "note": "Vector note: asiakas tyytyväinen.",
        "tag": "vector-tag",
    }
    db = sqlite3.connect(config.sqlite_path)
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        (events,) = db.execute("SELECT count(*) FROM audit_event").fetchone()
    finally:
        db.close()
    # What today's code wrote, for the record: a later version may migrate a copy on open.
    expected["register"]["schema_version"] = version
    expected["register"]["audit_events"] = events


async def write_keystore_register() -> dict[str, Any]:
    """A small register made with a key store (random keys: nothing here is fixed but the
    content), for tests/unit/test_vectors.py to open as a register of today's format."""
    folder = KEYSTORE_DATA / "register"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text(KEYSTORE_CONFIG, encoding="utf-8")
    config = load(folder / "config.toml")
    news = recordings(tiny_wav())
    admin = await Register.initialise(config, ADMIN, "Vector Admin")
    try:
        await admin.orgs.add(REGISTER_ORG)
        supervisor = Person(SUPERVISOR.login, "Vector Super", frozenset({Role.SUPERVISOR}))
        await admin.persons.add(supervisor)
        added = await admin.intake.add_recordings(news, source="make_vectors.py")
        assert added.added == len(news), added
    finally:
        await admin.close()
    return {
        "written_by": "tests/vectors/make_vectors.py --keystore",
        "config": "register/config.toml",
        "key_store": "keys",
        "key_id": KeyStore.open(config.key_store).key_id,
        "admin": ADMIN.login,
        "supervisor": SUPERVISOR.login,
        "org": REGISTER_ORG.code,
        "phone": PHONE,
        "recordings": [
            {"source_id": r.source_id, "phone": r.phone, "transcript": transcript_json(r)}
            for r in news
        ],
    }


def main_keystore(force: bool) -> int:
    if KEYSTORE_DATA.exists():
        if not force:
            print(f"{KEYSTORE_DATA} exists; it is committed. Use --force to replace it.")
            return 2
        shutil.rmtree(KEYSTORE_DATA)
    expected = asyncio.run(write_keystore_register())
    text = json.dumps(expected, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    (KEYSTORE_DATA / "expected.json").write_text(text, encoding="utf-8")
    total = sum(p.stat().st_size for p in KEYSTORE_DATA.rglob("*") if p.is_file())
    print(f"wrote {KEYSTORE_DATA} ({total} bytes)")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--force", action="store_true", help="replace the committed vectors")
    parser.add_argument(
        "--keystore",
        action="store_true",
        help="only tests/vectors/keystore",
    )
    args = parser.parse_args(argv)
    if args.keystore:
        return main_keystore(args.force)
    if DATA.exists():
        if not args.force:
            print(f"{DATA} exists; the vectors are committed. Use --force to replace them.")
            return 2
        shutil.rmtree(DATA)
    DATA.mkdir(parents=True)
    expected: dict[str, Any] = {"written_by": "tests/vectors/make_vectors.py"}
    write_primitives(expected)
    asyncio.run(write_register(expected))
    text = json.dumps(expected, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    (DATA / "expected.json").write_text(text, encoding="utf-8")
    leftovers = sorted(p.name for p in DATA.rglob("*") if p.name.endswith(("-wal", "-shm")))
    if leftovers:
        print(f"warning: SQLite left {leftovers}; the register was not closed cleanly")
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    print(f"wrote {DATA} ({total} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
