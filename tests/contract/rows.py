"""Rows for the index contract suite: organisations, recordings, audit events, a seeded dataset.

Everything here is backend-neutral plain data; the tests hand it to an `Index`.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.domain.access import Person
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import Channel, Direction, RecordingSummary
from kaiku_tui.index.records import StoredOrg, StoredPerson, StoredRecording

MAC_KEY = b"contract-suite-audit-mac-key-32b"
AT = datetime(2026, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
STEP = 600  # seconds between two distinct start times in the dataset
TIES = 3  # recordings that share each start time
GROUPS = 667  # distinct start times
SIZE = GROUPS * TIES  # 2,001 recordings

ORGS = ("HKI", "PIRHA", "VARHA")
AGENTS = tuple(f"agent-{n}" for n in range(6))
TAGS = ("coaching", "feedback", "praise")
PHONES = tuple(bytes([n]) * 16 for n in range(1, 13))  # blind indexes, 16 bytes each
DURATIONS = (0, 1, 30, 59, 60, 61, 300, 600, 1800, 3600)  # few values: many ties


def event(
    action: str = "test", n: int = 0, *, actor: str = "admin.aalto", **fields: object
) -> AuditEvent:
    """An audit event `n` seconds after AT."""
    return AuditEvent(
        at=AT + timedelta(seconds=n),
        actor=actor,
        roles=("admin",),
        action=action,
        outcome="ok",
        **fields,  # type: ignore[arg-type]
    )


def stored_org(code: str, **changes: object) -> StoredOrg:
    org = Organisation(code, f"Organisation {code}", date(2024, 1, 1), date(2028, 12, 31), 3650)
    stored = StoredOrg(
        org,
        wrapped_key=b"wrapped:" + code.encode(),
        master_key_id="mk-1",
        mac=b"mac:" + code.encode(),
    )
    return replace(stored, **changes)  # type: ignore[arg-type]


def mac_of(row: object) -> bytes:
    """A stand-in row MAC: the index stores and returns it, and never computes one."""
    return hashlib.sha256(repr(row).encode()).digest()


def stored_person(person: Person) -> StoredPerson:
    """The person as `put_person(person, ..., mac=mac_of(person))` stores it."""
    return StoredPerson(person, mac_of(person))


def recording(
    source_id: str,
    started_at: int,
    duration_s: int,
    *,
    org: str = "HKI",
    channel: Channel = Channel.CALL,
    direction: Direction = Direction.INBOUND,
    agent: str = "agent-0",
    tags: tuple[str, ...] = (),
    phone_bidx: bytes | None = None,
    transcript_enc: bytes | None = None,
    blob_ref: str | None = None,
    **stored: object,
) -> StoredRecording:
    """A recording as the register stores it; `summary.id` is 0 until the index assigns one."""
    summary = RecordingSummary(
        id=0,
        org=org,
        channel=channel,
        direction=direction,
        started_at=started_at,
        duration_s=duration_s,
        agent=agent,
        queue="+358 9 100 200",
        phone_masked="+358 40 ••• ••67" if phone_bidx else "",
        source_id=source_id,
        has_audio=blob_ref is not None,
        has_transcript=transcript_enc is not None,
        tags=tuple(sorted(set(tags))),
    )
    fields: dict[str, object] = {
        "wrapped_key": b"wrapped:" + source_id.encode(),
        "phone_enc": b"phone:" + phone_bidx if phone_bidx else None,
        **stored,
    }
    return StoredRecording(
        summary, phone_bidx=phone_bidx, transcript_enc=transcript_enc, blob_ref=blob_ref,
        **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def dataset(seed: int = 20260501) -> list[StoredRecording]:
    """SIZE recordings, TIES per start time, start times STEP apart, in shuffled order.

    Durations come from a few values, so rows tie on duration and on (duration,
    start) too; the shuffle makes ids unrelated to start times, so the id
    tie-breaker is really exercised.
    """
    rng = random.Random(seed)
    rows = [_random_recording(rng, i) for i in range(SIZE)]
    rng.shuffle(rows)
    return rows


def _random_recording(rng: random.Random, i: int) -> StoredRecording:
    return recording(
        f"src-{i:05d}",
        T0 + (i // TIES) * STEP,
        rng.choice(DURATIONS),
        org=rng.choice(ORGS),
        channel=rng.choice(tuple(Channel)),
        direction=rng.choice(tuple(Direction)),
        agent=rng.choice(AGENTS),
        tags=tuple(t for t in TAGS if rng.random() < 0.2),
        phone_bidx=rng.choice(PHONES) if rng.random() < 0.7 else None,
        transcript_enc=rng.randbytes(24) if rng.random() < 0.5 else None,
        blob_ref=f"blobs/{i:05d}" if rng.random() < 0.5 else None,
    )
