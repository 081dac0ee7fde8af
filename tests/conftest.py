"""Fixtures every test folder may use."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kaiku_tui.config import Config
from kaiku_tui.vault.keystore import DATA_FILE
from tests.contract import pg
from tests.unit.test_audio_wav import INSTALL, Corpus, make_corpus


@pytest.fixture(scope="session", autouse=True)
def _private_xdg_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """XDG_CONFIG_HOME and XDG_STATE_HOME in a temporary folder (platformdirs honours
    them): the default key store and witness live there, so no test writes into ~."""
    folder = tmp_path_factory.mktemp("xdg")
    saved = {name: os.environ.get(name) for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME")}
    os.environ["XDG_CONFIG_HOME"] = str(folder / "config")
    os.environ["XDG_STATE_HOME"] = str(folder / "state")
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


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


@pytest.fixture(scope="session", autouse=True)
def _private_xdg_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """XDG_CONFIG_HOME and XDG_STATE_HOME in a temporary folder for the whole session
    (platformdirs honours them): the default key store and witness of every register a
    test makes land there, never in ~. Subprocesses inherit them."""
    folder = tmp_path_factory.mktemp("xdg")
    saved = {name: os.environ.get(name) for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME")}
    os.environ["XDG_CONFIG_HOME"] = str(folder / "config")
    os.environ["XDG_STATE_HOME"] = str(folder / "state")
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def copy_key_store(source: Config, target: Config) -> None:
    """A copied register needs its keys where the copy's configuration looks for them: the
    key store lives outside data_dir (by default, one per data_dir path)."""
    target.key_store.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source.key_store, target.key_store)


def data_key_file(config: Config) -> Path:
    """The key store's data key file: the register's master key of old (wraps org keys)."""
    return config.key_store / DATA_FILE
