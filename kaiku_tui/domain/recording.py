"""Recordings: what the register holds about one call or chat."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


class Channel(enum.StrEnum):
    CALL = "call"
    CHAT = "chat"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Speaker(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    EVENT = "event"


@dataclass(frozen=True)
class TranscriptLine:
    """One line of a call transcript or one chat message; `at` is seconds from the start."""

    at: float
    speaker: str
    role: Speaker
    text: str


@dataclass(frozen=True)
class RecordingSummary:
    """A row of the browse list: metadata only, the phone number already masked."""

    id: int
    org: str
    channel: Channel
    direction: Direction
    started_at: int  # UTC epoch seconds
    duration_s: int
    agent: str
    queue: str
    phone_masked: str
    source_id: str
    has_audio: bool
    has_transcript: bool
    tags: tuple[str, ...] = ()

    @property
    def started(self) -> datetime:
        return datetime.fromtimestamp(self.started_at, UTC)


@dataclass(frozen=True)
class Recording:
    """One recording opened for a purpose: metadata and decrypted content."""

    summary: RecordingSummary
    transcript: tuple[TranscriptLine, ...] = ()
    phone: str | None = None  # E.164, only when revealed
    notice_played: bool = False
    legal_hold: bool = False
    retention_until: int | None = None


@dataclass(frozen=True)
class AudioSource:
    """A validated recording file on its way into the vault, stored byte for byte.

    `size` is the length that was validated: the register refuses to file a
    file that has since grown or shrunk, so what is stored is what was checked.
    """

    path: Path
    size: int


@dataclass(frozen=True)
class NewRecording:
    """A recording on its way into the register, content still in plaintext."""

    org: str
    channel: Channel
    direction: Direction
    started_at: int
    duration_s: int
    agent: str
    queue: str
    source_id: str
    phone: str | None = None  # E.164
    transcript: tuple[TranscriptLine, ...] = ()
    notice_played: bool = False
    tags: tuple[str, ...] = field(default=())
    # A checked file, or bytes made in memory (the demo's synthetic audio).
    audio: AudioSource | bytes | None = None
