"""How domain objects are laid out in rows: one layout for every backend.

Roles and organisation scopes are comma lists, tags come back joined by U+001F
(`sql.summary_columns`), channel and direction are small integer codes. Kept
in one place so that SQLite and PostgreSQL hold the very same values, and a
register can move from one to the other row for row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from kaiku_tui.domain.access import Person, Role
from kaiku_tui.domain.recording import RecordingSummary
from kaiku_tui.index import sql
from kaiku_tui.index.records import StoredPerson, StoredRecording

TAG_SEPARATOR = "\x1f"  # char(31) / chr(31) in sql.summary_columns


def summary_of(row: Sequence[Any]) -> RecordingSummary:
    """A RecordingSummary from the columns of `sql.summary_columns`, in that order."""
    tags = tuple(sorted(row[12].split(TAG_SEPARATOR))) if row[12] else ()
    return RecordingSummary(
        id=row[0], org=row[1], channel=sql.CHANNELS[row[2]], direction=sql.DIRECTIONS[row[3]],
        started_at=row[4], duration_s=row[5], agent=row[6], queue=row[7], phone_masked=row[8],
        source_id=row[9], has_audio=bool(row[10]), has_transcript=bool(row[11]), tags=tags,
    )  # fmt: skip


def stored_of(row: Sequence[Any]) -> StoredRecording:
    """A StoredRecording from the summary columns followed by `STORED_COLUMNS`."""
    return StoredRecording(
        summary_of(row[:13]), row[13], row[14], row[15], row[16], row[17],
        bool(row[18]), bool(row[19]), row[20],
    )  # fmt: skip


STORED_COLUMNS = (
    "r.wrapped_key, r.phone_enc, r.phone_bidx, r.transcript_enc, r.blob_ref, "
    "r.notice_played, r.legal_hold, r.retention_until"
)

# The columns of `recording_values`, in its order.
RECORDING_COLUMNS = (
    "org, channel, direction, started_at, duration_s, agent, queue, source_id, phone_masked, "
    "phone_enc, phone_bidx, transcript_enc, blob_ref, wrapped_key, notice_played, legal_hold, "
    "retention_until"
)


def recording_values(r: StoredRecording) -> tuple[object, ...]:
    """One recording's values for RECORDING_COLUMNS (flags as bool: SQLite stores 0/1)."""
    s = r.summary
    return (
        s.org, sql.CHANNEL_CODE[s.channel], sql.DIRECTION_CODE[s.direction], s.started_at,
        s.duration_s, s.agent, s.queue, s.source_id, s.phone_masked, r.phone_enc, r.phone_bidx,
        r.transcript_enc, r.blob_ref, r.wrapped_key, r.notice_played, r.legal_hold,
        r.retention_until,
    )  # fmt: skip


PERSON_COLUMNS = "login, display_name, roles, orgs, active, mac"


def person_of(row: Sequence[Any]) -> StoredPerson:
    """A StoredPerson from PERSON_COLUMNS."""
    person = Person(
        login=row[0],
        display_name=row[1],
        roles=frozenset(Role(r) for r in row[2].split(",") if r),
        orgs=tuple(o for o in row[3].split(",") if o),
        active=bool(row[4]),
    )
    return StoredPerson(person, None if row[5] is None else bytes(row[5]))


ORG_COLUMNS = (
    "code, name, contract_start, contract_end, retention_days, wrapped_key, master_key_id, mac"
)


def person_values(person: Person) -> tuple[object, ...]:
    """(display_name, roles, orgs, active, login): the login last, for UPDATE ... WHERE."""
    return (
        person.display_name,
        ",".join(sorted(r.value for r in person.roles)),
        ",".join(person.orgs),
        person.active,
        person.login,
    )


# The first sealing (Directory.seal_rows): only a row without a MAC gets one.
SEAL_PERSON = "UPDATE person SET mac = ? WHERE login = ? AND mac IS NULL"
SEAL_ORG = "UPDATE organisation SET mac = ? WHERE code = ? AND mac IS NULL"


def since_text(epoch: int) -> str:
    """The lower bound for the audit `at` column (text like 2026-05-02T08:00:00.000000Z):
    the second's own prefix, which sorts before every instant within that second."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")
