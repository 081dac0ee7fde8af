"""`page`, `count` and `seek` for every SQL backend: the same algorithm over one fetch.

The SQL comes from `sql.py` in the backend's dialect; what a page, a capped
count and a scrollbar landing mean is decided here once, so SQLite and
PostgreSQL cannot drift apart. A backend supplies its `dialect` and `_rows`.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from kaiku_tui.domain.browse import Count, Cursor, Page, RecordingFilter, Sort, SortKey
from kaiku_tui.index import rowformat, sql
from kaiku_tui.index.records import PhoneBidx

SAMPLE = 64  # probes for a seek in duration order


class SqlBrowse(abc.ABC):
    """Mixin: the browse methods of `Index`, on top of `_rows`."""

    dialect: sql.Dialect

    @abc.abstractmethod
    async def _rows(self, query: sql.Query) -> Sequence[Sequence[Any]]:
        """All rows of one query (a driver error becomes StoreError)."""

    async def _slow_rows(self, query: sql.Query) -> Sequence[Sequence[Any]]:
        """A query that may take seconds (an exact count over millions): a backend with
        one connection runs it on another, so that pages are not kept waiting."""
        return await self._rows(query)

    async def page(
        self,
        where: RecordingFilter,
        sort: Sort,
        *,
        phone_bidx: PhoneBidx = None,
        after: Cursor | None = None,
        before: Cursor | None = None,
        limit: int = 50,
    ) -> Page:
        backward = before is not None
        walk = sort.reversed() if backward else sort
        query = sql.page_query(self.dialect, where, walk, before or after, limit + 1, phone_bidx)
        rows = [] if query is None else await self._rows(query)
        more = len(rows) > limit
        found = [rowformat.summary_of(r) for r in rows[:limit]]
        if backward:
            return Page(tuple(reversed(found)), sort, has_before=more, has_after=True)
        return Page(tuple(found), sort, has_before=after is not None, has_after=more)

    async def count(
        self, where: RecordingFilter, *, phone_bidx: PhoneBidx = None, cap: int | None = 10_000
    ) -> Count:
        query = sql.count_query(self.dialect, where, cap, phone_bidx)
        (n,) = (await (self._rows if cap is not None else self._slow_rows)(query))[0]
        if cap is not None and n > cap:
            return Count(cap, exact=False)
        return Count(n, exact=True)

    async def agents(self, where: RecordingFilter, *, limit: int = 1_000) -> list[str]:
        return [str(r[0]) for r in await self._rows(sql.agents_query(self.dialect, where, limit))]

    async def seek(
        self, where: RecordingFilter, sort: Sort, fraction: float, *, phone_bidx: PhoneBidx = None
    ) -> Cursor | None:
        fraction = min(max(fraction, 0.0), 1.0)
        position = 1.0 - fraction if sort.descending else fraction
        dates = await self._ends(where, SortKey.DATE, phone_bidx)
        if dates is None:
            return None
        first, last = dates
        if sort.key is SortKey.DATE:
            return sql.seek_cursor(sort, round(first + position * (last - first)))
        # The durations of rows spread evenly over the dates estimate the quantiles;
        # the true shortest and longest make both ends reachable.
        times = [first + (last - first) * i // (SAMPLE - 1) for i in range(SAMPLE)]
        probe = sql.probe_query(self.dialect, where, "duration_s", times, phone_bidx)
        sample = [r[0] for r in await self._rows(probe)]
        sample += await self._ends(where, SortKey.DURATION, phone_bidx) or ()
        sample.sort()
        return sql.seek_cursor(sort, sample[round(position * (len(sample) - 1))])

    async def _ends(
        self, where: RecordingFilter, key: SortKey, phone_bidx: PhoneBidx
    ) -> tuple[int, int] | None:
        query = sql.ends_query(self.dialect, where, key, phone_bidx)
        found = [r[0] for r in await self._rows(query)]
        return (found[0], found[1]) if len(found) == 2 else None
