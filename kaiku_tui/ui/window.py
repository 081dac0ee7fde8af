"""The browse list's view of a result it never holds whole: a window of loaded rows.

Row numbers are positions in the result (0 = first in the sort order). The
window keeps a few pages around the viewport and says what to fetch next:

* next to what is loaded, a keyset page after its last row or before its first;
* far away (the scrollbar dragged, a jump), a seek: the register estimates a
  cursor at that fraction of the result and a page is read after it. The
  position of those rows is an estimate, corrected when an end is reached;
* the end: the last page, read in the reversed order.

Pure: no Textual, no I/O. The list widget asks `plan()`, runs the fetch, and
hands the page to `apply()`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kaiku_tui.domain.browse import Cursor, Page, Sort
from kaiku_tui.domain.recording import RecordingSummary


class Move(enum.Enum):
    FIRST = "first"  # the first page of the result
    AFTER = "after"  # the page after the window's last row
    BEFORE = "before"  # the page before the window's first row
    SEEK = "seek"  # a page at an estimated position
    LAST = "last"  # the last page (read in the reversed order)


@dataclass(frozen=True)
class Fetch:
    move: Move
    cursor: Cursor | None = None
    fraction: float = 0.0
    at: int = 0  # the row number the fetched rows start at (SEEK)


class ResultWindow:
    """Loaded rows `rows[i]` at row numbers `start + i`; `total` rows in the result."""

    def __init__(self, sort: Sort, total: int, page_size: int = 100, keep_pages: int = 5) -> None:
        self.sort = sort
        self.total = total
        self.page_size = page_size
        self.keep = page_size * keep_pages
        self.start = 0
        self.rows: list[RecordingSummary] = []
        self.more_before = False
        self.more_after = True

    @property
    def end(self) -> int:
        return self.start + len(self.rows)

    def row(self, number: int) -> RecordingSummary | None:
        i = number - self.start
        return self.rows[i] if 0 <= i < len(self.rows) else None

    def plan(self, first: int, last: int) -> Fetch | None:
        """What to fetch so that rows first..last (inclusive) are loaded, with a margin."""
        if self.total == 0:
            return None
        last = min(last, self.total - 1)
        if not self.rows:
            return self._far(first, last)
        margin = self.page_size // 2
        if last >= self.end and first < self.end + self.page_size and self.more_after:
            return Fetch(Move.AFTER, self._cursor(-1))
        if first < self.start and last >= self.start - self.page_size and self.more_before:
            return Fetch(Move.BEFORE, self._cursor(0))
        if last >= self.end or first < self.start:
            if self._loaded_both_ways(first, last):
                return None
            return self._far(first, last)
        if last + margin >= self.end and self.more_after:
            return Fetch(Move.AFTER, self._cursor(-1))
        if first - margin < self.start and self.more_before:
            return Fetch(Move.BEFORE, self._cursor(0))
        return None

    def _loaded_both_ways(self, first: int, last: int) -> bool:
        """True when what is missing lies past a real end of the result (nothing to fetch)."""
        missing_after = last >= self.end and self.more_after
        missing_before = first < self.start and self.more_before
        return not (missing_after or missing_before)

    def _far(self, first: int, last: int) -> Fetch:
        if first <= 0:
            return Fetch(Move.FIRST)
        if last >= self.total - 1:
            return Fetch(Move.LAST)
        return Fetch(Move.SEEK, fraction=first / max(self.total - 1, 1), at=first)

    def _cursor(self, i: int) -> Cursor:
        return self.sort.key_of(self.rows[i])

    def apply(self, fetch: Fetch, page: Page, viewport: int) -> int:
        """Take a fetched page; returns how far row numbers moved (to move the view with).

        `viewport` is the first visible row, so that trimming drops the far side.
        """
        shift = 0
        rows = list(page.rows)
        if fetch.move is Move.FIRST:
            self._replace(0, rows, before=False, after=page.has_after)
        elif fetch.move is Move.LAST:
            start = max(self.total - len(rows), 0)
            self._replace(start, rows, before=page.has_before or start > 0, after=False)
        elif fetch.move is Move.SEEK:
            self._replace(fetch.at, rows, before=True, after=page.has_after)
            if not rows:  # the estimate landed past the end: it is the end
                return self._settle_end()
        elif fetch.move is Move.AFTER:
            self.rows += rows
            self.more_after = page.has_after
        else:
            self.rows[:0] = rows
            self.start -= len(rows)
            self.more_before = page.has_before
            if not page.has_before and self.start != 0:
                shift = -self.start  # the estimate was off: this is row 0
                self.start = 0
        if not self.more_after:
            self.total = self.end
        elif self.end > self.total:
            self.total = self.end + 1
        self._trim(viewport + shift)
        return shift

    def _replace(
        self, start: int, rows: list[RecordingSummary], *, before: bool, after: bool
    ) -> None:
        self.start, self.rows = start, rows
        self.more_before, self.more_after = before, after

    def _settle_end(self) -> int:
        self.total = max(self.start, 0)
        self.more_after = False
        return 0

    def _trim(self, viewport: int) -> None:
        if len(self.rows) <= self.keep:
            return
        drop = len(self.rows) - self.keep
        if viewport - self.start > self.end - viewport:
            del self.rows[:drop]
            self.start += drop
            self.more_before = True
        else:
            del self.rows[len(self.rows) - drop :]
            self.more_after = True

    def recount(self, total: int) -> int:
        """A better count arrived; returns the shift of row numbers (when the window is the end)."""
        shift = 0
        if self.rows and not self.more_after:
            shift = total - self.end
            self.start += shift
            if self.start < 0 or (self.start > 0 and not self.more_before):
                shift -= self.start
                self.start = 0
        self.total = max(total, self.end)
        return shift
