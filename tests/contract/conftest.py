"""Fixtures of the index contract suite: one `index` per backend, always closed.

Test bodies use only the `Index` ABC, so every backend runs the same tests.
A backend is one entry in BACKENDS (as harlequin's `all_adapters`): an async
context manager that opens an empty, migrated index and closes it on exit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from kaiku_tui.domain.browse import RecordingFilter, Sort, SortKey
from kaiku_tui.index.base import AddResult, Index
from kaiku_tui.index.sqlite import SqliteIndex
from tests.contract.model import Model
from tests.contract.rows import MAC_KEY, ORGS, SIZE, dataset, event, stored_org


@asynccontextmanager
async def sqlite_index(tmp_path: Path) -> AsyncIterator[Index]:
    index = await SqliteIndex.open(tmp_path / "index.sqlite3", MAC_KEY, create=True)
    try:
        yield index
    finally:
        await index.close()  # an unclosed aiosqlite connection hangs the process at exit


Backend = Callable[[Path], AbstractAsyncContextManager[Index]]
BACKENDS: dict[str, Backend] = {
    "sqlite": sqlite_index,
    # "postgres": postgres_index,  (a later issue: same tests, one more entry)
}


@pytest.fixture(params=sorted(BACKENDS))
async def index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Index]:
    async with BACKENDS[request.param](tmp_path) as opened:
        yield opened


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
