"""Signed checkpoints of the audit chain's head, in an append-only file beside the database.

The hash chain shows every edit, insertion and deletion inside the log, but a log cut
short at the end is still a valid chain. A checkpoint — (seq, head hash, time) signed with
Ed25519 and kept outside the database — remembers how far the log once reached, so
`ChainVerifier.finish()` can report a truncated tail. It also catches a log rewritten by
someone who holds the MAC key but not the signing key. Keep a copy of this file somewhere
the database's owner cannot write: removing lines from both together is not detectable.

One JSON object per line, written with O_APPEND under an exclusive lock and fsynced, so
two processes never interleave or tear lines.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from kaiku_tui.audit.format import check_hash, check_seq, format_utc, parse_utc
from kaiku_tui.errors import AuditFailure, TamperDetected

SIGNATURE_DOMAIN: Final = b"kaiku-tui checkpoint v1\x00"
"""Prefix of every signed message, so a checkpoint signature can never pass for another."""

_FIELDS: Final = ("seq", "hash", "at", "key_id", "sig")
_SIGNATURE_SIZE: Final = 64
_TAIL_BLOCK: Final = 4096


@dataclass(frozen=True)
class Checkpoint:
    """How far the log reached at a moment, as signed by the holder of the checkpoint key."""

    seq: int
    hash: bytes
    at: datetime
    key_id: str
    signature: bytes


def signed_message(
    seq: int, digest: bytes, at: datetime, key_id: str, domain: bytes = SIGNATURE_DOMAIN
) -> bytes:
    """The bytes that are signed: every field but the last has a fixed length, so no two
    checkpoints share a message. `domain` keeps files of different meaning apart: a
    checkpoint of the head can never pass for a checkpoint of an audit cut."""
    return (
        domain
        + seq.to_bytes(8, "big")
        + digest
        + format_utc(at).encode("utf-8")
        + key_id.encode("utf-8")
    )


class CheckpointFile:
    """The append-only file of signed checkpoints (of the head, or with another `domain`,
    of something else about the chain: the audit cuts, audit/cut.py)."""

    def __init__(self, path: Path, domain: bytes = SIGNATURE_DOMAIN) -> None:
        self.path = Path(path)
        self.domain = domain

    def append(
        self,
        seq: int,
        hash: bytes,  # noqa: A002 - the name of the interface and of the JSON field
        signing_key: Ed25519PrivateKey,
        key_id: str,
        at: datetime | None = None,
    ) -> Checkpoint:
        """Sign and append a checkpoint; return the one now at the end of the file.

        When the last line already has this seq and hash, or a higher seq (another process
        checkpointed a newer head first), nothing is written and that line is returned:
        the file only ever moves forward. The same seq with another hash is tampering.
        """
        check_seq(seq)
        check_hash(hash)
        if not key_id:
            raise ValueError("a checkpoint key id must not be empty")
        when = parse_utc(format_utc(at if at is not None else datetime.now(UTC)))
        try:
            return self._append_locked(seq, hash, signing_key, key_id, when)
        except OSError as err:
            raise self._failure("append to", err) from err

    def read(self, public_key: Ed25519PublicKey) -> list[Checkpoint]:
        """Every checkpoint, each signature verified, seqs never going back; [] if no file."""
        try:
            with self.path.open("rb") as lines:
                fcntl.flock(lines.fileno(), fcntl.LOCK_SH)
                return self._verified(lines, public_key)
        except FileNotFoundError:
            return []
        except OSError as err:
            raise self._failure("read", err) from err

    def last(self) -> Checkpoint | None:
        """The last checkpoint, parsed but not verified: cheap, for status lines."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as err:
            raise self._failure("read", err) from err
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            line, _ = _last_line(fd)
        except OSError as err:
            raise self._failure("read", err) from err
        finally:
            os.close(fd)
        return self._parse_last(line)

    def _failure(self, doing: str, err: OSError) -> AuditFailure:
        """The person needs the path and the operating system's reason, nothing more."""
        return AuditFailure(
            f"cannot {doing} the audit checkpoint file {self.path}: {err.strerror or err}"
        )

    def _append_locked(
        self, seq: int, digest: bytes, signing_key: Ed25519PrivateKey, key_id: str, at: datetime
    ) -> Checkpoint:
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        fd = os.open(self.path, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by close, even on error
            line, ends_clean = _last_line(fd)
            last = self._parse_last(line)
            if last is not None and _supersedes(last, seq, digest, self.path):
                return last
            signature = signing_key.sign(signed_message(seq, digest, at, key_id, self.domain))
            checkpoint = Checkpoint(seq, digest, at, key_id, signature)
            _write_all(fd, (b"" if ends_clean else b"\n") + _line_of(checkpoint))
            os.fsync(fd)
        finally:
            os.close(fd)
        if not line:
            _fsync_directory(self.path.parent)  # the file may be new: make its name durable
        return checkpoint

    def _parse_last(self, line: bytes) -> Checkpoint | None:
        if not line:
            return None
        try:
            return _parse_line(line)
        except ValueError as err:
            raise TamperDetected(
                f"audit checkpoint file {self.path}: the last line is not a checkpoint ({err})"
            ) from err

    def _verified(self, lines: Iterable[bytes], public_key: Ed25519PublicKey) -> list[Checkpoint]:
        checkpoints: list[Checkpoint] = []
        for number, line in enumerate(lines, start=1):
            checkpoint = self._verified_line(line, number, public_key)
            if checkpoints:
                self._check_order(checkpoints[-1], checkpoint, number)
            checkpoints.append(checkpoint)
        return checkpoints

    def _verified_line(self, line: bytes, number: int, public_key: Ed25519PublicKey) -> Checkpoint:
        try:
            checkpoint = _parse_line(line.removesuffix(b"\n"))
        except ValueError as err:
            raise TamperDetected(
                f"audit checkpoint file {self.path} line {number}: not a checkpoint ({err})"
            ) from err
        self.check_signature(checkpoint, public_key, f"line {number}")
        return checkpoint

    def check_signature(
        self, checkpoint: Checkpoint, public_key: Ed25519PublicKey, where: str
    ) -> None:
        """TamperDetected unless `checkpoint` was signed with the key of `public_key`."""
        c = checkpoint
        message = signed_message(c.seq, c.hash, c.at, c.key_id, self.domain)
        try:
            public_key.verify(checkpoint.signature, message)
        except InvalidSignature as err:
            raise TamperDetected(
                f"audit checkpoint file {self.path} {where}: the signature does not"
                " verify (the checkpoint was forged or altered, or signed with another key)"
            ) from err

    def _check_order(self, before: Checkpoint, checkpoint: Checkpoint, number: int) -> None:
        """Checkpoints only move forward; going back means lines were removed or moved."""
        if checkpoint.seq < before.seq:
            raise TamperDetected(
                f"audit checkpoint file {self.path} line {number}: seq {checkpoint.seq}"
                f" goes back from seq {before.seq} (lines were reordered or replaced)"
            )
        if checkpoint.seq == before.seq and checkpoint.hash != before.hash:
            raise TamperDetected(
                f"audit checkpoint file {self.path} line {number}: seq {checkpoint.seq}"
                " has another hash than the line before it (the log was rewritten)"
            )


def _supersedes(last: Checkpoint, seq: int, digest: bytes, path: Path) -> bool:
    """Whether the last checkpoint already covers this one, so nothing need be written."""
    if last.seq == seq and last.hash != digest:
        raise TamperDetected(
            f"audit checkpoint file {path}: seq {seq} was checkpointed with another hash"
            " (the log was rewritten since)"
        )
    return last.seq >= seq


def _line_of(checkpoint: Checkpoint) -> bytes:
    fields = {
        "seq": checkpoint.seq,
        "hash": checkpoint.hash.hex(),
        "at": format_utc(checkpoint.at),
        "key_id": checkpoint.key_id,
        "sig": base64.b64encode(checkpoint.signature).decode("ascii"),
    }
    return json.dumps(fields, separators=(",", ":")).encode("ascii") + b"\n"


def _parse_line(line: bytes) -> Checkpoint:
    """One line, strictly as `_line_of` writes it; any ValueError means it was not."""
    fields = json.loads(line)
    if not isinstance(fields, dict) or tuple(fields) != _FIELDS:
        raise ValueError(f"expected the fields {', '.join(_FIELDS)}")
    seq, text_hash, at, key_id, sig = (fields[name] for name in _FIELDS)
    if not all(isinstance(v, str) for v in (text_hash, at, key_id, sig)) or not key_id:
        raise ValueError("hash, at, key_id and sig must be non-empty strings")
    check_seq(seq)
    key_id.encode("utf-8")  # a lone surrogate cannot be signed: ValueError, not a crash later
    digest = bytes.fromhex(text_hash)
    if digest.hex() != text_hash:
        raise ValueError("hash is not lowercase hex")
    check_hash(digest)
    return Checkpoint(seq, digest, parse_utc(at), key_id, _signature(sig))


def _signature(text: str) -> bytes:
    try:
        signature = base64.b64decode(text, validate=True)
    except binascii.Error as err:
        raise ValueError(f"sig is not base64: {err}") from err
    if len(signature) != _SIGNATURE_SIZE:
        raise ValueError(f"sig is not {_SIGNATURE_SIZE} bytes")
    return signature


def _last_line(fd: int) -> tuple[bytes, bool]:
    """The last line without its newline, and whether the file ends in a newline.

    Read backwards in growing blocks, so the cost does not grow with the file.
    """
    size = os.fstat(fd).st_size
    block = _TAIL_BLOCK
    while True:
        start = max(0, size - block)
        data = os.pread(fd, size - start, start)
        ends_clean = data.endswith(b"\n") or not data
        content = data.removesuffix(b"\n")
        cut = content.rfind(b"\n")
        if cut >= 0 or start == 0:
            return content[cut + 1 :], ends_clean
        block *= 4


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
