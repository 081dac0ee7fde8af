"""The browse matrix: every shape × {first page, deep page, jump}, four paths each.

Paths, for the same filter and cursor in the same process and database:
* register  — `Register.search` (authorize, scope, page, durable audit append);
* index     — `SqliteIndex.page` / `PostgresIndex.page` alone, so the audit's share
  is visible;
* raw       — the index's SQL text and parameters on a plain connection (`sqlite3`,
  bench/rawsql.py, or asyncpg, bench/rawpg.py);
* raw+audit — the same plus the same audit append on that plain connection (SQLite:
  BEGIN IMMEDIATE, head, INSERT, COMMIT with synchronous=FULL in WAL; PostgreSQL:
  the advisory lock, head, INSERT, COMMIT): the register's limit.

The four run in a rotating order for each trial so none always finds the cache
warmed by another. Cursors for deep pages are prepared before any timing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from measure import Samples
from shapes import Shape

from kaiku_tui.domain.browse import Cursor, RecordingFilter, Sort
from kaiku_tui.index import sql
from kaiku_tui.register import Register

Rows = list[tuple[Any, ...]]

LIMIT = 50
WARMUP = 10
KINDS = ("first", "deep", "jump")
PATHS = ("register", "index", "raw", "raw+audit")
DEEP = (0.80, 0.98)  # a deep page starts this far through the result


class Raw(Protocol):
    """The plain-driver limit for one backend: the index's SQL without the index."""

    dialect: sql.Dialect

    async def run(self, query: sql.Query | None) -> Rows: ...
    async def page(
        self, where: RecordingFilter, sort: Sort, after: Cursor | None, limit: int
    ) -> Rows: ...
    async def seek(self, where: RecordingFilter, sort: Sort, fraction: float) -> Cursor | None: ...
    async def audit(self, rows: Rows, limit: int) -> int: ...
    async def explain(self, query: sql.Query) -> list[str]: ...
    async def count(self, where: RecordingFilter) -> int: ...
    async def newest(self) -> int: ...


@dataclass(frozen=True)
class Context:
    register: Register
    raw: Raw
    end: int  # newest started_at + 1


@dataclass(frozen=True)
class Trial:
    """One timed request: a filter, and either a cursor (first/deep) or a jump fraction."""

    where: RecordingFilter
    scoped: RecordingFilter  # as the register hands it to the index
    cursor: Cursor | None
    fraction: float | None
    query: sql.Query | None  # the page's SQL, built before timing (first/deep)


@dataclass
class Cell:
    shape: Shape
    kind: str
    paths: dict[str, Samples] = field(default_factory=lambda: {p: Samples() for p in PATHS})
    plan: list[str] = field(default_factory=list)
    query: sql.Query | None = None


async def run_cell(ctx: Context, shape: Shape, kind: str, repeat: int, seed: int) -> Cell:
    """Warm up, then time `repeat` trials of one shape and kind on every path."""
    rng = random.Random(f"{seed}/{shape.name}/{shape.sort}/{kind}")
    trials = [await _trial(ctx, shape, kind, rng) for _ in range(WARMUP + repeat)]
    cell = Cell(shape, kind)
    await _check_same_rows(ctx, shape, trials[0])
    cell.query = trials[0].query or await _jump_query(ctx, shape, trials[0])
    if cell.query is not None:
        cell.plan = await ctx.raw.explain(cell.query)
    for i, trial in enumerate(trials):
        turn = i % len(PATHS)
        for name in PATHS[turn:] + PATHS[:turn]:
            ns = await RUNNERS[name](ctx, shape, trial)
            if i >= WARMUP:
                cell.paths[name].add(ns)
    return cell


async def _trial(ctx: Context, shape: Shape, kind: str, rng: random.Random) -> Trial:
    where = shape.make(rng, ctx.end)
    scoped = where.with_orgs(ctx.register.person.scope(where.orgs))
    if kind == "jump":
        return Trial(where, scoped, None, rng.random(), None)
    cursor = await _deep_cursor(ctx, shape, scoped, rng.uniform(*DEEP)) if kind == "deep" else None
    query = sql.page_query(ctx.raw.dialect, scoped, shape.sort, cursor, LIMIT + 1, None)
    return Trial(where, scoped, cursor, None, query)


async def _deep_cursor(
    ctx: Context, shape: Shape, scoped: RecordingFilter, fraction: float
) -> Cursor | None:
    """A real row's cursor (as scrolling makes them) that far through the result."""
    index = ctx.register._index
    seek = await index.seek(scoped, shape.sort, fraction)
    page = await index.page(scoped, shape.sort, after=seek, limit=LIMIT)
    return page.last or seek


async def _jump_query(ctx: Context, shape: Shape, trial: Trial) -> sql.Query | None:
    assert trial.fraction is not None
    after = await ctx.raw.seek(trial.scoped, shape.sort, trial.fraction)
    return sql.page_query(ctx.raw.dialect, trial.scoped, shape.sort, after, LIMIT + 1, None)


async def _check_same_rows(ctx: Context, shape: Shape, trial: Trial) -> None:
    """The raw path must return the very rows the index does, or it is no limit."""
    index = ctx.register._index
    after = trial.cursor
    if trial.fraction is not None:
        after = await index.seek(trial.scoped, shape.sort, trial.fraction)
    page = await index.page(trial.scoped, shape.sort, after=after, limit=LIMIT)
    raw = [r[0] for r in (await _raw_rows(ctx, shape, trial))[:LIMIT]]
    if raw != [r.id for r in page.rows]:
        raise SystemExit(f"{shape.name} {shape.sort}: raw SQL and index disagree")


async def _time_register(ctx: Context, shape: Shape, t: Trial) -> int:
    register = ctx.register
    start = time.perf_counter_ns()
    after = t.cursor
    if t.fraction is not None:
        after = await register.recordings.seek(t.where, shape.sort, t.fraction)
    await register.recordings.search(t.where, shape.sort, after=after, limit=LIMIT)
    return time.perf_counter_ns() - start


async def _time_index(ctx: Context, shape: Shape, t: Trial) -> int:
    index = ctx.register._index
    start = time.perf_counter_ns()
    after = t.cursor
    if t.fraction is not None:
        after = await index.seek(t.scoped, shape.sort, t.fraction)
    await index.page(t.scoped, shape.sort, after=after, limit=LIMIT)
    return time.perf_counter_ns() - start


async def _raw_rows(ctx: Context, shape: Shape, t: Trial) -> Rows:
    """A jump runs the index's seek code over the plain connection (no thread hop)."""
    if t.fraction is None:
        return await ctx.raw.run(t.query)
    after = await ctx.raw.seek(t.scoped, shape.sort, t.fraction)
    return await ctx.raw.page(t.scoped, shape.sort, after, LIMIT)


async def _time_raw(ctx: Context, shape: Shape, t: Trial) -> int:
    start = time.perf_counter_ns()
    await _raw_rows(ctx, shape, t)
    return time.perf_counter_ns() - start


async def _time_raw_audit(ctx: Context, shape: Shape, t: Trial) -> int:
    start = time.perf_counter_ns()
    await ctx.raw.audit(await _raw_rows(ctx, shape, t), LIMIT)
    return time.perf_counter_ns() - start


RUNNERS: dict[str, Callable[[Context, Shape, Trial], Awaitable[int]]] = {
    "register": _time_register,
    "index": _time_index,
    "raw": _time_raw,
    "raw+audit": _time_raw_audit,
}
