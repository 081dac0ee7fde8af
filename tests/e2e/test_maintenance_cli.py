"""The maintenance commands in a subprocess: doctor, scan, keys status, backup, restore,
maintenance — exit codes and what they print."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from kaiku_tui.config import load
from tests.conftest import copy_key_store, data_key_file
from tests.e2e.conftest import Cli, run_cli


def quiet(config: Path) -> None:
    """No sound device on a test machine is normal; the doctor's audio check is then ok."""
    with config.open("a", encoding="utf-8") as out:
        out.write('\n[audio]\nsink = "none"\n')


def a_blob(demo: Path) -> tuple[int, Path]:
    db = sqlite3.connect(demo.parent / "index.sqlite3")
    try:
        record_id, ref = db.execute(
            "SELECT id, blob_ref FROM recording WHERE blob_ref IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()
    finally:
        db.close()
    return record_id, demo.parent / "blobs" / ref[:2] / ref[2:4] / f"{ref}.kkb"


def test_doctor_healthy_then_broken(cli: Cli, demo: Path) -> None:
    quiet(demo)
    healthy = cli("doctor")
    # The demo names several persons on one login's keys: single-user mode warns of it.
    assert healthy.code == 1, healthy.out + healthy.err
    assert "OK    audit chain" in healthy.out
    assert "WARN  mode: single-user, with" in healthy.out and "advisory" in healthy.out
    lines = [json.loads(line) for line in cli("doctor", "--json").out.splitlines()]
    others = {c["status"] for c in lines if c["name"] != "mode"}
    assert others == {"ok"} and {"name", "fix"} <= set(lines[0])
    os.chmod(data_key_file(load(demo)), 0o640)
    broken = cli("doctor")
    assert broken.code == 2
    assert "FAIL  master key" in broken.out and "chmod 600" in broken.out


def test_doctor_warns_with_exit_1(cli: Cli, demo: Path, tmp_path: Path) -> None:
    """No sound device (a HOME without .asoundrc, no card, PulseAudio not there) is a
    warning with the way to sound over SSH, exit 1; and no ALSA chatter on stderr."""
    with demo.open("a", encoding="utf-8") as out:
        out.write('\n[audio]\nsink = "miniaudio"\n')
    home = tmp_path / "home"
    home.mkdir()
    result = cli("doctor", env={"HOME": str(home), "PULSE_SERVER": "tcp:127.0.0.1:9"})
    assert result.code == 1, result.out + result.err
    assert "WARN  audio" in result.out and "Sound over SSH" in result.out
    assert "ALSA lib" not in result.err


def test_scan_reports_by_record(cli: Cli, demo: Path) -> None:
    clean = cli("scan", "--full")
    assert clean.code == 0 and "0 problems" in clean.out, clean.err
    record_id, blob = a_blob(demo)
    blob.unlink()
    found = cli("scan")
    assert found.code == 1
    assert f"record {record_id}: missing-blob" in found.out


def test_backup_restore_verify_scan(cli: Cli, demo: Path, tmp_path: Path) -> None:
    to = tmp_path / "backup"
    made = cli("backup", "--to", str(to))
    assert made.code == 0, made.err
    assert "master key is not in it" in made.out
    folder = tmp_path / "restored"
    folder.mkdir()
    config = folder / "config.toml"
    config.write_text(f'[register]\ndata_dir = "{folder}"\n', encoding="utf-8")
    copy_key_store(load(demo), load(config))
    restored = run_cli(config, "restore", "--from", str(to))
    assert restored.code == 0, restored.err
    verified = run_cli(config, "audit", "verify")
    assert verified.code == 0 and verified.out.startswith("ok:"), verified.out
    scanned = run_cli(config, "scan", "--full")
    assert scanned.code == 0 and "0 problems" in scanned.out, scanned.out
    again = run_cli(config, "restore", "--from", str(to))
    assert again.code == 2 and "empty data directory" in again.err


def test_maintenance_and_keys_status(cli: Cli) -> None:
    tidy = cli("maintenance", "--vacuum")
    assert tidy.code == 0
    assert "ANALYZE:" in tidy.out and "VACUUM:" in tidy.out and "done in" in tidy.out
    keys = cli("keys", "status")
    assert keys.code == 0
    assert keys.out.startswith("master key ") and "present" in keys.out
