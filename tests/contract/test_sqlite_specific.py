"""What only the SQLite backend promises: triggers, query plans, WAL, migrations, threads."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from kaiku_tui.domain.browse import Cursor, RecordingFilter, Sort, SortKey
from kaiku_tui.domain.recording import Channel
from kaiku_tui.errors import StoreError
from kaiku_tui.index import sql
from kaiku_tui.index.sqlite import SqliteIndex
from kaiku_tui.index.sqlite_core import DIALECT
from kaiku_tui.index.sqlite_schema import MIGRATIONS
from tests.contract.rows import MAC_KEY, PHONES, STEP, T0, event, stored_org

NEWEST_FIRST = Sort(SortKey.DATE, descending=True)
LONGEST_FIRST = Sort(SortKey.DURATION, descending=True)
BAND = RecordingFilter(min_duration=1800, max_duration=3600)  # a duration band
DAYS = RecordingFilter(started_from=T0, started_before=T0 + 86_400 * 7)  # a date range
ORDER_SORT = "USE TEMP B-TREE FOR ORDER BY"
WRITER = "kaiku-sqlite-writer"
LATEST = len(MIGRATIONS)


@pytest.fixture
async def sqlite_index(tmp_path: Path) -> AsyncIterator[SqliteIndex]:
    index = await SqliteIndex.open(tmp_path / "index.sqlite3", MAC_KEY, create=True)
    try:
        yield index
    finally:
        await index.close()


@contextmanager
def raw(index: SqliteIndex) -> Iterator[sqlite3.Connection]:
    """A second, plain connection to the index's file."""
    with closing(sqlite3.connect(index.location, isolation_level=None)) as db:
        yield db


def writer_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith(WRITER)}


# -- 7. the audit table is append-only ------------------------------------------------


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_event SET mac = x'00' WHERE seq = 1", "DELETE FROM audit_event"]
)
async def test_audit_rows_cannot_be_changed_or_deleted(
    sqlite_index: SqliteIndex, statement: str
) -> None:
    await sqlite_index.append_audit(event("login"))
    before = await sqlite_index.audit_rows(0, 10)
    with raw(sqlite_index) as db, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute(statement)
    assert await sqlite_index.audit_rows(0, 10) == before


# -- query plans ------------------------------------------------------------------------


def plan(index: SqliteIndex, query: sql.Query | None) -> list[tuple[int, int, str]]:
    assert query is not None
    with raw(index) as db:
        rows = db.execute("EXPLAIN QUERY PLAN " + query.sql, query.params).fetchall()
    return [(node, parent, detail) for node, parent, _, detail in rows]


def recording_reads(steps: list[tuple[int, int, str]]) -> list[str]:
    """How each branch reads the recording table (the joined page rows `r` excluded)."""
    return [d for _, _, d in steps if d.startswith(("SCAN recording", "SEARCH recording "))]


def sorts_beside_reads(steps: list[tuple[int, int, str]]) -> list[str]:
    """Temp b-tree sorts in a SELECT that reads the recording table: sorting a whole range.

    The outer SELECTs also sort, but only the ≤ limit rows each branch gave, by design."""
    parents = {p for _, p, d in steps if d.startswith(("SCAN recording", "SEARCH recording "))}
    return [d for _, p, d in steps if p in parents and d == ORDER_SORT]


def page_plan(
    index: SqliteIndex, where: RecordingFilter, sort: Sort, cursor: Cursor | None = None,
    bidx: bytes | None = None,
) -> list[tuple[int, int, str]]:  # fmt: skip
    return plan(index, sql.page_query(DIALECT, where, sort, cursor, 51, bidx))


async def test_duration_band_by_date_reads_the_covering_date_index(
    sqlite_index: SqliteIndex,
) -> None:
    first = page_plan(sqlite_index, BAND, NEWEST_FIRST)
    assert recording_reads(first) == ["SCAN recording USING COVERING INDEX recording_by_date"]
    assert sorts_beside_reads(first) == []
    deeper = page_plan(sqlite_index, BAND, NEWEST_FIRST, Cursor((T0 + 500 * STEP, 4711)))
    assert recording_reads(deeper) == [
        "SEARCH recording USING COVERING INDEX recording_by_date (started_at<?)",
        "SEARCH recording USING COVERING INDEX recording_by_date (started_at=? AND id<?)",
    ]
    assert sorts_beside_reads(deeper) == []


async def test_duration_band_in_a_date_range_is_a_date_index_range(
    sqlite_index: SqliteIndex,
) -> None:
    where = RecordingFilter(started_from=T0, started_before=T0 + 86_400, min_duration=1800)
    steps = page_plan(sqlite_index, where, NEWEST_FIRST)
    assert recording_reads(steps) == [
        "SEARCH recording USING COVERING INDEX recording_by_date (started_at>? AND started_at<?)"
    ]
    assert sorts_beside_reads(steps) == []


async def test_date_range_by_duration_reads_the_duration_index(sqlite_index: SqliteIndex) -> None:
    for cursor in (None, Cursor((600, T0 + STEP, 99))):
        steps = page_plan(sqlite_index, DAYS, LONGEST_FIRST, cursor)
        reads = recording_reads(steps)
        assert reads and all("COVERING INDEX recording_by_duration" in r for r in reads), reads
        assert sorts_beside_reads(steps) == []
    assert len(reads) == 3  # after a cursor: one range per sort column


# Statistics as ANALYZE writes them for ten million recordings over three years.
TEN_MILLION_STATS = [
    ("recording", "recording_by_date", "10000000 2 1 1 1 1 1"),
    ("recording", "recording_by_duration", "10000000 1430 2 1 1 1 1"),
    ("recording", "recording_by_agent", "10000000 1250000 2 1"),
    ("recording", "recording_by_phone", "9700000 3"),
    ("recording", "recording_by_channel_duration", "10000000 5000000 700 1 1 1 1"),
    ("recording", "sqlite_autoindex_recording_1", "10000000 3333334 1"),
]


@pytest.mark.parametrize("where", [DAYS, RecordingFilter(channel=Channel.CHAT)], ids=["7d", "chat"])
async def test_statistics_do_not_turn_a_sort_range_into_a_skip_scan(
    sqlite_index: SqliteIndex, where: RecordingFilter
) -> None:
    """With 10 M-row statistics SQLite chose ANY(duration_s) on the duration index, lost the
    order and sorted every row (27 ms a page at 1 M); the range must stay a range."""
    with raw(sqlite_index) as db:
        db.execute("ANALYZE")
        db.execute("DELETE FROM sqlite_stat1")
        db.executemany("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", TEN_MILLION_STATS)
    for sort in (LONGEST_FIRST, NEWEST_FIRST):
        for cursor in (None, Cursor((600, T0 + STEP, 99)[-len(sql.SORT_COLUMNS[sort.key]) :])):
            steps = page_plan(sqlite_index, where, sort, cursor)
            reads = recording_reads(steps)
            assert reads and not any("ANY(" in r for r in reads), reads
            assert all(sql.sort_index(sort.key, where)[0] in r for r in reads), reads
            assert sorts_beside_reads(steps) == []


async def test_duration_order_in_one_channel_reads_the_channel_index(
    sqlite_index: SqliteIndex,
) -> None:
    chats = RecordingFilter(channel=Channel.CHAT, started_from=T0, started_before=T0 + 86_400)
    for cursor in (None, Cursor((600, T0 + STEP, 99))):
        steps = page_plan(sqlite_index, chats, Sort(SortKey.DURATION, False), cursor)
        reads = recording_reads(steps)
        assert reads and all("recording_by_channel_duration (channel=?" in r for r in reads), reads
        assert sorts_beside_reads(steps) == []


async def test_agent_filter_reads_the_agent_index(sqlite_index: SqliteIndex) -> None:
    steps = page_plan(sqlite_index, RecordingFilter(agent="agent-1"), NEWEST_FIRST)
    assert recording_reads(steps) == [
        "SEARCH recording USING COVERING INDEX recording_by_agent (agent=?)"
    ]
    assert sorts_beside_reads(steps) == []  # (agent, started_at, id) is already in date order


async def test_phone_filter_reads_the_phone_index(sqlite_index: SqliteIndex) -> None:
    steps = page_plan(sqlite_index, RecordingFilter(), NEWEST_FIRST, bidx=PHONES[0])
    assert recording_reads(steps) == [
        "SEARCH recording USING INDEX recording_by_phone (phone_bidx=?)"
    ]


# -- WAL and migrations ---------------------------------------------------------------------


async def test_index_is_in_wal_mode(sqlite_index: SqliteIndex) -> None:
    with raw(sqlite_index) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA user_version").fetchone() == (LATEST,)


async def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    index = await SqliteIndex.open(path, MAC_KEY, create=True)
    try:
        await index.add_org(stored_org("HKI"), event("org.manage"))
    finally:
        await index.close()
    for _ in range(2):
        index = await SqliteIndex.open(path, MAC_KEY)
        try:
            assert await index.get_org("HKI") == stored_org("HKI")
            assert (await index.audit_head() or (0,))[0] == 1
        finally:
            await index.close()
        with closing(sqlite3.connect(path)) as db:
            assert db.execute("PRAGMA user_version").fetchone() == (LATEST,)


async def test_missing_index_without_create_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        await SqliteIndex.open(tmp_path / "absent.sqlite3", MAC_KEY)
    assert not (tmp_path / "absent.sqlite3").exists()


def newer_database(path: Path) -> Path:
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version = {LATEST + 1}")
    return path


async def test_a_newer_schema_is_a_store_error(tmp_path: Path) -> None:
    path = newer_database(tmp_path / "index.sqlite3")
    with pytest.raises(StoreError, match="newer than this kaiku-tui knows"):
        await SqliteIndex.open(path, MAC_KEY)
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (LATEST + 1,)


async def test_a_failed_open_leaves_no_writer_thread(tmp_path: Path) -> None:
    """The writer is closed on every failure of open(), not only on sqlite3 errors."""
    path = newer_database(tmp_path / "index.sqlite3")
    before = writer_threads()
    with pytest.raises(StoreError):
        await SqliteIndex.open(path, MAC_KEY)
    assert writer_threads() - before == set()


# -- 8. closing --------------------------------------------------------------------------------


async def test_open_and_close_leave_no_threads(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    before = set(threading.enumerate())
    for n in range(20):
        index = await SqliteIndex.open(path, MAC_KEY, create=True)
        try:
            await index.append_audit(event("login", n))
            assert writer_threads() - before
        finally:
            await index.close()
        # the last connection to close checkpoints the WAL and removes it
        assert not path.with_name(path.name + "-wal").exists()
    assert set(threading.enumerate()) <= before


async def test_the_audit_head_is_read_from_the_table_whatever_the_statistics(
    sqlite_index: SqliteIndex,
) -> None:
    """Statistics from a small log once made every append walk audit_by_actor and sort."""
    from kaiku_tui.index.sqlite_core import AUDIT_HEAD

    with raw(sqlite_index) as db:
        db.execute("ANALYZE")
        db.execute("DELETE FROM sqlite_stat1")
        db.execute("INSERT INTO sqlite_stat1 VALUES ('audit_event', 'audit_by_actor', '7 7 1')")
    with raw(sqlite_index) as db:
        steps = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + AUDIT_HEAD)]
    assert steps == ["SCAN audit_event"]


# -- retention (migration 5): one organisation's date range ----------------------------


def retention_plan(index: SqliteIndex, query: str, params: tuple[object, ...]) -> list[str]:
    with raw(index) as db:
        rows = db.execute("EXPLAIN QUERY PLAN " + query, params).fetchall()
    return [row[3] for row in rows]


@pytest.mark.parametrize("stats", [False, True], ids=["fresh", "10M-stats"])
async def test_the_retention_range_reads_the_organisation_index(
    sqlite_index: SqliteIndex, stats: bool
) -> None:
    """The plan counts and the purge pages one organisation's recordings by date: an index
    range on (org, started_at), never the whole date index filtered by organisation."""
    from kaiku_tui.index import retention_sql as rsql

    if stats:
        with raw(sqlite_index) as db:
            db.execute("ANALYZE")
            db.execute("DELETE FROM sqlite_stat1")
            db.executemany("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", TEN_MILLION_STATS)
            db.execute(
                "INSERT INTO sqlite_stat1 VALUES ('recording', 'recording_by_org', "
                "'10000000 3333334 2 1')"
            )
    count = retention_plan(sqlite_index, rsql.COUNT_RANGE, ("HKI", 0, T0))
    assert count == ["SEARCH recording USING COVERING INDEX recording_by_org "
                     "(org=? AND started_at>? AND started_at<?)"]  # fmt: skip
    page = retention_plan(sqlite_index, rsql.DUE_AFTER, ("HKI", T0, 5, 5, 9, 500))
    assert len(page) == 1 and "USING INDEX recording_by_org (org=? AND started_at>? AND" in page[0]
    first = retention_plan(sqlite_index, rsql.DUE_FIRST, ("HKI", T0, 500))
    assert first == ["SEARCH recording USING INDEX recording_by_org (org=? AND started_at<?)"]


async def test_the_held_recordings_are_found_from_the_holds(sqlite_index: SqliteIndex) -> None:
    """The few active holds drive the join: left to itself SQLite walked the organisation's
    recordings (6 ms at 100,000 and growing with them)."""
    from kaiku_tui.index import retention_sql as rsql

    steps = retention_plan(sqlite_index, rsql.HELD_IN_ORG, ("HKI", "HKI"))
    searches = [s for s in steps if s.startswith(("SEARCH", "SCAN"))]
    assert searches[0].startswith("SEARCH h USING INDEX legal_hold_on_recording")
    assert any(s.startswith("SEARCH h USING INDEX legal_hold_on_case") for s in searches)
    assert not any("recording_by_org" in s or s.startswith("SCAN r") for s in searches), steps


async def test_the_revealed_side_table_follows_the_events_and_the_cut(
    sqlite_index: SqliteIndex,
) -> None:
    """Migration 9: a row per name an event revealed, written with the event; the audit
    cut deletes the rows of the events it takes (none left behind)."""
    first = await sqlite_index.append_audit(event("search", 1, revealed=("7", "8")))
    await sqlite_index.append_audit(event("record.open", 2, target="7"))
    last = await sqlite_index.append_audit(event("case.link", 3, revealed=("8",)))
    with raw(sqlite_index) as db:
        rows = db.execute("SELECT name, seq FROM audit_revealed ORDER BY seq, name").fetchall()
    assert rows == [("7", first), ("8", first), ("8", last)]
    (at_first,) = await sqlite_index.audit_rows(first - 1, 1)
    await sqlite_index.cut_audit(first, bytes(at_first[3]), event("audit.retain", 4))
    with raw(sqlite_index) as db:
        rows = db.execute("SELECT name, seq FROM audit_revealed ORDER BY seq, name").fetchall()
    assert rows == [("8", last)]
