"""The SQL of notes, tags, feedback cases and coaching samples, shared by both backends.

Written with `?` placeholders; `numbered()` spells them `$1, $2, …` for PostgreSQL.
Rows come back as the `Stored*` types of `base.py` whichever backend read them
(SQLite's 0/1 flags become bool here).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from kaiku_tui.index.records import StoredCase, StoredNote, StoredSample, StoredScore

NOTE_COLUMNS = (
    "coalesce(first_id, id), version, recording_id, author, written_at, at_s, message, "
    "withdrawn, text_enc"
)
INSERT_NOTE = (
    "INSERT INTO note (first_id, version, recording_id, author, written_at, at_s, message, "
    "withdrawn, text_enc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING coalesce(first_id, id)"
)
NOTES_OF_RECORDING = f"SELECT {NOTE_COLUMNS} FROM note WHERE recording_id = ? ORDER BY 1, 2"
NOTE_HISTORY = f"SELECT {NOTE_COLUMNS} FROM note WHERE coalesce(first_id, id) = ? ORDER BY version"
DELETE_TAG = "DELETE FROM recording_tag WHERE tag = ? AND recording_id = ?"
ADD_TAG = "INSERT INTO recording_tag (tag, recording_id) VALUES (?, ?) ON CONFLICT DO NOTHING"

CASE_COLUMNS = (
    "id, org, ref, received, summary, status, owner, wrapped_key, findings_enc, resolution_enc"
)
INSERT_CASE = (
    "INSERT INTO feedback_case (org, ref, received, summary, status, owner, wrapped_key, "
    "findings_enc, resolution_enc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (org, ref) DO NOTHING RETURNING id"
)
UPDATE_CASE = (
    "UPDATE feedback_case SET status = ?, owner = ?, findings_enc = ?, resolution_enc = ? "
    "WHERE id = ?"
)
GET_CASE = f"SELECT {CASE_COLUMNS} FROM feedback_case WHERE id = ?"
CASE_RECORDS = "SELECT recording_id FROM case_link WHERE case_id = ? ORDER BY recording_id"
LINK = "INSERT INTO case_link (case_id, recording_id) VALUES (?, ?) ON CONFLICT DO NOTHING"

INSERT_SAMPLE = (
    "INSERT INTO coaching_sample (drawn_by, drawn_at, seed, criteria, record_ids) "
    "VALUES (?, ?, ?, ?, ?) RETURNING id"
)
GET_SAMPLE = (
    "SELECT id, drawn_by, drawn_at, seed, criteria, record_ids FROM coaching_sample WHERE id = ?"
)
NO_ID_ABOVE = 2**63 - 1  # the first page: every id is below it
LIST_SAMPLES = (
    "SELECT id, drawn_by, drawn_at, seed, criteria, record_ids FROM coaching_sample "
    "WHERE id < ? ORDER BY id DESC LIMIT ?"
)
INSERT_SCORE = (
    "INSERT INTO sample_score (sample_id, recording_id, scorer, scored_at, scores, comment_enc) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
SCORES = (
    "SELECT sample_id, recording_id, scorer, scored_at, scores, comment_enc FROM sample_score "
    "WHERE sample_id = ? ORDER BY recording_id, scorer"
)

_MARK = re.compile(r"\?")


def numbered(statement: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, …` (no statement here has a `?` literal)."""
    count = iter(range(1, 1000))
    return _MARK.sub(lambda _: f"${next(count)}", statement)


def list_cases(
    status: str | None, orgs: tuple[str, ...], before_id: int | None, limit: int
) -> tuple[str, list[object]]:
    """A keyset page of cases, newest first, `?` placeholders; organisations as an IN list."""
    terms, params = [], list[object]()
    if before_id is not None:
        terms.append("id < ?")
        params.append(before_id)
    if status is not None:
        terms.append("status = ?")
        params.append(status)
    if orgs:
        terms.append(f"org IN ({', '.join('?' * len(orgs))})")
        params.extend(orgs)
    where = f" WHERE {' AND '.join(terms)}" if terms else ""
    query = f"SELECT {CASE_COLUMNS} FROM feedback_case{where} ORDER BY id DESC LIMIT ?"
    return query, [*params, limit]


def tag_counts(orgs: tuple[str, ...]) -> tuple[str, list[object]]:
    if not orgs:
        return "SELECT tag, count(*) FROM recording_tag GROUP BY tag ORDER BY tag", []
    marks = ", ".join("?" * len(orgs))
    return (
        "SELECT t.tag, count(*) FROM recording_tag t JOIN recording r ON r.id = t.recording_id "
        f"WHERE r.org IN ({marks}) GROUP BY t.tag ORDER BY t.tag",
        list(orgs),
    )


def note_values(note: StoredNote) -> tuple[object, ...]:
    first = note.note_id or None
    return (
        first, note.version, note.record_id, note.author, note.written_at, note.at_s,
        note.message, note.withdrawn, note.text_enc,
    )  # fmt: skip


def note_of(row: Sequence[Any]) -> StoredNote:
    return StoredNote(
        row[0], row[1], row[2], row[3], row[4],
        None if row[5] is None else float(row[5]), row[6], bool(row[7]), row[8],
    )  # fmt: skip


def case_values(case: StoredCase) -> tuple[object, ...]:
    return (
        case.org, case.ref, case.received, case.summary, case.status, case.owner,
        case.wrapped_key, case.findings_enc, case.resolution_enc,
    )  # fmt: skip


def case_of(row: Sequence[Any], records: Sequence[int] = ()) -> StoredCase:
    r = row
    return StoredCase(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], tuple(records))


def sample_values(sample: StoredSample) -> tuple[object, ...]:
    ids = json.dumps(list(sample.record_ids))
    return (sample.drawn_by, sample.drawn_at, sample.seed, sample.criteria, ids)


def sample_of(row: Sequence[Any]) -> StoredSample:
    return StoredSample(row[0], row[1], row[2], row[3], row[4], tuple(json.loads(row[5])))


def score_values(score: StoredScore) -> tuple[object, ...]:
    return (
        score.sample_id, score.record_id, score.scorer, score.scored_at, score.scores,
        score.comment_enc,
    )  # fmt: skip


def score_of(row: Sequence[Any]) -> StoredScore:
    return StoredScore(*row)
