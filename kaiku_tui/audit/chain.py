"""The hash-chained audit log, without its storage: canonical bodies, sealing, verification.

Both index backends store the same five columns (`seq`, `body`, `prev_hash`, `hash`, `mac`)
and this module alone decides what they mean, so SQLite and PostgreSQL are sealed and
verified by one piece of code. `body` is the single source of truth: the database derives
its queryable columns from it, and the chain covers exactly its bytes.

* hash = SHA-256(prev_hash ‖ seq as 8-byte big-endian ‖ body) links each row to the one
  before it, so deleting, inserting, reordering or editing rows breaks the chain.
* mac = HMAC-SHA256(audit key, hash) means that someone who can write to the table but
  does not hold the audit key cannot re-hash the chain after an edit.
* Signed checkpoints (`checkpoint.py`, kept outside the database) catch the one thing the
  chain cannot: a truncated tail, or a chain rewritten by someone holding the MAC key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from kaiku_tui.audit.format import CheckpointMark, check_hash, check_seq, format_utc, parse_utc
from kaiku_tui.errors import TamperDetected

GENESIS: Final = bytes(32)
"""The prev_hash of seq 1: there is no row before it."""

OUTCOMES: Final = frozenset({"ok", "denied", "error"})

_SEQ: Final = struct.Struct(">Q")
_OPTIONAL_TEXT: Final = (
    "org",
    "target",
    "subject",
    "purpose",
    "legal_basis",
    "request_ref",
    "recipient",
    "detail",
    "client_host",
    "door",
    "key",
    "client",
)
_REQUIRED_TEXT: Final = ("actor", "action", "outcome")
_KNOWN_KEYS: Final = frozenset(
    {"seq", "at", "roles", "criteria", "result_count", "revealed"}
    | set(_REQUIRED_TEXT)
    | set(_OPTIONAL_TEXT)
)

ProblemKind = Literal["gap", "order", "link", "hash", "mac", "checkpoint"]
Row = tuple[int, bytes, bytes, bytes, bytes]
"""(seq, body, prev_hash, hash, mac), as the database returns them."""


@dataclass(frozen=True)
class AuditEvent:
    """One audited action, before it is given a seq and sealed into the chain.

    Checked on construction so that a body that cannot be read back (`event_from_body`)
    is never written: an unreadable audit row would be as bad as a missing one.
    """

    at: datetime
    actor: str
    roles: tuple[str, ...]
    action: str
    outcome: str
    org: str | None = None
    target: str | None = None
    subject: str | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    request_ref: str | None = None
    recipient: str | None = None
    criteria: Mapping[str, object] | None = None
    result_count: int | None = None
    revealed: tuple[str, ...] = ()
    detail: str | None = None
    client_host: str | None = None
    door: str | None = None  # "ssh" | "sudo" | "local"; None in events older than the doors
    key: str | None = None  # the SSH key's fingerprint (the SSH door)
    client: str | None = None  # the client's address and port (the SSH door)

    def __post_init__(self) -> None:
        format_utc(self.at)
        for name in _REQUIRED_TEXT:
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"audit event field {name} must be a non-empty string")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"audit outcome {self.outcome!r} is not one of {sorted(OUTCOMES)}")
        for name in _OPTIONAL_TEXT:
            if not isinstance(getattr(self, name), str | None):
                raise ValueError(f"audit event field {name} must be a string or None")
        self._check_rest()

    def _check_rest(self) -> None:
        for name in ("roles", "revealed"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"audit event field {name} must be a tuple of strings")
        if self.criteria is not None and not isinstance(self.criteria, Mapping):
            raise ValueError("audit event field criteria must be a mapping or None")
        count = self.result_count
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise ValueError("audit event field result_count must be an integer or None")
        if count is not None and count < 0:
            raise ValueError("audit event field result_count must not be negative")


def canonical_body(seq: int, event: AuditEvent) -> bytes:
    """The one byte spelling of an event, so that the hash of a row is reproducible.

    Keys sorted, no spaces, UTF-8, None and an empty `revealed` left out. A string with a
    lone surrogate (a file name decoded with surrogateescape) cannot be UTF-8; that body
    alone falls back to \\u escapes, which is still deterministic and still parses back.
    """
    check_seq(seq)
    fields = _fields_of(seq, event)
    try:
        return _dump(fields, ascii_only=False).encode("utf-8")
    except UnicodeEncodeError:
        return _dump(fields, ascii_only=True).encode("ascii")


def _fields_of(seq: int, event: AuditEvent) -> dict[str, object]:
    fields: dict[str, object] = {
        "seq": seq,
        "at": format_utc(event.at),
        "actor": event.actor,
        "roles": list(event.roles),
        "action": event.action,
        "outcome": event.outcome,
    }
    for name in _OPTIONAL_TEXT:
        value = getattr(event, name)
        if value is not None:
            fields[name] = value
    if event.criteria is not None:
        fields["criteria"] = dict(event.criteria)
    if event.result_count is not None:
        fields["result_count"] = event.result_count
    if event.revealed:
        fields["revealed"] = list(event.revealed)
    return fields


def _dump(fields: dict[str, object], *, ascii_only: bool) -> str:
    # allow_nan=False: NaN is not JSON, and the database must be able to parse every body.
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=ascii_only, allow_nan=False
    )


def event_from_body(body: bytes) -> tuple[int, AuditEvent]:
    """Read a stored body back into (seq, event), for `audit show` and reports.

    Anything that `canonical_body` could not have written — not JSON, duplicated or
    unknown keys, wrong types — is reported as tampering: only this module writes bodies.
    """
    try:
        fields = json.loads(body, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
        if not isinstance(fields, dict):
            raise ValueError("not a JSON object")
        return _event_of(fields)
    except (ValueError, TypeError) as err:  # JSONDecodeError, UnicodeDecodeError included
        raise TamperDetected(f"an audit event body is not a kaiku-tui event: {err}") from err


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A duplicated key would let the database and Python each see a different value."""
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise ValueError("a key is duplicated")
    return fields


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _event_of(fields: dict[str, object]) -> tuple[int, AuditEvent]:
    unknown = fields.keys() - _KNOWN_KEYS
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    seq = fields.get("seq")
    if not isinstance(seq, int):
        raise ValueError("seq is missing or not an integer")
    check_seq(seq)
    return seq, AuditEvent(
        at=parse_utc(_text(fields, "at")),
        actor=_text(fields, "actor"),
        roles=_texts(fields, "roles", required=True),
        action=_text(fields, "action"),
        outcome=_text(fields, "outcome"),
        org=_optional_text(fields, "org"),
        target=_optional_text(fields, "target"),
        subject=_optional_text(fields, "subject"),
        purpose=_optional_text(fields, "purpose"),
        legal_basis=_optional_text(fields, "legal_basis"),
        request_ref=_optional_text(fields, "request_ref"),
        recipient=_optional_text(fields, "recipient"),
        criteria=_criteria(fields),
        result_count=_count(fields),
        revealed=_texts(fields, "revealed", required=False),
        detail=_optional_text(fields, "detail"),
        client_host=_optional_text(fields, "client_host"),
        door=_optional_text(fields, "door"),
        key=_optional_text(fields, "key"),
        client=_optional_text(fields, "client"),
    )


def _text(fields: dict[str, object], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str):
        raise ValueError(f"{name} is missing or not a string")
    return value


def _optional_text(fields: dict[str, object], name: str) -> str | None:
    # canonical_body omits None, so an explicit null was not written by it
    return _text(fields, name) if name in fields else None


def _texts(fields: dict[str, object], name: str, *, required: bool) -> tuple[str, ...]:
    if name not in fields and not required:
        return ()
    value = fields.get(name)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} is missing or not a list of strings")
    return tuple(value)


def _criteria(fields: dict[str, object]) -> dict[str, object] | None:
    value = fields.get("criteria")
    if "criteria" in fields and not isinstance(value, dict):
        raise ValueError("criteria is not an object")
    return value if isinstance(value, dict) else None


def _count(fields: dict[str, object]) -> int | None:
    value = fields.get("result_count")
    if "result_count" in fields and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError("result_count is not an integer")
    return value if isinstance(value, int) else None


@dataclass(frozen=True)
class SealedRow:
    """The five columns of one audit_event row, ready to insert."""

    seq: int
    body: bytes
    prev_hash: bytes
    hash: bytes
    mac: bytes


def seal(seq: int, prev_hash: bytes, body: bytes, mac_key: bytes) -> SealedRow:
    """Chain a body to the row before it and authenticate the link with the audit key.

    The seq is hashed as a fixed 8 bytes, so a row moved to another seq no longer hashes,
    whatever its body says.
    """
    check_seq(seq)
    check_hash(prev_hash, "prev_hash")
    _check_key(mac_key)
    digest = hashlib.sha256(prev_hash + _SEQ.pack(seq) + body).digest()
    return SealedRow(seq, body, prev_hash, digest, hmac.digest(mac_key, digest, "sha256"))


def mac_matches(mac_key: bytes, digest: bytes, mac: bytes) -> bool:
    """Whether a row's MAC was made with this key: one row tells a wrong key from a good one
    before anything is appended under it."""
    _check_key(mac_key)
    return hmac.compare_digest(hmac.digest(mac_key, digest, "sha256"), mac)


def _check_key(mac_key: bytes) -> None:
    if not isinstance(mac_key, bytes) or not mac_key:
        raise ValueError("the audit MAC key is empty")


class _HmacPads:
    """HMAC-SHA256 (RFC 2104) with the key's two pads hashed once, for the verify loop.

    `hmac.digest()` sets the key up again on every call: measured, 1.15 µs of the 1.9 µs a
    row took. Copying the pre-keyed inner and outer states computes the same MAC (a test
    compares it with `hmac.digest` for short, block-sized and long keys) in 0.45 µs.
    `seal()` keeps using `hmac.digest`, the reference.
    """

    _BLOCK = 64  # SHA-256's block size

    def __init__(self, key: bytes) -> None:
        if len(key) > self._BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(self._BLOCK, b"\0")
        self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def digest(self, message: bytes) -> bytes:
        inner = self.inner.copy()
        inner.update(message)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.digest()


@dataclass(frozen=True)
class _Mark:
    """A checkpoint the verifier compares, and where it came from, to name it."""

    seq: int
    hash: bytes
    at: datetime
    key_id: str
    source: str  # "checkpoint file" or "witness"

    @classmethod
    def of(cls, checkpoint: CheckpointMark, source: str) -> _Mark:
        return cls(checkpoint.seq, checkpoint.hash, checkpoint.at, checkpoint.key_id, source)


@dataclass(frozen=True)
class Problem:
    """The first thing wrong with the log, in words a person can act on."""

    seq: int
    kind: ProblemKind
    message: str

    def __str__(self) -> str:
        return self.message


class ChainVerifier:
    """Verify the log in batches as the database streams it, so 10 M rows never sit in memory.

    Feed batches in seq order; the first bad seq is kept in `first_problem` and nothing
    after it is checked (a broken chain proves nothing further), though rows are still
    counted. Checkpoints — of the checkpoint file and of the witness (audit/witness.py),
    each named in a problem by where it came from — are given up front and compared as
    their seq streams past; `finish()` then reports a checkpoint beyond the end of the
    log: a truncated tail. `head` is the last row fed, which is trustworthy only when no
    problem was found.
    """

    def __init__(
        self,
        mac_key: bytes,
        checkpoints: Sequence[CheckpointMark] = (),
        *,
        start: tuple[int, bytes] | None = None,
        witness: Sequence[CheckpointMark] = (),
    ) -> None:
        _check_key(mac_key)
        first_seq, prev_hash = start if start is not None else (1, GENESIS)
        check_seq(first_seq)
        check_hash(prev_hash, "start prev_hash")
        self._pads = _HmacPads(mac_key)
        self._first_seq = first_seq
        self._next_seq = first_seq
        self._last_hash = prev_hash
        self._finished = False
        self.first_problem: Problem | None = None
        self.count = 0
        self.head: tuple[int, bytes] | None = None
        marks = [_Mark.of(cp, "checkpoint file") for cp in checkpoints]
        marks += [_Mark.of(cp, "witness") for cp in witness]
        # pop() from the end takes the lowest seq; the witness's first at one seq
        self._checkpoints = sorted(
            (m for m in marks if m.seq >= first_seq - 1),
            key=lambda m: (m.seq, m.source != "witness"),
            reverse=True,
        )
        self._check_checkpoints(first_seq - 1, prev_hash)

    def feed(self, rows: Iterable[Row]) -> None:
        """Check one batch; call again with the next batch, in seq order."""
        if self._finished:
            raise RuntimeError("ChainVerifier.feed() called after finish()")
        remaining = iter(rows)
        if self.first_problem is None:
            self._verify(remaining)
        if self.first_problem is not None:
            self._skim(remaining)

    def finish(self) -> Problem | None:
        """The first problem, including a checkpoint that lies beyond the last row."""
        self._finished = True
        if self.first_problem is None and self._checkpoints:
            self.first_problem = self._truncated(self._checkpoints[-1])
        return self.first_problem

    def _verify(self, rows: Iterator[Row]) -> None:
        """The hot loop: every name bound locally, each check a single comparison.

        Every row's position, link, hash and MAC is checked: a row whose MAC alone was
        damaged is as much a fault as a changed body. The MAC is HMAC-SHA256 from the
        key's pre-hashed pads (`_HmacPads`), inlined. A failing row only breaks out;
        `_diagnose` works out afterwards what is wrong.
        """
        sha256 = hashlib.sha256
        same = hmac.compare_digest
        pack = _SEQ.pack
        inner = self._pads.inner.copy
        outer = self._pads.outer.copy
        start = expected = self._next_seq
        last_hash = self._last_hash
        mark = self._checkpoints[-1].seq if self._checkpoints else -1
        bad: Row | None = None
        try:
            for seq, body, prev, digest, mac in rows:
                if (
                    seq != expected
                    or prev != last_hash
                    or sha256(prev + pack(seq) + body).digest() != digest
                ):
                    bad = (seq, body, prev, digest, mac)
                    break
                keyed = inner()
                keyed.update(digest)
                sealed = outer()
                sealed.update(keyed.digest())
                if not same(sealed.digest(), mac):
                    bad = (seq, body, prev, digest, mac)
                    break
                if seq == mark:
                    if not self._check_checkpoints(seq, digest):
                        bad = (seq, body, prev, digest, mac)
                        break
                    mark = self._checkpoints[-1].seq if self._checkpoints else -1
                last_hash = digest
                expected = seq + 1
        finally:
            self._advance(start, expected, last_hash)
        if bad is not None:
            self._diagnose(bad)

    def _advance(self, start: int, expected: int, last_hash: bytes) -> None:
        """Keep the verified position, also when the database raises mid-batch."""
        self._next_seq = expected
        self._last_hash = last_hash
        if expected > start:
            self.count += expected - start
            self.head = (expected - 1, last_hash)

    def _skim(self, rows: Iterator[Row]) -> None:
        """After the first problem: only count, and remember the last row seen."""
        count = 0
        last: Row | None = None
        for row in rows:
            count += 1
            last = row
        self.count += count
        if last is not None:
            self.head = (last[0], last[3])

    def _diagnose(self, row: Row) -> None:
        seq, body, prev, digest, mac = row
        self.count += 1
        self.head = (seq, digest)
        self.first_problem = (
            self._position_problem(seq, prev)
            or self._seal_problem(seq, body, prev, digest, mac)
            or self._checkpoint_problem(seq, digest)
        )

    def _position_problem(self, seq: int, prev: bytes) -> Problem | None:
        expected = self._next_seq
        at_start = expected == self._first_seq
        if seq < expected:
            where = f"the log starts at seq {expected}" if at_start else f"after seq {expected - 1}"
            return Problem(seq, "order", f"seq {seq}: out of order or duplicated ({where})")
        if seq > expected:
            where = "the log starts" if at_start else f"the log goes from seq {expected - 1} to"
            return Problem(
                expected, "gap", f"seq {expected}: missing (a deleted row): {where} seq {seq}"
            )
        if prev != self._last_hash:
            before = f"seq {seq - 1}" if seq > 1 else "the genesis"
            return Problem(
                seq,
                "link",
                f"seq {seq}: its prev_hash is not the hash of {before}"
                " (rows were inserted, deleted or reordered)",
            )
        return None

    def _seal_problem(
        self, seq: int, body: bytes, prev: bytes, digest: bytes, mac: bytes
    ) -> Problem | None:
        if hashlib.sha256(prev + _SEQ.pack(seq) + body).digest() != digest:
            return Problem(
                seq, "hash", f"seq {seq}: the body was altered (its hash does not match)"
            )
        if not hmac.compare_digest(self._pads.digest(digest), mac):
            return Problem(
                seq,
                "mac",
                f"seq {seq}: the MAC does not match"
                " (the row was re-hashed without the audit key, or the key is wrong)",
            )
        return None

    def _checkpoint_problem(self, seq: int, digest: bytes) -> Problem:
        for checkpoint in reversed(self._checkpoints):
            if checkpoint.seq == seq and checkpoint.hash != digest:
                return Problem(
                    seq,
                    "checkpoint",
                    f"seq {seq}: its hash differs from the {checkpoint.source}'s checkpoint"
                    f" signed at {format_utc(checkpoint.at)} (key {checkpoint.key_id}):"
                    " the log was rewritten after it",
                )
        raise AssertionError(f"seq {seq} was rejected but no check fails")  # pragma: no cover

    def _check_checkpoints(self, seq: int, digest: bytes) -> bool:
        """Compare every checkpoint at this seq; drop them once they match."""
        pending = self._checkpoints
        while pending and pending[-1].seq == seq:
            if pending[-1].hash != digest:
                if seq < self._first_seq:  # the start hash given by the caller
                    self.first_problem = self._checkpoint_problem(seq, digest)
                return False
            pending.pop()
        return True

    def _truncated(self, checkpoint: _Mark) -> Problem:
        last = self._next_seq - 1
        end = f"ends at seq {last}" if last >= 1 else "is empty"
        return Problem(
            self._next_seq,
            "checkpoint",
            f"the {checkpoint.source} has a checkpoint at seq {checkpoint.seq} but the log"
            f" {end}: the tail was truncated",
        )
