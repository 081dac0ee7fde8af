"""The tamper-evident audit log: hash-chained, MACed events and signed checkpoints.

Storage-agnostic: the index stores and streams the rows; this package decides what a row
is and whether the log is intact. No I/O here but the checkpoint file. It imports only
`errors` (and `cryptography`).
"""

from kaiku_tui.audit.chain import (
    GENESIS,
    AuditEvent,
    ChainVerifier,
    Problem,
    ProblemKind,
    SealedRow,
    canonical_body,
    event_from_body,
    mac_matches,
    seal,
)
from kaiku_tui.audit.checkpoint import Checkpoint, CheckpointFile

__all__ = [
    "GENESIS",
    "AuditEvent",
    "ChainVerifier",
    "Checkpoint",
    "CheckpointFile",
    "Problem",
    "ProblemKind",
    "SealedRow",
    "canonical_body",
    "event_from_body",
    "mac_matches",
    "seal",
]
