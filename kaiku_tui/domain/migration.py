"""What a copy of the register to another database reports (`kaiku-tui migrate`).

A copy is made from one snapshot of the source. Events that others append
while it runs are carried over afterwards only if they changed nothing (reads,
refusals, errors), since the rows they would have changed are already copied;
these are the actions that change nothing when they succeed.
"""

from __future__ import annotations

from dataclasses import dataclass

READ_ONLY_ACTIONS = frozenset(
    {
        "session.open",
        "search",
        "search.count",
        "record.open",
        "phone.reveal",
        "audio.play",
        "person.list",
        "org.list",
        "audit.read",
        "audit.verify",
        "register.migrate",  # a copy changes the target, never the source
        # annotations read, and a case file written out, change nothing in the register
        "note.read",
        "tag.list",
        "case.list",
        "case.read",
        "case.export",
        "sample.read",
        "sample.scores",
    }
)


def changes_nothing(action: str, outcome: str) -> bool:
    """A refused or failed action changed nothing (a change commits with its `ok` event)."""
    return outcome != "ok" or action in READ_ONLY_ACTIONS


@dataclass(frozen=True)
class TableCopied:
    """Progress of one table: rows written to the target so far (`done` at its end)."""

    table: str
    rows: int
    seconds: float
    done: bool


@dataclass(frozen=True)
class MigrationReport:
    target: str  # where, without user or password
    tables: tuple[TableCopied, ...]
    resumed: bool  # an unfinished copy was completed
    checked: int  # audit events verified on the target
    head_seq: int
    checkpoints: int  # signed checkpoints compared
    problem: str | None  # the first thing wrong with the target's chain; None = verifies
    source_ahead: int  # events the source got after the copy's last (not in the copy)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)
