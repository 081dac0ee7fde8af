"""The SQL of data subjects' requests, the disclosure log and a person's audit events.

Shared by both backends as `annotation_sql.py` is: `?` placeholders, which
`numbered()` spells `$1, $2, …` for PostgreSQL. Rows come back as the domain's
`SubjectRequest` and `Disclosure`: neither holds ciphertext.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from kaiku_tui.domain.subject import Disclosure, RequestKind, SubjectRequest
from kaiku_tui.index import rowformat

REQUEST_COLUMNS = "ref, kind, received, answered, subject, handled_by"
INSERT_REQUEST = (
    f"INSERT INTO subject_request ({REQUEST_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (ref) DO NOTHING RETURNING ref"
)
GET_REQUEST = f"SELECT {REQUEST_COLUMNS} FROM subject_request WHERE ref = ?"
# Unanswered first (oldest receipt first: the nearest deadline), then answered, newest first.
LIST_REQUESTS = (
    f"SELECT {REQUEST_COLUMNS} FROM subject_request "
    "ORDER BY answered IS NOT NULL, CASE WHEN answered IS NULL THEN received END, "
    "received DESC, ref"
)
ANSWER_REQUEST = "UPDATE subject_request SET answered = ? WHERE ref = ? AND answered IS NULL"

DISCLOSURE_COLUMNS = (
    "id, at, disclosed_by, authority, legal_basis, request_ref, record_ids, manifest_sha256"
)
INSERT_DISCLOSURE = (
    "INSERT INTO disclosure (at, disclosed_by, authority, legal_basis, request_ref, "
    "record_ids, manifest_sha256) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id"
)
LIST_DISCLOSURES = f"SELECT {DISCLOSURE_COLUMNS} FROM disclosure ORDER BY id DESC LIMIT ?"

# A person's recordings: the blind index of their number (index recording_by_phone).
SUBJECT_WHERE = "WHERE r.phone_bidx = ?"
SUBJECT_ORDER = " ORDER BY r.started_at, r.id"
TARGETS_PER_QUERY = 500  # bound parameters per IN (...) list on SQLite


def org_terms(orgs: tuple[str, ...]) -> str:
    return f" AND r.org IN ({', '.join('?' * len(orgs))})" if orgs else ""


def at_terms(since: int | None, until: int | None) -> tuple[str, list[object]]:
    """`at` between two UTC epoch seconds, the upper bound exclusive (text comparison on
    the audit log's fixed-width UTC times)."""
    terms, params = "", list[object]()
    if since is not None:
        terms += " AND at >= ?"
        params.append(rowformat.since_text(since))
    if until is not None:
        terms += " AND at < ?"
        params.append(rowformat.since_text(until))
    return terms, params


def events_by_subject(body: str, at: str) -> str:
    return f"SELECT seq, {body} FROM audit_event WHERE subject = ?{at}"


def events_by_target(body: str, target: str, targets: str, at: str) -> str:
    return f"SELECT seq, {body} FROM audit_event WHERE {target} {targets}{at}"


def revealing_sqlite(marks: str, at: str) -> str:
    """Events whose `revealed` names one of the names (migration 9's side table)."""
    return (
        "SELECT a.seq, CAST(a.body AS BLOB) FROM audit_revealed v "
        f"JOIN audit_event a ON a.seq = v.seq WHERE v.name IN ({marks}){at}"
    )


# The same on PostgreSQL: migration 9's GIN index answers the operator `?|`, written in
# after the placeholders are numbered (its `?` is not one).
REVEALING_POSTGRES = (
    "SELECT seq, convert_to(body, 'UTF8') FROM audit_event "
    "WHERE audit_json(body) -> 'revealed' ANY_OF ?::text[]"
)


def request_values(r: SubjectRequest) -> tuple[object, ...]:
    answered = r.answered.isoformat() if r.answered else None
    return (r.ref, r.kind.value, r.received.isoformat(), answered, r.subject, r.handled_by)


def request_of(row: Sequence[Any]) -> SubjectRequest:
    answered = date.fromisoformat(row[3]) if row[3] else None
    kind = RequestKind(row[1])
    return SubjectRequest(row[0], kind, date.fromisoformat(row[2]), answered, row[4], row[5])


def disclosure_values(d: Disclosure) -> tuple[object, ...]:
    ids = json.dumps(list(d.record_ids))
    return (d.at, d.by, d.authority, d.legal_basis, d.request_ref, ids, d.manifest_sha256)


def disclosure_of(row: Sequence[Any]) -> Disclosure:
    ids = tuple(int(i) for i in json.loads(row[6]))
    return Disclosure(row[0], row[1], row[2], row[3], row[4], row[5], ids, row[7])


def merged(rows: Sequence[Sequence[Any]]) -> list[tuple[int, bytes]]:
    """(seq, body) once each, in seq order: an event may match by subject and by target."""
    found = {int(r[0]): bytes(r[1]) for r in rows}
    return sorted(found.items())
