"""Fixtures every test folder may use."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.contract import pg
from tests.unit.test_audio_wav import INSTALL, Corpus, make_corpus


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    """The PostgreSQL server of this test session (skips, or under CI fails, without one)."""
    with pg.pg_server() as server:
        yield server


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """Speech WAVs made by espeak-ng and sox in every format we read (test_audio_wav.py)."""
    folder = tmp_path_factory.mktemp("wav")
    missing = [tool for tool in ("sox", "soxi", "espeak-ng") if shutil.which(tool) is None]
    if missing:
        return Corpus(folder, f"{', '.join(missing)} not found: {INSTALL}")
    try:
        make_corpus(folder)
    except (RuntimeError, OSError) as err:
        return Corpus(folder, f"could not generate the test audio ({err}); {INSTALL}")
    return Corpus(folder)
