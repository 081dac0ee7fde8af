"""The attack from issue 16, replayed on the command line: the login that owns the files
edits its own role with sqlite3, then asks for a data subject's copy. Refused at its first
step; `audit verify` exits 1 and `doctor` fails, both naming the row."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from kaiku_tui.config import load
from kaiku_tui.register.identity import current_identity
from tests.e2e.conftest import Cli


def index_of(demo: Path) -> Path:
    return load(demo).sqlite_path


def sql(demo: Path, statement: str) -> None:
    db = sqlite3.connect(index_of(demo))
    with db:
        db.execute(statement)
    db.close()


def test_the_reviewer_who_makes_themself_dpo_is_refused_at_the_first_step(
    cli: Cli, demo: Path, tmp_path: Path
) -> None:
    me = current_identity().login
    assert cli("persons", "set", me, "--role", "reviewer").code == 0
    sql(demo, f"UPDATE person SET roles = 'dpo,supervisor,admin' WHERE login = '{me}'")
    to = tmp_path / "copy"
    done = cli("subject", "export", "0401234567", "--to", str(to), "--request-ref", "X-1")
    assert done.code == 4, (done.out, done.err)
    assert f"person {me}: the row does not verify" in done.err and not to.exists()
    assert len(done.err.strip().splitlines()) == 1 and "Traceback" not in done.err
    db = sqlite3.connect(index_of(demo))
    (body,) = db.execute("SELECT body FROM audit_event ORDER BY seq DESC LIMIT 1").fetchone()
    db.close()
    last = json.loads(body)
    assert (last["action"], last["outcome"], last["actor"]) == ("session.open", "denied", me)
    assert last["detail"] == f"person {me}: row MAC does not verify"


def test_audit_verify_and_doctor_name_the_edited_rows(cli: Cli, demo: Path) -> None:
    assert cli("audit", "verify").code == 0
    sql(demo, "UPDATE person SET roles = 'dpo,supervisor,admin' WHERE login = 'demo.reviewer'")
    sql(demo, "UPDATE organisation SET retention_days = 99999 WHERE code = 'ITU'")
    verified = cli("audit", "verify")
    assert verified.code == 1, (verified.out, verified.err)
    assert "TAMPERED: rows that do not verify" in verified.out
    assert "person demo.reviewer" in verified.out and "organisation ITU" in verified.out
    doctor = cli("doctor")
    assert doctor.code != 0
    (line,) = [x for x in doctor.out.splitlines() if "persons and organisations" in x]
    assert line.startswith("FAIL") and "person demo.reviewer" in line and "organisation ITU" in line
    refused = cli("orgs", "list")
    assert refused.code == 4 and "organisation ITU" in refused.err
