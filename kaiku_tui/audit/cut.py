"""Audit retention: cutting the oldest events off the chain so that it still verifies.

Audit events outlive the data they describe, but not for ever: a separate rule
(`[audit] retain_years`, default two years after the last data an event describes)
lets an admin cut a prefix of the chain, seq 1..S (or from the last cut). What keeps
the rest verifiable:

* Before the rows go, a checkpoint of (S, hash of S) is signed into a file of its
  own beside the checkpoint file (`<checkpoint file stem>-cuts.jsonl`), under another
  signature domain than the head's checkpoints: a head checkpoint can never be passed
  off as a cut, or an attacker could delete up to any checkpointed seq.
* The index records the cut (`register_info` row `audit.cut`, "S <hash hex>") in the
  same transaction as the DELETE, and the database refuses to delete any row past
  the recorded cut (SQLite and PostgreSQL triggers, migration 7).
* `audit verify` starts at S + 1 with the recorded hash as the expected prev_hash,
  and only when a signed cut checkpoint vouches for exactly that (S, hash). A forged
  record hiding a longer deletion is reported; deleting past an honest record
  breaks the link at S + 1.

Which prefix may go is decided here too, without I/O: the caller streams events and
says which recordings are still kept.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final

from kaiku_tui.audit.chain import AuditEvent, Problem
from kaiku_tui.audit.checkpoint import Checkpoint, CheckpointFile
from kaiku_tui.audit.format import check_hash, check_seq

CUT_DOMAIN: Final = b"kaiku-tui audit cut v1\x00"
CUT_INFO: Final = "audit.cut"  # also spelt out in the migration 7 triggers and function


@dataclass(frozen=True)
class Cut:
    """Every event up to `seq` is gone; `hash` is the hash of that last event."""

    seq: int
    hash: bytes

    def __post_init__(self) -> None:
        check_seq(self.seq)
        check_hash(self.hash)

    @property
    def marker(self) -> str:
        """How the index records it: the seq first, so SQL can read it as a number."""
        return f"{self.seq} {self.hash.hex()}"


def parse_marker(text: str) -> Cut:
    """The index's record of the cut; ValueError when it is not one `marker` wrote."""
    seq, _, digest = text.partition(" ")
    if not seq.isascii() or not seq.isdigit() or digest != digest.lower():
        raise ValueError(f"{text!r} is not '<seq> <hash hex>'")
    cut = Cut(int(seq), bytes.fromhex(digest))
    if cut.marker != text:
        raise ValueError(f"{text!r} is not '<seq> <hash hex>'")
    return cut


def cut_file(checkpoint_file: Path) -> CheckpointFile:
    """The signed cuts, beside the head's checkpoints and kept with them."""
    name = f"{checkpoint_file.stem}-cuts{checkpoint_file.suffix}"
    return CheckpointFile(checkpoint_file.with_name(name), CUT_DOMAIN)


def verified_start(
    marker: str | None, cuts: Sequence[Checkpoint]
) -> tuple[tuple[int, bytes] | None, Problem | None]:
    """Where verification starts: (seq, expected prev_hash), or None for seq 1.

    Any signed cut will do, not only the last: a cut whose DELETE failed after its
    checkpoint was signed leaves the file ahead of the index, and an older cut
    recorded in the index still has to meet the rows after it (the chain shows a
    gap if more was deleted)."""
    if marker is None:
        return None, None  # never cut: a deleted prefix shows as a gap at seq 1
    try:
        cut = parse_marker(marker)
    except ValueError as err:
        problem = f"the index's record of the audit cut was altered ({err})"
        return None, Problem(1, "checkpoint", problem)
    if not any(c.seq == cut.seq and c.hash == cut.hash for c in cuts):
        problem = (
            f"the index records an audit cut at seq {cut.seq} that no signed cut checkpoint "
            "vouches for (forged to hide deleted events, or the cut file is missing)"
        )
        return None, Problem(cut.seq + 1, "checkpoint", problem)
    return (cut.seq + 1, cut.hash), None


def retain_since(as_of: date, years: int, days: int | None) -> date:
    """Events before this day may go: `days` when given, else `years` calendar years
    (29 February counts back to 28 February)."""
    if days is not None:
        return as_of - timedelta(days=days)
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:
        return as_of.replace(year=as_of.year - years, day=28)


def named_recordings(event: AuditEvent) -> set[int]:
    """The recordings an event describes: its target and what it revealed, where those
    are recording ids (other targets are spelt `note:`, `case:`, logins…)."""
    names = ((event.target,) if event.target else ()) + event.revealed
    return {int(n) for n in names if n.isascii() and n.isdigit()}


def first_kept(
    events: Sequence[tuple[int, AuditEvent]], before: datetime, kept: Set[int]
) -> tuple[int, str] | None:
    """The position of the first event that must stay, and why; None when all may go.

    An event stays when it is not older than the rule, or when it describes a
    recording in `kept`: one that still exists or was destroyed less than the rule
    ago (the caller's tombstones say when)."""
    for position, (seq, event) in enumerate(events):
        if event.at >= before:
            return position, f"seq {seq} is from {event.at:%Y-%m-%d}, within the rule"
        live = sorted(named_recordings(event) & kept)
        if live:
            return position, f"seq {seq} describes recording {live[0]}, which is still kept"
    return None
