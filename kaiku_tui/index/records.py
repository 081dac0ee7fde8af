"""What the index stores, as the register hands it over and gets it back.

Plain values only: ciphertext, wrapped keys and metadata, never a key or
plaintext. The interfaces that take and return them are `protocols.py`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, NamedTuple

from kaiku_tui.domain.access import Person
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import Channel, RecordingSummary
from kaiku_tui.domain.retention import Tombstone

# Search criteria as the index sees them: the phone number, if any, only as its
# blind index (the register computes it; the index never sees a number).
PhoneBidx = bytes | None


@dataclass(frozen=True)
class StoredPerson:
    """A person's row with its MAC (docs/ARCHITECTURE.md, "Row MACs"): the register
    computes and checks it; the index only stores it. None: never sealed."""

    person: Person
    mac: bytes | None


@dataclass(frozen=True)
class StoredOrg:
    org: Organisation
    wrapped_key: bytes | None  # None once the key is destroyed (crypto-shredded)
    master_key_id: str
    mac: bytes | None = None  # the row's MAC, as for StoredPerson


@dataclass(frozen=True)
class OrgRewrap:
    """One organisation's key re-wrapped by a key rotation: the new wrapped key and row
    MAC, applied only while the row still has the MAC `was` it was read with."""

    code: str
    wrapped_key: bytes
    mac: bytes
    was: bytes | None


@dataclass(frozen=True)
class StoredRecording:
    """One recording as stored: metadata in clear, content as ciphertext."""

    summary: RecordingSummary
    wrapped_key: bytes | None  # None once destroyed
    phone_enc: bytes | None
    phone_bidx: bytes | None
    transcript_enc: bytes | None
    blob_ref: str | None
    notice_played: bool = False
    legal_hold: bool = False
    retention_until: int | None = None


class AuditRow(NamedTuple):
    """One sealed row as stored: a tuple, so batches go to the verifier as they are."""

    seq: int
    body: bytes
    prev_hash: bytes
    hash: bytes
    mac: bytes


# A row as a copy moves it between backends: plain Python values in the column
# order of `transfer.TABLES` (flags as bool, dates as date, the audit body as str).
Row = tuple[Any, ...]


class Export(abc.ABC):
    """One consistent snapshot of a whole register, read table by table in key order."""

    @abc.abstractmethod
    async def rows(self, table: str, after: Row | None, limit: int) -> list[Row]:
        """Up to `limit` rows of `table` whose key is beyond `after` (a row's key), in key order."""

    @abc.abstractmethod
    async def last(self, table: str) -> Row | None:
        """The row with the greatest key, or None for an empty table."""


@dataclass(frozen=True)
class StoredNote:
    """One version of a note as stored; the text as ciphertext (None: withdrawn)."""

    note_id: int  # 0 for the first version of a new note: the index assigns it
    version: int
    record_id: int
    author: str
    written_at: int  # UTC epoch seconds
    at_s: float | None
    message: int | None
    withdrawn: bool
    text_enc: bytes | None


@dataclass(frozen=True)
class StoredCase:
    """A feedback case as stored: findings and resolution as ciphertext under its own key."""

    id: int  # 0 for a new case
    org: str
    ref: str
    received: str  # ISO date
    summary: str
    status: str
    owner: str
    wrapped_key: bytes | None
    findings_enc: bytes | None = None
    resolution_enc: bytes | None = None
    records: tuple[int, ...] = ()  # linked recordings (get_case only; lists leave it empty)


@dataclass(frozen=True)
class StoredSample:
    id: int  # 0 for a new sample
    drawn_by: str
    drawn_at: int
    seed: int
    criteria: str  # JSON: what was asked
    record_ids: tuple[int, ...]


@dataclass(frozen=True)
class StoredScore:
    sample_id: int
    record_id: int
    scorer: str
    scored_at: int
    scores: str  # JSON: {criterion: 1..5}
    comment_enc: bytes | None


@dataclass(frozen=True)
class DueRecording:
    """What the purge needs of a recording that is due: no content."""

    id: int
    started_at: int
    duration_s: int
    channel: Channel
    phone_bidx: bytes | None  # the audit event's subject, so a data subject's log shows it
    blob_ref: str | None


@dataclass(frozen=True)
class StoredTombstone:
    tombstone: Tombstone
    blob_ref: str | None  # kept until the blob file is deleted (after the commit)


@dataclass(frozen=True)
class AddResult:
    added: int
    duplicates: int
