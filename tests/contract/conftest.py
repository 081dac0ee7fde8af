"""Fixtures of the index contract suite: one `index` per backend, always closed.

Test bodies use only the `Index` ABC, or the narrow interface of index/protocols.py
they exercise, so every backend runs the same tests.
A backend is one entry in BACKENDS (as harlequin's `all_adapters`): an async
context manager that opens an empty, migrated index and closes it on exit.
On PostgreSQL each test has a schema of its own (tests/contract/pg.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace

import pytest

from kaiku_tui.domain.browse import RecordingFilter, Sort, SortKey
from kaiku_tui.index.base import Index
from kaiku_tui.index.postgres import PostgresIndex
from kaiku_tui.index.records import AddResult
from kaiku_tui.index.sqlite import SqliteIndex
from tests.contract import pg
from tests.contract.model import Model
from tests.contract.rows import MAC_KEY, ORGS, SIZE, dataset, event, stored_org


@asynccontextmanager
async def sqlite_index(request: pytest.FixtureRequest) -> AsyncIterator[Index]:
    path = request.getfixturevalue("tmp_path") / "index.sqlite3"
    index = await SqliteIndex.open(path, MAC_KEY, create=True)
    try:
        yield index
    finally:
        await index.close()  # an unclosed aiosqlite connection hangs the process at exit


@asynccontextmanager
async def postgres_index(request: pytest.FixtureRequest) -> AsyncIterator[Index]:
    server: pg.PgServer = request.getfixturevalue("pg_server")
    async with server.schema() as dsn:
        index = await PostgresIndex.open(dsn, MAC_KEY, create=True)
        try:
            yield index
        finally:
            await index.close()


Backend = Callable[[pytest.FixtureRequest], AbstractAsyncContextManager[Index]]
BACKENDS: dict[str, Backend] = {
    "sqlite": sqlite_index,
    "postgres": postgres_index,
}


@pytest.fixture(params=sorted(BACKENDS))
async def index(request: pytest.FixtureRequest) -> AsyncIterator[Index]:
    request.node.user_properties.append(("backend", request.param))
    async with BACKENDS[request.param](request) as opened:
        yield opened


# -- one line per backend at the end of the run, so a log shows what each one passed ----

OUTCOMES: dict[str, Counter[str]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    backend = dict(report.user_properties).get("backend")
    if backend and (report.when == "call" or report.outcome != "passed"):
        OUTCOMES.setdefault(str(backend), Counter())[report.outcome] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for backend, counts in sorted(OUTCOMES.items()):
        told = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        terminalreporter.write_line(f"index contract on {backend}: {told}")


@pytest.fixture
async def loaded(index: Index) -> tuple[Index, Model]:
    """The index holding the seeded dataset, and the model of it with the ids it was given."""
    for code in ORGS:
        await index.add_org(stored_org(code), event("org.manage"))
    rows = dataset()
    assert await index.add_recordings(rows, event("ingest")) == AddResult(SIZE, 0)
    page = await index.page(RecordingFilter(), Sort(SortKey.DATE, False), limit=SIZE + 1)
    assert len(page.rows) == SIZE and not page.has_after
    inserted = {(r.summary.org, r.summary.source_id): r for r in rows}
    for got in page.rows:  # what was stored is what was written, but for the id
        assert replace(got, id=0) == inserted[got.org, got.source_id].summary
    bidx = {got.id: inserted[got.org, got.source_id].phone_bidx for got in page.rows}
    return index, Model(page.rows, bidx)
