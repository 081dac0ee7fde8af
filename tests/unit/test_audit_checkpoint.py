"""Signed checkpoints: the file, its tamper checks, and what they let the verifier find."""

from __future__ import annotations

import base64
import json
import multiprocessing
import re
import stat
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier as BarrierType
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kaiku_tui.audit import GENESIS, ChainVerifier, Checkpoint, CheckpointFile, seal
from kaiku_tui.audit.chain import Row
from kaiku_tui.errors import AuditFailure, TamperDetected

MAC_KEY = b"audit-mac-key-for-tests-32-bytes"
SIGNING_SEED = bytes(range(32))
AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(SIGNING_SEED)


def build_chain(n: int, mac_key: bytes = MAC_KEY, flavour: bytes = b"") -> list[Row]:
    rows: list[Row] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        body = b'{"seq":%d,"action":"search%s"}' % (seq, flavour)
        row = seal(seq, prev, body, mac_key)
        rows.append((row.seq, row.body, row.prev_hash, row.hash, row.mac))
        prev = row.hash
    return rows


def digest_of(n: int) -> bytes:
    return bytes([n % 256]) * 32


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))


@pytest.fixture
def checkpoints(tmp_path: Path) -> CheckpointFile:
    return CheckpointFile(tmp_path / "audit.checkpoints")


# --- the file --------------------------------------------------------------------


def test_append_and_read_round_trip(checkpoints: CheckpointFile) -> None:
    key = signing_key()
    written = [
        checkpoints.append(seq, digest_of(seq), key, "ops-2026", at=AT + timedelta(minutes=seq))
        for seq in (10, 20, 35)
    ]
    assert checkpoints.read(key.public_key()) == written
    assert checkpoints.last() == written[-1]
    assert written[0] == Checkpoint(
        10, digest_of(10), AT + timedelta(minutes=10), "ops-2026", written[0].signature
    )


def test_line_format_and_file_mode(checkpoints: CheckpointFile) -> None:
    checkpoints.append(7, digest_of(7), signing_key(), "ops-2026", at=AT)
    (line,) = lines_of(checkpoints.path)
    assert line.endswith(b"\n")
    fields = json.loads(line)
    assert list(fields) == ["seq", "hash", "at", "key_id", "sig"]
    assert fields["seq"] == 7 and fields["hash"] == digest_of(7).hex()
    assert fields["at"] == "2026-05-01T12:00:00.000000Z" and fields["key_id"] == "ops-2026"
    assert len(base64.b64decode(fields["sig"], validate=True)) == 64
    assert stat.S_IMODE(checkpoints.path.stat().st_mode) == 0o600


def test_signature_covers_domain_seq_hash_time_and_key_id(checkpoints: CheckpointFile) -> None:
    key = signing_key()
    checkpoint = checkpoints.append(7, digest_of(7), key, "ops-2026", at=AT)
    message = (
        b"kaiku-tui checkpoint v1\x00"
        + (7).to_bytes(8, "big")
        + digest_of(7)
        + b"2026-05-01T12:00:00.000000Z"
        + b"ops-2026"
    )
    key.public_key().verify(checkpoint.signature, message)  # raises if it does not verify


def test_same_head_twice_is_written_once(checkpoints: CheckpointFile) -> None:
    key = signing_key()
    first = checkpoints.append(5, digest_of(5), key, "k", at=AT)
    again = checkpoints.append(5, digest_of(5), key, "k", at=AT + timedelta(hours=1))
    assert again == first
    assert len(lines_of(checkpoints.path)) == 1


def test_an_older_head_after_a_newer_one_is_not_written(checkpoints: CheckpointFile) -> None:
    key = signing_key()
    newer = checkpoints.append(9, digest_of(9), key, "k")
    assert checkpoints.append(4, digest_of(4), key, "k") == newer
    assert len(lines_of(checkpoints.path)) == 1


def test_same_seq_with_another_hash_is_tampering(checkpoints: CheckpointFile) -> None:
    key = signing_key()
    checkpoints.append(5, digest_of(5), key, "k")
    with pytest.raises(TamperDetected, match="seq 5 was checkpointed with another hash"):
        checkpoints.append(5, digest_of(6), key, "k")


def test_missing_file_is_empty(checkpoints: CheckpointFile) -> None:
    assert checkpoints.read(signing_key().public_key()) == []
    assert checkpoints.last() is None


def test_a_line_without_its_newline_is_completed(checkpoints: CheckpointFile) -> None:
    key = signing_key()
    checkpoints.append(1, digest_of(1), key, "k")
    checkpoints.path.write_bytes(checkpoints.path.read_bytes().rstrip(b"\n"))
    checkpoints.append(2, digest_of(2), key, "k")
    assert [c.seq for c in checkpoints.read(key.public_key())] == [1, 2]


def test_appending_after_a_garbage_last_line_is_refused(checkpoints: CheckpointFile) -> None:
    checkpoints.append(1, digest_of(1), signing_key(), "k")
    with checkpoints.path.open("ab") as file:
        file.write(b'{"seq": 2, "ha')
    with pytest.raises(TamperDetected, match="last line is not a checkpoint"):
        checkpoints.append(3, digest_of(3), signing_key(), "k")
    with pytest.raises(TamperDetected, match="last line"):
        checkpoints.last()


# --- tampering with the file -----------------------------------------------------


def three_checkpoints(checkpoints: CheckpointFile) -> list[bytes]:
    for seq in (10, 20, 30):
        checkpoints.append(seq, digest_of(seq), signing_key(), "k", at=AT)
    return lines_of(checkpoints.path)


def test_forged_line_is_found_with_its_line_number(checkpoints: CheckpointFile) -> None:
    lines = three_checkpoints(checkpoints)
    other = CheckpointFile(checkpoints.path.with_name("other"))
    other.append(20, digest_of(99), Ed25519PrivateKey.generate(), "k", at=AT)
    write_lines(checkpoints.path, [lines[0], lines_of(other.path)[0], lines[2]])
    with pytest.raises(TamperDetected, match=r"audit.checkpoints line 2: the signature"):
        checkpoints.read(signing_key().public_key())


@pytest.mark.parametrize(
    ("field", "value"),
    [("seq", 21), ("hash", digest_of(21).hex()), ("at", "2026-05-01T12:00:01.000000Z")],
)
def test_altered_field_fails_the_signature(
    checkpoints: CheckpointFile, field: str, value: object
) -> None:
    lines = three_checkpoints(checkpoints)
    fields = json.loads(lines[1])
    fields[field] = value
    lines[1] = json.dumps(fields, separators=(",", ":")).encode() + b"\n"
    write_lines(checkpoints.path, lines)
    with pytest.raises(TamperDetected, match="line 2: the signature does not verify"):
        checkpoints.read(signing_key().public_key())


def test_altered_signature_is_found(checkpoints: CheckpointFile) -> None:
    lines = three_checkpoints(checkpoints)
    fields = json.loads(lines[2])
    signature = bytearray(base64.b64decode(fields["sig"]))
    signature[0] ^= 1
    fields["sig"] = base64.b64encode(bytes(signature)).decode()
    lines[2] = json.dumps(fields, separators=(",", ":")).encode() + b"\n"
    write_lines(checkpoints.path, lines)
    with pytest.raises(TamperDetected, match="line 3: the signature does not verify"):
        checkpoints.read(signing_key().public_key())


@pytest.mark.parametrize(
    "garbage",
    [
        b"not json\n",
        b"\n",
        b'{"seq":20}\n',
        b"\xff\xfe\n",
        b'{"seq":20,"hash":"zz"}\n',
        b'{"seq":20,"hash":"%s","at":"2026-05-01T12:00:00.000000Z","key_id":"\\udc80","sig":"%s"}\n'
        % (b"00" * 32, base64.b64encode(bytes(64))),
    ],
)
def test_unparseable_line_is_found_with_its_line_number(
    checkpoints: CheckpointFile, garbage: bytes
) -> None:
    lines = three_checkpoints(checkpoints)
    write_lines(checkpoints.path, [lines[0], lines[1], garbage, lines[2]])
    with pytest.raises(TamperDetected, match="line 3: not a checkpoint"):
        checkpoints.read(signing_key().public_key())


def test_reordered_lines_are_found(checkpoints: CheckpointFile) -> None:
    lines = three_checkpoints(checkpoints)
    write_lines(checkpoints.path, [lines[0], lines[2], lines[1]])
    with pytest.raises(TamperDetected, match="line 3: seq 20 goes back from seq 30"):
        checkpoints.read(signing_key().public_key())


def test_the_wrong_public_key_fails_at_line_one(checkpoints: CheckpointFile) -> None:
    three_checkpoints(checkpoints)
    with pytest.raises(TamperDetected, match="line 1: the signature"):
        checkpoints.read(Ed25519PrivateKey.generate().public_key())


# --- operating-system failures ---------------------------------------------------


def test_unwritable_location_is_an_audit_failure(tmp_path: Path) -> None:
    path = tmp_path / "no such directory" / "audit.checkpoints"
    with pytest.raises(AuditFailure, match="no such directory.*No such file or directory"):
        CheckpointFile(path).append(1, digest_of(1), signing_key(), "k")


def test_unreadable_file_is_an_audit_failure(tmp_path: Path) -> None:
    with pytest.raises(AuditFailure, match=re.escape(f"{tmp_path}: Is a directory")):
        CheckpointFile(tmp_path).read(signing_key().public_key())
    with pytest.raises(AuditFailure, match="Is a directory"):
        CheckpointFile(tmp_path).last()


# --- checkpoints and the chain ---------------------------------------------------


def test_checkpointed_chain_verifies(checkpoints: CheckpointFile) -> None:
    rows = build_chain(100)
    key = signing_key()
    for seq in (30, 60, 100):
        checkpoints.append(seq, rows[seq - 1][3], key, "k")
    verifier = ChainVerifier(MAC_KEY, checkpoints.read(key.public_key()))
    verifier.feed(rows)
    assert verifier.finish() is None


def test_truncation_beyond_a_checkpoint_is_reported_by_finish(
    checkpoints: CheckpointFile,
) -> None:
    rows = build_chain(120)
    key = signing_key()
    checkpoints.append(120, rows[-1][3], key, "k")
    verifier = ChainVerifier(MAC_KEY, checkpoints.read(key.public_key()))
    verifier.feed(rows[:100])
    assert verifier.first_problem is None  # a truncated chain is still a valid chain
    problem = verifier.finish()
    assert problem is not None
    assert (problem.kind, problem.seq) == ("checkpoint", 101)
    assert problem.message == (
        "the checkpoint file has a checkpoint at seq 120 but the log ends at seq 100:"
        " the tail was truncated"
    )


def test_truncation_to_nothing_is_reported(checkpoints: CheckpointFile) -> None:
    key = signing_key()
    checkpoints.append(3, build_chain(3)[-1][3], key, "k")
    verifier = ChainVerifier(MAC_KEY, checkpoints.read(key.public_key()))
    problem = verifier.finish()
    assert problem is not None and problem.kind == "checkpoint"
    assert "the log is empty" in problem.message


def test_log_rewritten_with_the_mac_key_fails_its_checkpoint(
    checkpoints: CheckpointFile,
) -> None:
    """Someone holding the MAC key can rebuild a valid chain; the signature still holds."""
    original = build_chain(80)
    key = signing_key()
    checkpoints.append(40, original[39][3], key, "k", at=AT)
    rewritten = build_chain(80, flavour=b" (edited)")
    verifier = ChainVerifier(MAC_KEY, checkpoints.read(key.public_key()))
    verifier.feed(rewritten)
    problem = verifier.finish()
    assert problem is not None
    assert (problem.kind, problem.seq) == ("checkpoint", 40)
    assert problem.message.startswith(
        "seq 40: its hash differs from the checkpoint file's checkpoint signed at"
    )
    assert verifier.count == 80


def test_checkpoint_just_before_a_mid_log_start_is_compared() -> None:
    rows = build_chain(50)
    wrong = Checkpoint(20, digest_of(1), AT, "k", bytes(64))
    verifier = ChainVerifier(MAC_KEY, [wrong], start=(21, rows[19][3]))
    problem = verifier.finish()
    assert problem is not None and (problem.kind, problem.seq) == ("checkpoint", 20)
    right = Checkpoint(20, rows[19][3], AT, "k", bytes(64))
    verifier = ChainVerifier(MAC_KEY, [right], start=(21, rows[19][3]))
    verifier.feed(rows[20:])
    assert verifier.finish() is None


# --- two processes ---------------------------------------------------------------


def append_many(path: str, key_id: str, count: int, start: BarrierType) -> None:
    """Run in a child process: checkpoint every head from 1 to count."""
    key = Ed25519PrivateKey.from_private_bytes(SIGNING_SEED)
    file = CheckpointFile(Path(path))
    start.wait()  # both processes append at the same time
    for seq in range(1, count + 1):
        file.append(seq, digest_of(seq), key, key_id)


def test_concurrent_appends_from_two_processes_give_whole_lines(
    checkpoints: CheckpointFile,
) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [
        context.Process(target=append_many, args=(str(checkpoints.path), key_id, 1000, start))
        for key_id in ("a" * 900, "b" * 900)  # long lines, so a torn write would show
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    raw = checkpoints.path.read_bytes()
    assert raw.endswith(b"\n")
    for line in raw.splitlines():
        assert set(json.loads(line)) == {"seq", "hash", "at", "key_id", "sig"}
    read = checkpoints.read(signing_key().public_key())  # verifies, and seqs never go back
    assert read[-1].seq == 1000
    assert len(read) == raw.count(b"\n") >= 1000
