"""ResultWindow against a model result: what it fetches, where rows land, what it keeps."""

from __future__ import annotations

import bisect

import pytest

from kaiku_tui.domain.browse import Cursor, Page, Sort, SortKey
from kaiku_tui.domain.recording import Channel, Direction, RecordingSummary
from kaiku_tui.ui.window import Fetch, Move, ResultWindow

NEWEST = Sort(SortKey.DATE, descending=True)


def summary(i: int, started: int) -> RecordingSummary:
    return RecordingSummary(
        i, "ITU", Channel.CALL, Direction.INBOUND, started, 60, "A", "q", "", f"s{i}", False, False
    )


class Model:
    """A result in sort order, paged and sought as the index does it (seek by time)."""

    def __init__(self, times: list[int], sort: Sort = NEWEST) -> None:
        rows = [summary(i + 1, t) for i, t in enumerate(times)]
        self.sort = sort
        self.rows = sorted(rows, key=lambda r: sort.key_of(r).values, reverse=sort.descending)
        self.keys = [self._rank(r) for r in self.rows]
        self.fetches: list[Move] = []

    def _rank(self, row: RecordingSummary) -> tuple[int, ...]:
        values = self.sort.key_of(row).values
        return tuple(-v for v in values) if self.sort.descending else values

    def _position(self, cursor: Cursor) -> int:
        """How many rows come before or at the cursor in the sort order."""
        values = cursor.values
        rank = tuple(-v for v in values) if self.sort.descending else values
        return bisect.bisect_right(self.keys, rank)

    def fetch(self, plan: Fetch, limit: int = 100) -> Page:
        self.fetches.append(plan.move)
        if plan.move is Move.FIRST:
            return self._slice(0, limit)
        if plan.move is Move.LAST:
            start = max(len(self.rows) - limit, 0)
            return Page(tuple(self.rows[start:]), self.sort, start > 0, False)
        if plan.move is Move.SEEK:
            first, last = self.rows[-1].started_at, self.rows[0].started_at
            at = round(last - plan.fraction * (last - first))
            return self._slice(self._position(Cursor((at, 10**9))), limit)
        assert plan.cursor is not None
        where = self._position(plan.cursor)
        if plan.move is Move.AFTER:
            return self._slice(where, limit)
        start = max(where - 1 - limit, 0)
        return Page(tuple(self.rows[start : where - 1]), self.sort, start > 0, True)

    def _slice(self, start: int, limit: int) -> Page:
        rows = tuple(self.rows[start : start + limit])
        return Page(rows, self.sort, start > 0, start + limit < len(self.rows))


def settle(window: ResultWindow, model: Model, first: int, height: int = 20) -> int:
    """Fetch until the window has what rows first.. need; returns the (shifted) first row."""
    for _ in range(100):
        plan = window.plan(first, first + height - 1)
        if plan is None:
            return first
        first += window.apply(plan, model.fetch(plan), first)
    raise AssertionError("the window never settled")


def test_first_rows_then_page_by_page_in_order() -> None:
    model = Model([60 * i for i in range(10_000)])
    window = ResultWindow(NEWEST, total=10_000)
    for top in range(0, 2_000, 20):
        settle(window, model, top)
        assert [window.row(top + i) for i in range(20)] == model.rows[top : top + 20]
    assert Move.SEEK not in model.fetches and len(window.rows) <= window.keep


def test_a_jump_seeks_and_loads_only_around_the_target() -> None:
    model = Model([60 * i for i in range(200_000)])
    window = ResultWindow(NEWEST, total=200_000)
    settle(window, model, 0)
    before = len(model.fetches)
    settle(window, model, 154_321)
    jump = model.fetches[before:]
    assert jump[0] is Move.SEEK and len(jump) <= 3  # the seek, and a page either side
    # times are evenly spread, so the estimate is exact here
    assert window.row(154_321) == model.rows[154_321]
    assert len(window.rows) <= window.keep


def test_the_end_is_the_last_page_read_backwards() -> None:
    model = Model([60 * i for i in range(50_000)])
    window = ResultWindow(NEWEST, total=10_001)  # a capped count: more than 10 000
    settle(window, model, 0)
    settle(window, model, 10_001 - 20)
    assert model.fetches[-1] in (Move.LAST, Move.BEFORE)
    window.recount(50_000)
    settle(window, model, 50_000 - 20)
    assert window.row(49_999) == model.rows[-1]
    assert window.total == 50_000


def test_an_estimate_that_was_off_is_corrected_at_the_start() -> None:
    # Half the rows in the first hour, half spread over a year: a seek by time misjudges.
    times = [i for i in range(5_000)] + [3_600 + 6_000 * i for i in range(5_000)]
    model = Model(times)
    window = ResultWindow(NEWEST, total=10_000)
    top = settle(window, model, 7_000)
    shown = window.row(top)
    assert shown is not None and model.rows.index(shown) != top  # the estimate is off
    while top > 0:  # scroll up, page by page, to the first row
        top = settle(window, model, max(top - 20, 0))
    assert window.start == 0
    assert [window.row(i) for i in range(len(window.rows))] == model.rows[: len(window.rows)]


def test_keeps_a_few_pages_and_drops_the_far_side() -> None:
    model = Model([60 * i for i in range(10_000)])
    window = ResultWindow(NEWEST, total=10_000, page_size=100, keep_pages=3)
    for top in range(0, 1_000, 20):
        settle(window, model, top)
    assert len(window.rows) <= 300 and window.start > 0 and window.more_before
    settle(window, model, 0)
    assert window.row(0) == model.rows[0]


@pytest.mark.parametrize("total", [0, 1, 19])
def test_small_results(total: int) -> None:
    model = Model([60 * i for i in range(total)])
    window = ResultWindow(NEWEST, total=total)
    settle(window, model, 0)
    assert [window.row(i) for i in range(total)] == model.rows
    assert window.plan(0, 19) is None
