"""Fixtures every test folder may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract import pg


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    """The PostgreSQL server of this test session (skips, or under CI fails, without one)."""
    with pg.pg_server() as server:
        yield server
