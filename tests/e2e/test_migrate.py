"""`kaiku-tui migrate --to URL`: SQLite to PostgreSQL and back, on a real server."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kaiku_tui.config import index_location, load, with_index
from kaiku_tui.index import open_index
from kaiku_tui.index.records import Row
from kaiku_tui.index.transfer import TABLES
from kaiku_tui.vault.keys import MasterKey
from tests.conftest import data_key_file
from tests.contract import pg
from tests.e2e.conftest import Cli, run_cli
from tests.e2e.test_cli import events


@pytest.fixture
async def pg_url(pg_server: pg.PgServer) -> AsyncIterator[str]:
    async with pg_server.schema() as dsn:
        yield dsn


@pytest.fixture
async def pg_url2(pg_server: pg.PgServer) -> AsyncIterator[str]:
    async with pg_server.schema() as dsn:
        yield dsn


def config_for(source: Path, url: str, name: str) -> Path:
    """A config for the copy: the same keys and blobs, the index at `url`, and a
    checkpoint file of its own (a copy of the source's, whose checkpoints cover the
    copied chain), so that source and copy can both be used in one test."""
    folder = source.parent
    checkpoints = folder / f"{name}-checkpoints.jsonl"
    shutil.copy(folder / "audit-checkpoints.jsonl", checkpoints)
    text = source.read_text() + f'\n[index]\nurl = "{url}"\n'
    text += f'\n[audit]\ncheckpoint_file = "{checkpoints}"\n'
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def dump(config_file: Path) -> dict[str, list[Row]]:
    """Every row of every table, through the index's own export."""

    async def run() -> dict[str, list[Row]]:
        config = load(config_file)
        master = MasterKey.from_env_or_file(data_key_file(config), {})
        index = await open_index(config, master.audit_mac_key())
        out: dict[str, list[Row]] = {}
        try:
            async with index.export() as snapshot:
                for t in TABLES:
                    rows: list[Row] = []
                    while batch := await snapshot.rows(t.name, rows[-1] if rows else None, 500):
                        rows += batch
                    out[t.name] = sorted(rows, key=repr)
        finally:
            await index.close()
        return out

    return asyncio.run(run())


def test_round_trip_sqlite_postgres_sqlite(cli: Cli, demo: Path, pg_url: str) -> None:
    to_pg = cli("migrate", "--to", pg_url)
    assert to_pg.code == 0, to_pg.err
    assert to_pg.out.startswith("migrated ") and "its audit chain verifies" in to_pg.out
    assert "copied recording: 300 rows" in to_pg.err and "copied audit_event" in to_pg.err
    before = dump(demo)
    pg_config = config_for(demo, pg_url, "pg")
    assert dump(pg_config) == before  # every row, the audit chain's exactly

    back_path = demo.parent / "back" / "index.sqlite3"
    back_path.parent.mkdir()
    to_sqlite = run_cli(pg_config, "migrate", "--to", f"sqlite://{back_path}")
    assert to_sqlite.code == 0, to_sqlite.err
    back_config = config_for(demo, f"sqlite://{back_path}", "back")
    copied = dump(back_config)
    assert copied == dump(pg_config)
    for name, rows in before.items():  # the PostgreSQL register only added its events
        assert set(rows) <= set(copied[name]), name
    migrations = [e for e in events_of(back_path) if e["action"] == "register.migrate"]
    assert [e["target"] for e in migrations] == [pg_location(pg_url), str(back_path)]

    for config in (demo, pg_config, back_config):
        assert run_cli(config, "audit", "verify").code == 0
    first = json.loads(cli("query", "--limit", "1", "--json").out)["id"]
    for args in (
        ("query", "--limit", "40", "--json"),
        ("query", "--sort", "-duration", "--channel", "chat", "--limit", "20"),
        ("show", str(first), "--purpose", "quality", "--json"),
    ):
        outputs = [run_cli(c, *args) for c in (demo, pg_config, back_config)]
        assert all(o.code == 0 for o in outputs), [o.err for o in outputs]
        assert outputs[0].out and len({o.out for o in outputs}) == 1, args


def events_of(path: Path) -> list[dict[str, object]]:
    db = sqlite3.connect(path)
    try:
        return [json.loads(b) for (b,) in db.execute("SELECT body FROM audit_event ORDER BY seq")]
    finally:
        db.close()


def pg_location(url: str) -> str:
    return index_location(with_index(load(Path("/nonexistent.toml"), must_exist=False), url))


def test_non_empty_target_refused(cli: Cli, demo: Path, pg_url: str) -> None:
    assert cli("migrate", "--to", pg_url).code == 0
    again = cli("migrate", "--to", pg_url)
    assert again.code == 2 and "is not empty" in again.err and again.out == ""
    assert len(again.err.strip().splitlines()) == 1
    itself = cli("migrate", "--to", str(demo.parent / "index.sqlite3"))
    assert itself.code == 2 and "is not empty" in itself.err


def test_unreachable_or_wrong_url_is_one_line(cli: Cli, demo: Path, tmp_path: Path) -> None:
    for url, code, words in [
        ("postgresql://kaiku@127.0.0.1:1/nothing", 5, "is unreachable"),  # IndexUnavailable
        ("mysql://kaiku@localhost/x", 2, "--to: the URL must be"),
        (f"sqlite://{tmp_path}/no/such/dir/index.sqlite3", 5, "index"),
    ]:
        result = cli("migrate", "--to", url)
        assert result.code == code, (url, result.err)
        assert words in result.err and "Traceback" not in result.err, result.err
        assert len(result.err.strip().splitlines()) == 1, result.err
    failed = [e for e in events(demo) if e["action"] == "register.migrate"]
    assert [e["outcome"] for e in failed] == ["error", "error"]  # the bad URL never got far


def test_password_in_url_refused_and_never_shown(cli: Cli, demo: Path) -> None:
    for url in (
        "postgresql://kaiku:s3cret-pw@127.0.0.1/kaiku",
        "postgresql://kaiku@127.0.0.1/kaiku?password=s3cret-pw",
    ):
        result = cli("migrate", "--to", url)
        assert result.code == 2 and "must not hold a password" in result.err
        assert "s3cret-pw" not in result.err + result.out
    assert "s3cret-pw" not in (demo.parent / "index.sqlite3").read_bytes().decode("latin-1")


def test_non_admin_refused_and_audited(cli: Cli, demo: Path, pg_url: str) -> None:
    me = str(events(demo)[0]["actor"])
    assert cli("persons", "set", me, "--role", "supervisor").code == 0
    refused = cli("migrate", "--to", pg_url)
    assert refused.code == 4 and "may not register.migrate" in refused.err
    denied = [e for e in events(demo) if e["action"] == "register.migrate"]
    assert [e["outcome"] for e in denied] == ["denied"]
    assert denied[0]["target"] == pg_location(pg_url)
