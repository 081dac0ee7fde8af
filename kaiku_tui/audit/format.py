"""The audit log's shared spellings and checks: times, seqs, hashes, and what a checkpoint is.

Kept apart from `chain.py` and `checkpoint.py` so that both use them without importing
each other: the chain verifier reads checkpoints through `CheckpointMark`, and the
checkpoint file formats times and checks seqs and hashes with the functions here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, Protocol

HASH_SIZE: Final = 32
MAX_SEQ: Final = 2**63 - 1  # a PostgreSQL bigint, and 8 bytes in the hash input

_TIME_LENGTH: Final = len("2026-01-31T23:59:59.123456Z")


class CheckpointMark(Protocol):
    """What the chain verifier reads of a signed checkpoint (checkpoint.Checkpoint)."""

    @property
    def seq(self) -> int: ...

    @property
    def hash(self) -> bytes: ...

    @property
    def at(self) -> datetime: ...

    @property
    def key_id(self) -> str: ...


def format_utc(at: datetime) -> str:
    """ISO 8601 in UTC with microseconds and "Z": one fixed-length spelling per instant.

    A naive datetime is refused because its instant is a guess, and a guess in an audit
    trail is worse than an error.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"the time {at.isoformat()} has no time zone")
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_utc(text: str) -> datetime:
    """The inverse of `format_utc`, accepting only its exact spelling."""
    if len(text) != _TIME_LENGTH or not text.endswith("Z"):
        raise ValueError(f"{text!r} is not a UTC time like 2026-01-31T23:59:59.123456Z")
    at = datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    if format_utc(at) != text:
        raise ValueError(f"{text!r} is not a UTC time like 2026-01-31T23:59:59.123456Z")
    return at


def check_seq(seq: int) -> None:
    """A seq must fit the 8 bytes it is hashed as and PostgreSQL's bigint."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        raise ValueError(f"seq {seq!r} is not an integer from 1 to {MAX_SEQ}")


def check_hash(value: bytes, what: str = "hash") -> None:
    """A hash that is not 32 bytes would silently shift the fields hashed after it."""
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"the {what} is not {HASH_SIZE} bytes")
