"""Keyset paging, filters and counts, compared with a Python model of the same rows."""

from __future__ import annotations

import random

import pytest

from kaiku_tui.domain.browse import Count, Page, RecordingFilter, Sort
from kaiku_tui.domain.recording import Channel, Direction
from kaiku_tui.index.base import Index
from tests.contract.model import (
    SORTS,
    Model,
    Query,
    by_phone,
    ids,
    random_query,
    rows_of,
    walk_backward,
    walk_forward,
)
from tests.contract.rows import PHONES, SIZE, STEP, T0, TIES

Loaded = tuple[Index, Model]
EVERYTHING = Query(RecordingFilter())
FROM = T0 + 100 * STEP  # both bounds fall on a start time shared by TIES rows
BEFORE = T0 + 250 * STEP


def sort_id(sort: Sort) -> str:
    return str(sort)


async def assert_walks_match(
    index: Index, model: Model, query: Query, sort: Sort, limit: int
) -> list[int]:
    """Forward and backward walks give the model's rows in order; returns the ids seen."""
    expected = model.ordered(query, sort)
    bound = SIZE // limit + 3
    forward = await walk_forward(index, query, sort, limit=limit, max_pages=bound)
    assert ids(rows_of(forward)) == ids(expected), f"{query} {sort}"
    assert rows_of(forward) == expected
    assert_forward_flags(forward, limit)
    if forward[-1].first is not None and len(forward) > 1:
        start = forward[-1].first
        backward = await walk_backward(index, query, sort, start, limit=limit, max_pages=bound)
        assert [p.rows for p in backward] == [p.rows for p in reversed(forward[:-1])]
        assert [(p.has_before, p.has_after) for p in backward] == (
            [(True, True)] * (len(backward) - 1) + [(False, True)]
        )
    return ids(expected)


def assert_forward_flags(pages: list[Page], limit: int) -> None:
    assert all(len(p.rows) == limit for p in pages[:-1])
    assert len(pages[-1].rows) <= limit
    assert len(pages) == 1 or pages[-1].rows, "a page after a cursor with rows behind it is empty"
    assert [p.has_before for p in pages] == [False] + [True] * (len(pages) - 1)
    assert [p.has_after for p in pages] == [True] * (len(pages) - 1) + [False]


# -- 1. keyset paging over ties ---------------------------------------------------


@pytest.mark.parametrize("sort", SORTS, ids=sort_id)
async def test_walks_visit_every_row_once_in_sorted_order(loaded: Loaded, sort: Sort) -> None:
    index, model = loaded
    seen = await assert_walks_match(index, model, EVERYTHING, sort, limit=50)
    assert len(seen) == len(set(seen)) == SIZE


async def test_dataset_really_has_ties(loaded: Loaded) -> None:
    _, model = loaded
    starts = [r.started_at for r in model.rows]
    pairs = [(r.duration_s, r.started_at) for r in model.rows]
    assert len(set(starts)) * TIES == SIZE
    assert len(set(pairs)) < SIZE - 100, "rows must also tie on (duration, started_at)"


@pytest.mark.parametrize("limit", [1, 2, TIES, 7, 64])
async def test_limit_is_respected_in_every_sort(loaded: Loaded, limit: int) -> None:
    index, model = loaded
    query = Query(RecordingFilter(agent="agent-2", channel=Channel.CHAT))
    assert 100 < len(model.select(query)) < 250
    for sort in SORTS:
        await assert_walks_match(index, model, query, sort, limit)


async def test_limit_beyond_the_result_is_one_page(loaded: Loaded) -> None:
    index, model = loaded
    for sort in SORTS:
        page = await index.page(RecordingFilter(), sort, limit=SIZE + 50)
        assert list(page.rows) == model.ordered(EVERYTHING, sort)
        assert (page.has_before, page.has_after) == (False, False)


async def test_exactly_full_last_page_says_nothing_after(loaded: Loaded) -> None:
    index, model = loaded
    query = Query(RecordingFilter(started_from=FROM, started_before=FROM + 10 * STEP))
    assert len(model.select(query)) == 10 * TIES
    for sort in SORTS:
        pages = await walk_forward(index, query, sort, limit=TIES * 2, max_pages=10)
        assert [len(p.rows) for p in pages] == [TIES * 2] * 5
        assert rows_of(pages) == model.ordered(query, sort)


async def test_empty_result_is_one_empty_page(loaded: Loaded) -> None:
    index, _ = loaded
    for sort in SORTS:
        page = await index.page(RecordingFilter(agent="nobody"), sort)
        assert page.rows == () and not page.has_before and not page.has_after
        assert page.first is None and page.last is None


# -- 2. filters, alone and combined -------------------------------------------------

ALONE = {
    "from-inclusive": RecordingFilter(started_from=FROM),
    "before-exclusive": RecordingFilter(started_before=BEFORE),
    "date-range": RecordingFilter(started_from=FROM, started_before=BEFORE),
    "one-start-time": RecordingFilter(started_from=FROM, started_before=FROM + 1),
    "min-duration": RecordingFilter(min_duration=60),
    "max-duration": RecordingFilter(max_duration=60),
    "duration-band": RecordingFilter(min_duration=30, max_duration=300),
    "one-duration": RecordingFilter(min_duration=61, max_duration=61),
    "zero-duration": RecordingFilter(max_duration=0),
    "channel-call": RecordingFilter(channel=Channel.CALL),
    "channel-chat": RecordingFilter(channel=Channel.CHAT),
    "inbound": RecordingFilter(direction=Direction.INBOUND),
    "outbound": RecordingFilter(direction=Direction.OUTBOUND),
    "one-org": RecordingFilter(orgs=("PIRHA",)),
    "two-orgs": RecordingFilter(orgs=("HKI", "VARHA")),
    "agent": RecordingFilter(agent="agent-3"),
    "tag": RecordingFilter(tag="feedback"),
}
COMBINED = {
    "range-band-chat": RecordingFilter(
        started_from=FROM, started_before=BEFORE, min_duration=59, max_duration=600,
        channel=Channel.CHAT,
    ),
    "org-agent-outbound": RecordingFilter(
        orgs=("VARHA",), agent="agent-1", direction=Direction.OUTBOUND
    ),
    "tag-band-org": RecordingFilter(tag="coaching", min_duration=1, orgs=("HKI", "PIRHA")),
}  # fmt: skip


@pytest.mark.parametrize("where", list(ALONE.values()), ids=list(ALONE))
async def test_each_filter_alone_matches_the_model(loaded: Loaded, where: RecordingFilter) -> None:
    index, model = loaded
    query = Query(where)
    assert 0 < len(model.select(query)) < SIZE, "the filter must filter something"
    for sort in SORTS:
        await assert_walks_match(index, model, query, sort, limit=97)


@pytest.mark.parametrize("where", list(COMBINED.values()), ids=list(COMBINED))
async def test_combined_filters_match_the_model(loaded: Loaded, where: RecordingFilter) -> None:
    index, model = loaded
    query = Query(where)
    assert 0 < len(model.select(query)) < SIZE // 4
    for sort in SORTS:
        await assert_walks_match(index, model, query, sort, limit=9)


async def test_phone_filter_uses_the_blind_index(loaded: Loaded) -> None:
    index, model = loaded
    for query in (by_phone(PHONES[4]), by_phone(PHONES[0], min_duration=60), by_phone(bytes(16))):
        for sort in SORTS:
            await assert_walks_match(index, model, query, sort, limit=11)
    assert model.select(by_phone(PHONES[4])), "the number has recordings"
    assert not model.select(by_phone(bytes(16))), "an unknown number has none"


async def test_bounds_are_inclusive_and_exclusive_as_documented(loaded: Loaded) -> None:
    index, _ = loaded
    where = RecordingFilter(started_from=FROM, started_before=BEFORE, min_duration=30,
                            max_duration=300)  # fmt: skip
    page = await index.page(where, SORTS[0], limit=SIZE)
    starts = {r.started_at for r in page.rows}
    durations = {r.duration_s for r in page.rows}
    assert min(starts) == FROM and max(starts) == BEFORE - STEP
    assert min(durations) == 30 and max(durations) == 300


async def test_no_op_filters_change_nothing(loaded: Loaded) -> None:
    index, model = loaded
    where = RecordingFilter(min_duration=0, max_duration=10**6, started_from=0, orgs=())
    for sort in SORTS:
        await assert_walks_match(index, model, Query(where), sort, limit=400)


async def test_random_filters_match_the_model(loaded: Loaded) -> None:
    """A property test: 150 seeded random filters, every sort, forward and back, and counts."""
    index, model = loaded
    rng = random.Random(7)
    for _ in range(150):
        query = random_query(rng)
        expected = len(model.select(query))
        limit = max(rng.choice((1, 4, 17, 64)), expected // 12)
        for sort in SORTS:
            await assert_walks_match(index, model, query, sort, limit)
        cap = rng.randint(0, expected + 2)
        count = await index.count(query.where, phone_bidx=query.bidx, cap=cap)
        assert count == Count(min(expected, cap), expected <= cap), f"{query} cap {cap}"
        exact = await index.count(query.where, phone_bidx=query.bidx, cap=None)
        assert exact == Count(expected, True), str(query)


# -- 3. counts -----------------------------------------------------------------------


@pytest.mark.parametrize("where", [RecordingFilter(), *ALONE.values()], ids=["all", *ALONE])
async def test_count_is_capped_or_exact(loaded: Loaded, where: RecordingFilter) -> None:
    index, model = loaded
    n = len(model.select(Query(where)))
    assert await index.count(where, cap=None) == Count(n, exact=True)
    assert await index.count(where) == Count(n, exact=True)  # default cap 10,000 > SIZE
    for cap in (0, 1, n - 1, n, n + 1):
        expected = Count(cap, exact=False) if n > cap else Count(n, exact=True)
        assert await index.count(where, cap=cap) == expected, f"cap {cap}"


async def test_count_with_phone_and_nothing(loaded: Loaded) -> None:
    index, model = loaded
    for query in (by_phone(PHONES[2]), by_phone(bytes(16)), Query(RecordingFilter(tag="x"))):
        n = len(model.select(query))
        assert await index.count(query.where, phone_bidx=query.bidx, cap=None) == Count(n, True)
        assert await index.count(query.where, phone_bidx=query.bidx, cap=5) == Count(
            min(n, 5), n <= 5
        )
