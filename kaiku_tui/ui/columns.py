"""The browse list's columns: one table of widths shared by the header and every row.

At 80 columns every column but the tags fits whole; the agent is clipped and
the tags take what is left. Text from outside (agent names, tags) passes the
sanitiser before it is measured, so a control character can neither reach the
terminal nor throw the columns out of line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from rich.cells import set_cell_size

from kaiku_tui.domain.dates import fmt_date, fmt_duration, fmt_time
from kaiku_tui.domain.recording import Direction, RecordingSummary
from kaiku_tui.domain.retention import RetentionRule, days_left
from kaiku_tui.domain.text import sanitise
from kaiku_tui.ui.i18n import Texts


@dataclass(frozen=True)
class Column:
    key: str  # the catalogue key of its heading: "col.<key>"
    width: int  # 0: takes the rest of the line
    right: bool
    cell: Callable[[RecordingSummary, Texts], str]


def _direction(row: RecordingSummary, texts: Texts) -> str:
    return texts("dir.in" if row.direction is Direction.INBOUND else "dir.out")


COLUMNS: tuple[Column, ...] = (
    Column("date", 10, False, lambda r, t: fmt_date(r.started_at)),
    Column("time", 5, False, lambda r, t: fmt_time(r.started_at)),
    Column("duration", 7, True, lambda r, t: fmt_duration(r.duration_s)),
    Column("audio", 1, False, lambda r, t: "♪" if r.has_audio else " "),
    Column("channel", 4, False, lambda r, t: t(f"channel.{r.channel.value}")),
    Column("direction", 4, False, _direction),
    Column("org", 5, False, lambda r, t: sanitise(r.org)),
    Column("agent", 10, False, lambda r, t: sanitise(r.agent)),
    Column("phone", 16, False, lambda r, t: r.phone_masked),
    Column("tags", 0, False, lambda r, t: sanitise(" ".join(r.tags))),
)


def with_retention(rules: Mapping[str, RetentionRule], today: date) -> tuple[Column, ...]:
    """The columns with "destroyed in N days" before the tags: when each recording goes
    under its organisation's rule (a hold may keep it longer; the plan says which)."""

    def left(row: RecordingSummary, texts: Texts) -> str:
        rule = rules.get(row.org)
        days = None if rule is None else days_left(rule, row.started_at, today)
        if days is None:
            return "–"
        return texts("col.kept_due") if days <= 0 else texts("col.kept_days", n=days)

    return (*COLUMNS[:-1], Column("kept", 6, True, left), COLUMNS[-1])


def _right(text: str, width: int) -> str:
    body = set_cell_size(text, width).rstrip()
    return " " * (width - len(body)) + body


def layout(cells: list[tuple[str, Column]], width: int) -> str:
    """The cells joined with one space, the last column taking what is left."""
    out: list[str] = []
    used = 0
    for text, column in cells:
        room = column.width or max(width - used, 0)
        out.append(_right(text, room) if column.right else set_cell_size(text, room))
        used += room + 1
    return set_cell_size(" ".join(out), width)


def heading(texts: Texts, width: int, columns: tuple[Column, ...] = COLUMNS) -> str:
    return layout([(texts(f"col.{c.key}"), c) for c in columns], width)


def row_line(
    row: RecordingSummary, texts: Texts, width: int, columns: tuple[Column, ...] = COLUMNS
) -> str:
    return layout([(c.cell(row, texts), c) for c in columns], width)
