"""`kaiku-tui demo`: built once and reused, persons and audio in it, and the bulk path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.e2e.conftest import run_cli


def test_demo_has_persons_audio_and_is_reused(demo: Path) -> None:
    config, folder = demo, demo.parent  # a copy: the template is shared
    persons = [json.loads(x) for x in run_cli(config, "persons", "list", "--json").out.splitlines()]
    roles = {p["login"]: set(p["roles"]) for p in persons}
    assert {"demo.reviewer", "demo.supervisor", "demo.dpo"} <= set(roles)
    assert {"admin", "supervisor"} <= next(r for r in roles.values() if "admin" in r)
    rows = [
        json.loads(x) for x in run_cli(config, "query", "--json", "--limit", "300").out.splitlines()
    ]
    assert any(r["has_audio"] for r in rows) and all(r["has_transcript"] for r in rows)
    before = (folder / "index.sqlite3").stat().st_size
    again = run_cli(None, "demo", "--dir", str(folder), "--records", "300", "--no-tui")
    assert again.code == 0 and "building" not in again.out and "demo register:" in again.out
    other = run_cli(None, "demo", "--dir", str(folder), "--records", "5", "--no-tui")
    assert other.code == 0 and "it holds 300 recordings" in other.out
    assert (folder / "index.sqlite3").stat().st_size >= before


def test_demo_beyond_50000_records_takes_the_bulk_path(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    built = run_cli(None, "demo", "--dir", str(folder), "--records", "60000", "--no-tui")
    assert built.code == 0, built.err
    db = sqlite3.connect(folder / "index.sqlite3")
    try:
        (total,) = db.execute("SELECT count(*) FROM recording").fetchone()
        (bulk_id,) = db.execute(
            "SELECT min(id) FROM recording WHERE source_id LIKE 'bulk-%'"
        ).fetchone()
        (check,) = db.execute("PRAGMA integrity_check").fetchone()
    finally:
        db.close()
    assert total == 60000 and check == "ok"
    config = folder / "config.toml"
    shown = run_cli(config, "show", str(bulk_id), "--purpose", "quality")
    assert shown.code == 5 and "its key is destroyed" in shown.err
    assert run_cli(config, "audit", "verify").code == 0
    events = run_cli(config, "audit", "show", "--action", "ingest", "--json").out.splitlines()
    assert any(json.loads(e).get("detail") == "synthetic metadata" for e in events)
