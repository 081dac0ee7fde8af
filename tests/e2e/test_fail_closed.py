"""No audit event, no content: a failing, full or read-only audit store reveals nothing."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kaiku_tui.config import load
from tests.conftest import copy_key_store, data_key_file
from tests.e2e.conftest import Cli, run_cli

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a file system needs root")


def fail_audit_on(demo: Path, action: str) -> None:
    """The audit store refuses events of one action, as a failing disk would."""
    db = sqlite3.connect(demo.parent / "index.sqlite3")
    db.execute(
        "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_event "
        f"WHEN json_extract(NEW.body, '$.action') = '{action}' "
        "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
    )
    db.commit()
    db.close()


def first_id(cli: Cli) -> int:
    return int(json.loads(cli("query", "--limit", "1", "--json").out)["id"])


def test_failing_audit_reveals_no_transcript(cli: Cli, demo: Path) -> None:
    record = first_id(cli)
    fail_audit_on(demo, "record.open")
    result = cli("show", str(record), "--purpose", "quality", "--json")
    assert result.code == 5 and result.out == ""
    assert "audit log" in result.err and "nothing was changed or shown" in result.err


def test_failing_audit_reveals_no_search_rows(cli: Cli, demo: Path) -> None:
    fail_audit_on(demo, "search")
    result = cli("query", "--json")
    assert result.code == 5 and result.out == "" and "audit log" in result.err


def test_failing_audit_changes_nothing(cli: Cli, demo: Path) -> None:
    fail_audit_on(demo, "person.add")
    assert cli("persons", "add", "pekka", "--role", "reviewer").code == 5
    assert "pekka" not in cli("persons", "list").out


@pytest.fixture
def mount_point(tmp_path: Path) -> Iterator[Path]:
    point = tmp_path / "mnt"
    point.mkdir()
    yield point
    subprocess.run(["umount", "-l", str(point)], check=False, capture_output=True)


def copy_demo_into(demo: Path, target: Path) -> Path:
    folder = target / "demo"
    # Without the audio blobs: these tests read no audio, and the 4 MiB store must hold the rest.
    shutil.copytree(demo.parent, folder, ignore=shutil.ignore_patterns("blobs"))
    config = folder / "config.toml"
    config.write_text(config.read_text().replace(str(demo.parent), str(folder)))
    copy_key_store(load(demo), load(config))
    return config


@ROOT_ONLY
def test_read_only_store(demo: Path, mount_point: Path) -> None:
    config = copy_demo_into(demo, mount_point)
    subprocess.run(["mount", "--bind", str(mount_point), str(mount_point)], check=True)
    subprocess.run(["mount", "-o", "remount,ro,bind", str(mount_point)], check=True)
    result = run_cli(config, "query", "--json")
    assert result.code != 0 and result.out == ""
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


@ROOT_ONLY
def test_full_store(demo: Path, mount_point: Path) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], check=True)
    config = copy_demo_into(demo, mount_point)
    record = int(json.loads(run_cli(config, "query", "--limit", "1", "--json").out)["id"])
    filler = mount_point / "filler"
    with filler.open("wb") as f:  # take every free byte
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    result = run_cli(config, "show", str(record), "--purpose", "quality", "--json")
    assert result.code != 0 and result.out == ""
    assert "Traceback" not in result.err and result.err.strip()


def test_key_file_readable_by_others(cli: Cli, demo: Path) -> None:
    key = data_key_file(load(demo))
    key.chmod(0o644)
    result = cli("query")
    assert result.code == 2 and str(key) in result.err and "chmod 600" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_key_file_missing(cli: Cli, demo: Path) -> None:
    key = data_key_file(load(demo))
    key.unlink()
    result = cli("query")
    assert result.code == 2 and str(key) in result.err


def test_wrong_master_key_writes_nothing(cli: Cli, demo: Path) -> None:
    db_path = demo.parent / "index.sqlite3"
    before = sqlite3.connect(db_path).execute("SELECT max(seq) FROM audit_event").fetchone()
    wrong = base64.b64encode(os.urandom(32)).decode()
    result = cli("query", env={"KAIKU_MASTER_KEY": wrong})
    assert result.code == 2 and "is not the key of the register" in result.err
    assert result.out == ""
    after = sqlite3.connect(db_path).execute("SELECT max(seq) FROM audit_event").fetchone()
    assert before == after
    assert cli("audit", "verify").code == 0


def test_bad_config_is_one_line_exit_2(cli: Cli, demo: Path) -> None:
    demo.write_text(demo.read_text() + "\n[ui]\nlanguage = 3\n")
    result = cli("query")
    assert result.code == 2 and result.out == ""
    assert result.err.strip() == f"kaiku-tui: {demo}: [ui] language must be str, not int"
