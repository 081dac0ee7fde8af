"""The tables of a register as a copy moves them: columns, key order, value types.

One description for every backend, so that `kaiku-tui migrate` moves a register
from SQLite to PostgreSQL and back row for row. A copy reads each table in the
order of one key column (keyset batches: constant cost at any depth, bounded
memory) and writes it in the order of `TABLES`, so that every reference points
at a row already written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date

from kaiku_tui.index.records import Row


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]  # the first one is the key the batches follow
    bools: tuple[int, ...] = ()  # positions of flags (SQLite stores 0/1)
    dates: tuple[int, ...] = ()  # positions of dates (SQLite stores ISO text)
    # The key is not unique (a recording's tags): a batch holds whole groups, so
    # that a copy that stopped after a batch resumes after its last key.
    grouped: bool = False

    @property
    def key(self) -> str:
        return self.columns[0]

    @property
    def column_list(self) -> str:
        return ", ".join(self.columns)


REGISTER_INFO = Table("register_info", ("name", "value"))
# Persons and organisations with their row MACs (migration 10), copied as they are.
PERSON = Table("person", ("login", "display_name", "roles", "orgs", "active", "mac"), bools=(4,))
ORGANISATION = Table(
    "organisation",
    ("code", "name", "contract_start", "contract_end", "retention_days", "wrapped_key",
     "master_key_id", "mac"),
    dates=(2, 3),
)  # fmt: skip
RECORDING = Table(
    "recording",
    ("id", "org", "channel", "direction", "started_at", "duration_s", "agent", "queue",
     "source_id", "phone_masked", "phone_enc", "phone_bidx", "transcript_enc", "blob_ref",
     "wrapped_key", "notice_played", "legal_hold", "retention_until"),
    bools=(15, 16),
)  # fmt: skip
RECORDING_TAG = Table("recording_tag", ("recording_id", "tag"), grouped=True)
# Annotations (migration 4). A note's versions name their first row, which has a smaller id.
NOTE = Table(
    "note",
    ("id", "first_id", "version", "recording_id", "author", "written_at", "at_s", "message",
     "withdrawn", "text_enc"),
    bools=(8,),
)  # fmt: skip
FEEDBACK_CASE = Table(
    "feedback_case",
    ("id", "org", "ref", "received", "summary", "status", "owner", "wrapped_key",
     "findings_enc", "resolution_enc"),
)  # fmt: skip
CASE_LINK = Table("case_link", ("case_id", "recording_id"), grouped=True)
COACHING_SAMPLE = Table(
    "coaching_sample", ("id", "drawn_by", "drawn_at", "seed", "criteria", "record_ids")
)
SAMPLE_SCORE = Table(
    "sample_score",
    ("sample_id", "recording_id", "scorer", "scored_at", "scores", "comment_enc"),
    grouped=True,
)
# Retention (migration 5): what is left of destroyed recordings, and legal holds.
TOMBSTONE = Table(
    "tombstone",
    ("id", "org", "channel", "started_at", "duration_s", "destroyed_at", "reason", "blob_ref"),
)
LEGAL_HOLD = Table(
    "legal_hold",
    ("id", "recording_id", "case_id", "reason", "ref", "purpose", "set_by", "set_at",
     "released_by", "released_at"),
)  # fmt: skip
# Data subjects' requests and the disclosure log (migration 6).
SUBJECT_REQUEST = Table(
    "subject_request", ("ref", "kind", "received", "answered", "subject", "handled_by")
)
DISCLOSURE = Table(
    "disclosure",
    ("id", "at", "disclosed_by", "authority", "legal_basis", "request_ref", "record_ids",
     "manifest_sha256"),
)  # fmt: skip
AUDIT_EVENT = Table("audit_event", ("seq", "body", "prev_hash", "hash", "mac"))

# In the order a copy writes them: organisations before their recordings, recordings
# before their tags, the audit log last (it is the longest, and it is what is verified).
TABLES: tuple[Table, ...] = (
    REGISTER_INFO,
    PERSON,
    ORGANISATION,
    RECORDING,
    RECORDING_TAG,
    NOTE,
    FEEDBACK_CASE,
    CASE_LINK,
    COACHING_SAMPLE,
    SAMPLE_SCORE,
    TOMBSTONE,
    LEGAL_HOLD,
    SUBJECT_REQUEST,
    DISCLOSURE,
    AUDIT_EVENT,
)
BY_NAME = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"no table {name!r} in a register") from None


def queries(t: Table, param: Callable[[int], str]) -> tuple[str, str, str, str]:
    """(first batch, batch after a key, one group, last row) for `t`; `param(n)` spells
    the n-th placeholder in the backend's style."""
    select = f"SELECT {t.column_list} FROM {t.name}"
    return (
        f"{select} ORDER BY {t.key} LIMIT {param(1)}",
        f"{select} WHERE {t.key} > {param(1)} ORDER BY {t.key} LIMIT {param(2)}",
        f"{select} WHERE {t.key} = {param(1)}",
        f"{select} ORDER BY {t.key} DESC LIMIT 1",
    )


Fetch = Callable[[str, Sequence[object]], Awaitable[list[Row]]]


async def batch(
    fetch: Fetch, t: Table, param: Callable[[int], str], after: Row | None, limit: int
) -> list[Row]:
    """The next batch of `t` after the key of `after`, whole groups only."""
    first, following, group, _ = queries(t, param)
    if after is None:
        rows = await fetch(first, (limit,))
    else:
        rows = await fetch(following, (after[0], limit))
    if not t.grouped or len(rows) < limit:
        return rows
    last = rows[-1][0]
    kept = [r for r in rows if r[0] != last]
    return kept or await fetch(group, (last,))  # one group larger than a batch: all of it


def from_sqlite(t: Table, row: Sequence[object]) -> Row:
    """A SQLite row in the common types: 0/1 flags as bool, ISO dates as date."""
    out = list(row)
    for i in t.bools:
        out[i] = bool(out[i])
    for i in t.dates:
        out[i] = date.fromisoformat(str(out[i])) if out[i] is not None else None
    return tuple(out)


def upsert_info(param: Callable[[int], str]) -> str:
    """A copied fact replaces one of the same name (the copy's own marker, on a resume)."""
    return (
        f"INSERT INTO register_info (name, value) VALUES ({param(1)}, {param(2)}) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
    )


def to_sqlite(t: Table, row: Row) -> Row:
    """A row for SQLite: dates as ISO text (sqlite3's own date adapter is deprecated)."""
    if not t.dates:
        return row
    out = list(row)
    for i in t.dates:
        out[i] = out[i].isoformat() if out[i] is not None else None
    return tuple(out)
