"""The browse queries as SQL, for every backend: keyset branches, filters, index choice.

A keyset page after a cursor (v1..vk) in the sort columns (c1..ck) is the union
of k branches, each an index range: c1 = v1 .. c(i-1) = v(i-1), ci beyond vi.
Every branch is a contiguous range of the sort index, so a page deep in ten
million rows reads what the first page reads. Row values (`(a, b) < (?, ?)`)
would be shorter, but SQLite does not narrow an index range from them (see
docs/ARCHITECTURE.md), so the bounds are spelt out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kaiku_tui.domain.browse import Cursor, RecordingFilter, Sort, SortKey
from kaiku_tui.domain.recording import Channel, Direction

SORT_COLUMNS: dict[SortKey, tuple[str, ...]] = {
    SortKey.DATE: ("started_at", "id"),
    SortKey.DURATION: ("duration_s", "started_at", "id"),
}
SORT_INDEX: dict[SortKey, str] = {
    SortKey.DATE: "recording_by_date",
    SortKey.DURATION: "recording_by_duration",
}
CHANNEL_CODE = {Channel.CALL: 0, Channel.CHAT: 1}
DIRECTION_CODE = {Direction.INBOUND: 0, Direction.OUTBOUND: 1}
CHANNELS = {v: k for k, v in CHANNEL_CODE.items()}
DIRECTIONS = {v: k for k, v in DIRECTION_CODE.items()}

# Sentinels for cursors that stand before or after every row of one key value.
LOWEST = -(2**62)
HIGHEST = 2**62


def summary_columns(tag_list: str) -> str:
    """A RecordingSummary's columns of `recording r`, its tags joined by U+001F."""
    return (
        "r.id, r.org, r.channel, r.direction, r.started_at, r.duration_s, r.agent, r.queue, "
        "r.phone_masked, r.source_id, r.blob_ref IS NOT NULL, r.transcript_enc IS NOT NULL, "
        f"(SELECT {tag_list} FROM recording_tag t WHERE t.recording_id = r.id)"
    )


SUMMARY_COLUMNS = summary_columns("group_concat(t.tag, char(31))")  # SQLite's spelling


@dataclass
class Dialect:
    """What differs between backends in the same query."""

    indexed_by: bool  # SQLite's INDEXED BY; PostgreSQL's planner needs no hint
    param: str = "?"  # "?" or "$" (numbered, PostgreSQL)
    summary: str = SUMMARY_COLUMNS  # the tag aggregate is spelt differently per backend
    # A seek's probes as one LATERAL join over an array of times, planned once
    # (PostgreSQL), instead of 64 UNION ALL branches, each planned (SQLite: cheap).
    lateral_probe: bool = False

    def placeholder(self, n: int) -> str:
        return "?" if self.param == "?" else f"${n}"


@dataclass
class Query:
    """SQL text with its parameters, built up term by term."""

    dialect: Dialect
    params: list[object] = field(default_factory=list)
    sql: str = ""

    def p(self, value: object) -> str:
        self.params.append(value)
        return self.dialect.placeholder(len(self.params))


@dataclass(frozen=True)
class Span:
    """[lo, hi) on one integer column; None = unbounded."""

    lo: int | None = None
    hi: int | None = None

    def narrowed(self, lo: int | None = None, hi: int | None = None) -> Span:
        new_lo = self.lo if lo is None else lo if self.lo is None else max(self.lo, lo)
        new_hi = self.hi if hi is None else hi if self.hi is None else min(self.hi, hi)
        return Span(new_lo, new_hi)


def filter_spans(where: RecordingFilter) -> dict[str, Span]:
    """The filter's ranges on the sort columns. A bound that excludes nothing is dropped:
    a no-op range can lead the planner to a full scan (docs/ARCHITECTURE.md)."""
    duration_lo = where.min_duration or None  # 0 excludes nothing
    duration_hi = None if where.max_duration is None else where.max_duration + 1
    return {
        "started_at": Span(where.started_from, where.started_before),
        "duration_s": Span(duration_lo, duration_hi),
        "id": Span(),
    }


def equality_terms(
    q: Query,
    where: RecordingFilter,
    phone_bidx: bytes | None,
    plain: str = "",
    prefix: tuple[str, ...] = (),
) -> list[str]:
    """Terms on columns other than the sort columns (`plain` = "+" keeps them off the index,
    but for the index's own `prefix` columns)."""
    terms: list[str] = []
    if where.channel is not None:
        mark = "" if "channel" in prefix else plain
        terms.append(f"{mark}channel = {q.p(CHANNEL_CODE[where.channel])}")
    if where.direction is not None:
        terms.append(f"{plain}direction = {q.p(DIRECTION_CODE[where.direction])}")
    if where.orgs:
        terms.append(f"{plain}org IN ({', '.join(q.p(o) for o in where.orgs)})")
    if where.agent is not None:
        terms.append(f"agent = {q.p(where.agent)}")
    if phone_bidx is not None:
        terms.append(f"phone_bidx = {q.p(phone_bidx)}")
    return terms


def tagged_rows(q: Query, tag: str) -> str:
    """`recording` as the rows that carry `tag`, for a FROM: the columns the terms name,
    with the date and id from the tag's own row (migration 8), so that a date-ordered page
    walks `recording_tag_by_date` and stops after a page instead of sorting every tagged
    row. Both backends flatten it: the terms apply to it as to the table."""
    return (
        "(SELECT t.started_at AS started_at, t.recording_id AS id, r.duration_s, r.channel, "
        "r.direction, r.org, r.agent, r.phone_bidx FROM recording_tag t "
        f"JOIN recording r ON r.id = t.recording_id WHERE t.tag = {q.p(tag)}) AS recording"
    )


def span_terms(q: Query, column: str, span: Span) -> list[str]:
    terms = []
    if span.lo is not None and span.hi is not None and span.hi == span.lo + 1:
        return [f"{column} = {q.p(span.lo)}"]
    if span.lo is not None:
        terms.append(f"{column} >= {q.p(span.lo)}")
    if span.hi is not None:
        terms.append(f"{column} < {q.p(span.hi)}")
    return terms


def pinned(dialect: Dialect, where: RecordingFilter, phone: bool) -> bool:
    """Whether to pin SQLite to the sort's covering index.

    Without the pin, a duration band can make SQLite walk the duration index
    and sort the whole band in memory; with an agent, phone or tag filter the
    planner's own choice (that column's index) is the better one.
    """
    return dialect.indexed_by and not (phone or where.agent is not None or where.tag is not None)


def conditions(
    q: Query,
    spans: dict[str, Span],
    key: SortKey,
    where: RecordingFilter,
    phone_bidx: bytes | None,
) -> str:
    """The FROM ... WHERE of one index range: the sort index pinned where that is right.

    On a pinned index only the range's own columns (its equality prefix and one
    range column) may steer the scan. Every other term is written `+column`,
    which SQLite cannot use in an index: otherwise, with statistics, it picks a
    skip-scan on the second column, loses the sort order and sorts everything
    (27 ms instead of 0.02 ms for a page in duration order over 1 M rows).
    """
    pin = pinned(q.dialect, where, phone_bidx is not None)
    keys = _range_columns(spans, key) if pin else set(spans)
    index, prefix = sort_index(key, where)
    # The source first: "?" parameters are numbered by where they stand in the text.
    source = "recording" if where.tag is None else tagged_rows(q, where.tag)
    terms = []
    for column, span in spans.items():
        terms += span_terms(q, column if column in keys else f"+{column}", span)
    terms += equality_terms(q, where, phone_bidx, "+" if pin else "", prefix)
    hint = f" INDEXED BY {index}" if pin else ""
    return f"{source}{hint} WHERE {' AND '.join(terms) or '1 = 1'}"


def sort_index(key: SortKey, where: RecordingFilter) -> tuple[str, tuple[str, ...]]:
    """The index that reads `key`'s order for this filter, and its equality prefix.

    Chats are long, so at the short end of the duration index a chat is rare:
    an ascending page of outbound chats scanned 60,000 entries (p95 5.2 ms at
    10 M rows). Led by the channel, the index reads only that channel's rows.
    """
    if key is SortKey.DURATION and where.channel is not None:
        return "recording_by_channel_duration", ("channel",)
    return SORT_INDEX[key], ()


def _range_columns(spans: dict[str, Span], key: SortKey) -> set[str]:
    """The sort columns an index range stands on: equalities, then one range."""
    used = set()
    for column in SORT_COLUMNS[key]:
        span = spans[column]
        if span.lo is None and span.hi is None:
            break
        used.add(column)
        if span.lo is None or span.hi is None or span.hi != span.lo + 1:
            break
    return used


def branch_spans(
    sort: Sort, cursor: Cursor | None, spans: dict[str, Span]
) -> list[dict[str, Span]]:
    """The index ranges that together hold every row strictly beyond `cursor`."""
    columns = SORT_COLUMNS[sort.key]
    if cursor is None:
        return [dict(spans)]
    branches = []
    for i, column in enumerate(columns):
        branch = dict(spans)
        for prior, value in zip(columns[:i], cursor.values[:i], strict=True):
            branch[prior] = branch[prior].narrowed(value, value + 1)
        value = cursor.values[i]
        beyond = Span(hi=value) if sort.descending else Span(lo=value + 1)
        branch[column] = branch[column].narrowed(beyond.lo, beyond.hi)
        branches.append(branch)
    return [b for b in branches if not _empty(b)]


def _empty(spans: dict[str, Span]) -> bool:
    return any(s.lo is not None and s.hi is not None and s.lo >= s.hi for s in spans.values())


def order_by(sort: Sort, prefix: str = "") -> str:
    way = "DESC" if sort.descending else "ASC"
    return ", ".join(f"{prefix}{c} {way}" for c in SORT_COLUMNS[sort.key])


def page_query(
    dialect: Dialect,
    where: RecordingFilter,
    sort: Sort,
    cursor: Cursor | None,
    limit: int,
    phone_bidx: bytes | None,
) -> Query | None:
    """The SQL for up to `limit` rows beyond `cursor` in `sort`; None if none can match."""
    q = Query(dialect)
    columns = ", ".join(SORT_COLUMNS[sort.key])
    branches = branch_spans(sort, cursor, filter_spans(where))
    if not branches:
        return None
    parts = []
    for spans in branches:
        source = conditions(q, spans, sort.key, where, phone_bidx)
        parts.append(
            f"SELECT {columns} FROM (SELECT {columns} FROM {source} "
            f"ORDER BY {order_by(sort)} LIMIT {q.p(limit)}) AS b"
        )
    keys = " UNION ALL ".join(parts)
    return _with_sql(
        q,
        f"SELECT {dialect.summary} FROM (SELECT {columns} FROM ({keys}) AS u "
        f"ORDER BY {order_by(sort)} LIMIT {q.p(limit)}) AS k "
        f"JOIN recording r ON r.id = k.id ORDER BY {order_by(sort, 'k.')}",
    )


def count_query(
    dialect: Dialect, where: RecordingFilter, cap: int | None, phone_bidx: bytes | None
) -> Query:
    q = Query(dialect)
    inner = f"SELECT 1 FROM {conditions(q, filter_spans(where), SortKey.DATE, where, phone_bidx)}"
    if cap is not None:
        inner += f" LIMIT {q.p(cap + 1)}"
    return _with_sql(q, f"SELECT count(*) FROM ({inner}) AS c")


def agents_query(dialect: Dialect, where: RecordingFilter, limit: int) -> Query:
    """The agents of the matching recordings, by name (a coaching sample is drawn per agent)."""
    q = Query(dialect)
    source = conditions(q, filter_spans(where), SortKey.DATE, where, None)
    return _with_sql(q, f"SELECT DISTINCT agent FROM {source} ORDER BY agent LIMIT {q.p(limit)}")


def probe_query(
    dialect: Dialect,
    where: RecordingFilter,
    column: str,
    times: list[int],
    phone_bidx: bytes | None,
) -> Query:
    """`column` of the first row at or after each time: a sample spread over the result."""
    q = Query(dialect)
    if dialect.lateral_probe:
        # Planning 64 branches took 2.5 ms on PostgreSQL (0.4-12 ms a seek at 1 M rows);
        # this form plans in 0.1 ms and runs the same 64 index probes (0.2 ms).
        source = conditions(q, filter_spans(where), SortKey.DATE, where, phone_bidx)
        probes = q.p(times)
        return _with_sql(
            q,
            f"SELECT p.{column} FROM unnest({probes}::bigint[]) AS s(lo) CROSS JOIN LATERAL "
            f"(SELECT {column} FROM {source} AND started_at >= s.lo "
            "ORDER BY started_at, id LIMIT 1) AS p",
        )
    parts = []
    for t in times:
        spans = filter_spans(where)
        spans["started_at"] = spans["started_at"].narrowed(lo=t)
        source = conditions(q, spans, SortKey.DATE, where, phone_bidx)
        parts.append(
            f"SELECT {column} FROM (SELECT {column}, started_at, id FROM {source} "
            "ORDER BY started_at, id LIMIT 1) AS p"
        )
    return _with_sql(q, " UNION ALL ".join(parts))


def ends_query(
    dialect: Dialect, where: RecordingFilter, key: SortKey, phone_bidx: bytes | None
) -> Query:
    """The smallest and largest sort key of the result, each one probe of the sort's index."""
    q = Query(dialect)
    column = SORT_COLUMNS[key][0]
    parts = []
    for way in ("ASC", "DESC"):
        source = conditions(q, filter_spans(where), key, where, phone_bidx)
        parts.append(
            f"SELECT {column} FROM (SELECT {column} FROM {source} "
            f"ORDER BY {order_by(Sort(key, way == 'DESC'))} LIMIT 1) AS e"
        )
    return _with_sql(q, " UNION ALL ".join(parts))


def _with_sql(q: Query, sql: str) -> Query:
    q.sql = sql
    return q


def seek_cursor(sort: Sort, value: int) -> Cursor:
    """A cursor just before every row whose sort key is `value`, in `sort`'s direction."""
    edge = HIGHEST if sort.descending else LOWEST
    width = len(SORT_COLUMNS[sort.key])
    return Cursor((value,) + (edge,) * (width - 1))
