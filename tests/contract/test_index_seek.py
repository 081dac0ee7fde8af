"""seek(): a cursor about `fraction` of the way through a result, checked against the model."""

from __future__ import annotations

import random

import pytest

from kaiku_tui.domain.browse import RecordingFilter, Sort, SortKey
from kaiku_tui.domain.recording import Channel
from kaiku_tui.index.base import Index
from kaiku_tui.index.protocols import Recordings
from tests.contract.model import SORTS, Model, Query, by_phone, random_query
from tests.contract.rows import STEP, T0, TIES, event, recording, stored_org

Loaded = tuple[Index, Model]
DATE_SORTS = SORTS[:2]
FRACTIONS = (0.0, 0.5, 1.0, *(random.Random(3).random() for _ in range(20)))
PAGE = 10


def sort_id(sort: Sort) -> str:
    return str(sort)


async def seek_position(index: Index, model: Model, query: Query, sort: Sort, f: float) -> int:
    """Where the page after seek(f) starts in the model's order; the page must be a slice there."""
    expected = model.ordered(query, sort)
    cursor = await index.seek(query.where, sort, f, phone_bidx=query.bidx)
    assert cursor is not None, f"seek({f}) on {len(expected)} rows gave no cursor"
    page = await index.page(query.where, sort, phone_bidx=query.bidx, after=cursor, limit=PAGE)
    assert page.rows, f"nothing after seek({f}) in {sort}"
    position = [r.id for r in expected].index(page.rows[0].id)
    assert list(page.rows) == expected[position : position + PAGE]
    return position


# Uniform data: start times are evenly spaced (STEP apart, TIES rows on each) and
# seek() interpolates linearly between the result's first and last start time, so
# the only error is that a cursor stands before a whole group of equal start
# times: at most one group, TIES rows (3 of 2,001 here), off fraction × N.
TOLERANCE = TIES


@pytest.mark.parametrize("sort", DATE_SORTS, ids=sort_id)
@pytest.mark.parametrize(
    "where",
    [
        RecordingFilter(),
        RecordingFilter(started_from=T0 + 100 * STEP, started_before=T0 + 400 * STEP),
    ],
    ids=["everything", "date-range"],
)
async def test_date_seek_lands_within_one_tie_group(
    loaded: Loaded, sort: Sort, where: RecordingFilter
) -> None:
    index, model = loaded
    n = len(model.select(Query(where)))
    for f in FRACTIONS:
        position = await seek_position(index, model, Query(where), sort, f)
        assert abs(position - f * n) <= TOLERANCE, f"seek({f:.3f}) landed at {position} of {n}"


@pytest.mark.parametrize("sort", SORTS, ids=sort_id)
async def test_seek_gives_slices_of_the_result_in_fraction_order(
    loaded: Loaded, sort: Sort
) -> None:
    index, model = loaded
    rng = random.Random(11)
    queries = [Query(RecordingFilter()), Query(RecordingFilter(channel=Channel.CHAT))]
    queries += [q for q in (random_query(rng) for _ in range(80)) if model.select(q)][:25]
    for query in queries:
        positions = [await seek_position(index, model, query, sort, f) for f in sorted(FRACTIONS)]
        assert positions == sorted(positions), f"seek is not monotonic for {query}"


@pytest.mark.parametrize("sort", SORTS, ids=sort_id)
async def test_seek_on_an_empty_result_is_none(loaded: Loaded, sort: Sort) -> None:
    index, _ = loaded
    nothing = (
        Query(RecordingFilter(agent="nobody")),
        Query(RecordingFilter(started_before=T0)),
        Query(RecordingFilter(min_duration=3601)),
        by_phone(bytes(16)),
    )
    for query in nothing:
        for f in (0.0, 0.5, 1.0):
            assert await index.seek(query.where, sort, f, phone_bidx=query.bidx) is None


async def test_seek_on_an_empty_index_is_none(index: Recordings) -> None:
    for sort in SORTS:
        assert await index.seek(RecordingFilter(), sort, 0.5) is None


@pytest.mark.parametrize("sort", SORTS, ids=sort_id)
async def test_seek_to_zero_is_the_first_row(index: Index, sort: Sort) -> None:
    """A scrollbar dropped at the top shows the top row: here the one shortest and the one
    longest call sit among 300 of one minute, where a sample of 64 rarely finds them."""
    await index.add_org(stored_org("HKI"), event("org.manage"))
    rows = [recording(f"s{i}", T0 + i * STEP, 60) for i in range(300)]
    rows += [
        recording("short", T0 + 150 * STEP + 1, 1),
        recording("long", T0 + 151 * STEP + 1, 7200),
    ]
    await index.add_recordings(rows, event("ingest"))
    top = await index.page(RecordingFilter(), sort, limit=1)
    cursor = await index.seek(RecordingFilter(), sort, 0.0)
    assert cursor is not None
    page = await index.page(RecordingFilter(), sort, after=cursor, limit=1)
    assert page.rows == top.rows, f"seek(0) in {sort} skipped {top.rows[0].source_id!r}"
    if sort.key is SortKey.DATE:
        assert not (await index.page(RecordingFilter(), sort, before=cursor)).rows
