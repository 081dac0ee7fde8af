"""`Index`: the whole surface of an index backend (SQLite, PostgreSQL).

It is every narrow interface of `protocols.py` together; code that takes an
`Index` may use any of them. The stored values are in `records.py`.
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
