"""The Python model the index is compared with, and page walks through the `Index` ABC.

The model filters and sorts with plain Python (`sorted()` over the sort
columns) and shares no code with the backends' query building.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from kaiku_tui.domain.browse import Cursor, Page, RecordingFilter, Sort, SortKey
from kaiku_tui.domain.recording import Channel, Direction, RecordingSummary
from kaiku_tui.index.base import Index
from tests.contract.rows import AGENTS, DURATIONS, GROUPS, ORGS, PHONES, STEP, T0, TAGS

SORTS = (
    Sort(SortKey.DATE, descending=False),
    Sort(SortKey.DATE, descending=True),
    Sort(SortKey.DURATION, descending=False),
    Sort(SortKey.DURATION, descending=True),
)
PHONE = "+358401234567"  # stands for every blind index: the index searches only the bidx


@dataclass(frozen=True)
class Query:
    """A filter as the index takes it: criteria plus the phone number's blind index."""

    where: RecordingFilter
    bidx: bytes | None = None


@dataclass(frozen=True)
class Model:
    """The stored recordings (with their ids) and their blind indexes."""

    rows: tuple[RecordingSummary, ...]
    bidx: dict[int, bytes | None]

    def select(self, query: Query) -> list[RecordingSummary]:
        return [r for r in self.rows if matches(r, self.bidx[r.id], query)]

    def ordered(self, query: Query, sort: Sort) -> list[RecordingSummary]:
        return sorted(
            self.select(query), key=lambda r: sort_columns(sort, r), reverse=sort.descending
        )


def sort_columns(sort: Sort, row: RecordingSummary) -> tuple[int, ...]:
    if sort.key is SortKey.DATE:
        return (row.started_at, row.id)
    return (row.duration_s, row.started_at, row.id)


def matches(row: RecordingSummary, row_bidx: bytes | None, query: Query) -> bool:
    w = query.where
    return all((
        w.started_from is None or row.started_at >= w.started_from,
        w.started_before is None or row.started_at < w.started_before,
        w.min_duration is None or row.duration_s >= w.min_duration,
        w.max_duration is None or row.duration_s <= w.max_duration,
        w.channel is None or row.channel is w.channel,
        w.direction is None or row.direction is w.direction,
        not w.orgs or row.org in w.orgs,
        w.agent is None or row.agent == w.agent,
        query.bidx is None or row_bidx == query.bidx,
        w.tag is None or w.tag in row.tags,
    ))  # fmt: skip


def by_phone(bidx: bytes, **criteria: object) -> Query:
    return Query(RecordingFilter(phone=PHONE, **criteria), bidx)  # type: ignore[arg-type]


# -- random filters ---------------------------------------------------------------


def random_query(rng: random.Random) -> Query:
    """A filter with each criterion present at random, bounds on and beside data values."""
    pick = rng.random
    start = sorted(_random_time(rng) for _ in range(2))
    duration = sorted(rng.choice(DURATIONS) + rng.choice((-1, 0, 0, 1)) for _ in range(2))
    criteria: dict[str, object] = {
        "started_from": start[0] if pick() < 0.35 else None,
        "started_before": start[1] + (start[0] == start[1]) if pick() < 0.35 else None,
        "min_duration": max(duration[0], 0) if pick() < 0.35 else None,
        "max_duration": max(duration[1], 0) if pick() < 0.35 else None,
        "channel": rng.choice(tuple(Channel)) if pick() < 0.25 else None,
        "direction": rng.choice(tuple(Direction)) if pick() < 0.25 else None,
        "orgs": tuple(rng.sample((*ORGS, "NONE"), rng.randint(1, 2))) if pick() < 0.3 else (),
        "agent": rng.choice((*AGENTS, "nobody")) if pick() < 0.2 else None,
        "tag": rng.choice((*TAGS, "no-such-tag")) if pick() < 0.2 else None,
    }
    if pick() < 0.15:
        return by_phone(rng.choice((*PHONES, bytes(16))), **criteria)
    return Query(RecordingFilter(**criteria))  # type: ignore[arg-type]


def _random_time(rng: random.Random) -> int:
    return T0 + rng.randrange(-2, GROUPS + 2) * STEP + rng.choice((-1, 0, 0, 1))


# -- walking pages through the ABC ---------------------------------------------------


async def walk_forward(
    index: Index, query: Query, sort: Sort, *, limit: int, max_pages: int
) -> list[Page]:
    """From the first page on, `after=page.last`, until a page says there is nothing after."""
    pages = [await index.page(query.where, sort, phone_bidx=query.bidx, limit=limit)]
    while pages[-1].has_after:
        assert len(pages) < max_pages, f"more than {max_pages} pages: the walk does not end"
        pages.append(await next_page(index, query, sort, after=pages[-1].last, limit=limit))
    return pages


async def walk_backward(
    index: Index, query: Query, sort: Sort, start: Cursor, *, limit: int, max_pages: int
) -> list[Page]:
    """From `start` back, `before=page.first`, until a page says there is nothing before."""
    pages = [await next_page(index, query, sort, before=start, limit=limit)]
    while pages[-1].has_before:
        assert len(pages) < max_pages, f"more than {max_pages} pages: the walk does not end"
        pages.append(await next_page(index, query, sort, before=pages[-1].first, limit=limit))
    return pages


async def next_page(
    index: Index,
    query: Query,
    sort: Sort,
    *,
    limit: int,
    after: Cursor | None = None,
    before: Cursor | None = None,
) -> Page:
    assert after is not None or before is not None, "a page with rows has a cursor"
    return await index.page(
        query.where, sort, phone_bidx=query.bidx, after=after, before=before, limit=limit
    )


def rows_of(pages: Sequence[Page]) -> list[RecordingSummary]:
    return [row for page in pages for row in page.rows]


def ids(rows: Sequence[RecordingSummary]) -> list[int]:
    return [r.id for r in rows]
