"""What a person asks of the audit log."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AuditQuery:
    since: int | None = None  # UTC epoch seconds
    actor: str | None = None
    action: str | None = None
    limit: int = 1000
