"""`Index`: the whole surface of an index backend (SQLite, PostgreSQL).

It is every narrow interface of `protocols.py` together; code that takes an
`Index` may use any of them. The stored values (`records.py`) are named here
too, so `from kaiku_tui.index.base import StoredRecording` keeps working.
"""

from __future__ import annotations

from kaiku_tui.index.protocols import (
    Annotations,
    AuditStore,
    Directory,
    Lifecycle,
    Recordings,
    RetentionStore,
    SubjectStore,
    Transfer,
)
from kaiku_tui.index.records import (
    AddResult,
    AuditRow,
    DueRecording,
    Export,
    PhoneBidx,
    Row,
    StoredCase,
    StoredNote,
    StoredOrg,
    StoredRecording,
    StoredSample,
    StoredScore,
    StoredTombstone,
)


class Index(
    Lifecycle,
    AuditStore,
    Directory,
    Recordings,
    Annotations,
    RetentionStore,
    SubjectStore,
    Transfer,
):
    """An async index backend. Open with the backend's `open()`, always `close()`."""


__all__ = [
    "AddResult",
    "Annotations",
    "AuditRow",
    "AuditStore",
    "Directory",
    "DueRecording",
    "Export",
    "Index",
    "Lifecycle",
    "PhoneBidx",
    "Recordings",
    "RetentionStore",
    "Row",
    "StoredCase",
    "StoredNote",
    "StoredOrg",
    "StoredRecording",
    "StoredSample",
    "StoredScore",
    "StoredTombstone",
    "SubjectStore",
    "Transfer",
]
