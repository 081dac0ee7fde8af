"""`kaiku-tui subject …`, `disclose`, `disclosures` and `register-description` in a subprocess:
real imports (Asterisk WAVs, a Chatwoot chat of the same number), the copy's bytes against
the files imported, and bad input as one line with no traceback."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from kaiku_tui.register.identity import current_identity
from tests.e2e.conftest import Cli, Result
from tests.e2e.test_ingest_cli import CHAT, alaw_wav, write_export

CALLS = 3


def one_line_error(result: Result, code: int, text: str) -> None:
    assert result.code == code, (result.out, result.err)
    assert text in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


@pytest.fixture
def imported(cli: Cli, tmp_path: Path) -> dict[str, int]:
    """Three calls from 040 123 4567 (ITU) and a chat from +358 40 123 4567 (KESKI), with
    the login as admin and DPO; source id → record id."""
    cdr, rec = write_export(tmp_path, CALLS)
    args = ("--cdr", str(cdr), "--recordings", str(rec), "--org", "ITU")
    assert cli("ingest", "asterisk", *args).code == 0
    assert cli("ingest", "chatwoot", str(CHAT), "--org", "KESKI").code == 0
    me = current_identity().login
    assert cli("persons", "set", me, "--role", "admin", "--role", "dpo").code == 0
    rows = [json.loads(x) for x in cli("query", "--json", "--limit", "1000").out.splitlines()]
    ours = ("1741590", "chatwoot-4711")
    return {r["source_id"]: r["id"] for r in rows if r["source_id"].startswith(ours)}


def test_find_every_spelling_and_export_the_imported_bytes(
    cli: Cli, imported: dict[str, int], tmp_path: Path
) -> None:
    for spelling in ("0401234567", "+358 40 123 4567", "00358401234567", "040-123 4567"):
        found = cli("subject", "find", spelling, "--json")
        assert found.code == 0, found.err
        assert {json.loads(x)["id"] for x in found.out.splitlines()} == set(imported.values())
    assert cli("subject", "request", "add", "TS-1", "--kind", "access", "--received",
               date.today().isoformat(), "--phone", "040 1234567").code == 0  # fmt: skip
    to = tmp_path / "copy"
    done = cli("subject", "export", "+358401234567", "--to", str(to), "--request-ref", "TS-1")
    assert done.code == 0, done.err
    assert f"{len(imported)} recordings" in done.out
    for n in range(CALLS):
        record_id = imported[f"1741590{n:03d}.{n}"]
        copied = (to / f"{record_id}.wav").read_bytes()
        assert hashlib.sha256(copied).digest() == hashlib.sha256(alaw_wav(0.5, n)).digest()
    chat = imported["chatwoot-4711"]
    assert not (to / f"{chat}.wav").exists() and (to / f"{chat}.txt").exists()
    manifest = json.loads((to / "manifest.json").read_text(encoding="utf-8"))
    assert {r["id"] for r in manifest["recordings"]} == set(imported.values())
    listed = cli("subject", "request", "list", "--json")
    (request,) = [json.loads(x) for x in listed.out.splitlines()]
    assert request["status"] == "answered" and request["answered"] == date.today().isoformat()
    log = cli("subject", "access-log", "0401234567", "--json")
    actions = [json.loads(x)["action"] for x in log.out.splitlines()]
    assert actions.count("subject.export.record") == len(imported)
    assert "subject.export" in actions and "subject.find" in actions
    text = cli("subject", "access-log", "040 123 4567", "--org", "ITU")
    me = current_identity().login
    assert f"{me} (Demo Admin; admin, dpo) subject.export.record ok recording" in text.out
    assert "purpose access-request ref TS-1 to data subject" in text.out
    assert "subject.find ok showed recordings" in text.out  # a list that showed her rows
    assert "and every list, case or sample that showed one of them" in text.err
    assert cli("audit", "verify").code == 0


def test_bad_input_is_one_line(cli: Cli, imported: dict[str, int], tmp_path: Path) -> None:
    one_line_error(cli("subject", "find", "12"), 2, "phone number '12' has the wrong length")
    one_line_error(cli("subject", "find", "not a number"), 2, "is not a phone number")
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    assert cli("subject", "request", "add", "TS-2", "--kind", "access", "--received",
               date.today().isoformat(), "--phone", "0401234567").code == 0  # fmt: skip
    one_line_error(cli("subject", "export", "0401234567", "--to", str(full), "--request-ref",
                       "TS-2"), 2, f"--to {full}: the folder is not empty")  # fmt: skip
    assert [p.name for p in full.iterdir()] == ["keep.txt"]
    one_line_error(cli("subject", "export", "0401234567", "--to", str(tmp_path / "new"),
                       "--request-ref", "NOPE"), 2, "request 'NOPE' is not recorded")  # fmt: skip
    assert not (tmp_path / "new").exists()
    one_line_error(cli("subject", "request", "answer", "NOPE"), 2, "request 'NOPE' is not")
    one_line_error(cli("subject", "request", "add", "X", "--kind", "access", "--received",
                       "31.02.2026", "--phone", "0401234567"), 2,
                   "--received '31.02.2026' is not a date")  # fmt: skip
    one_line_error(cli("subject", "access-log", "0401234567", "--from", "eilen"), 2,
                   "--from 'eilen' is not a date")  # fmt: skip
    one_line_error(cli("disclose", "999999", "--authority", "Poliisi", "--legal-basis", "L",
                       "--request-ref", "NOPE", "--to", str(tmp_path / "d")), 2,
                   "request 'NOPE' is not recorded")  # fmt: skip


def test_deadline_warnings(cli: Cli, imported: dict[str, int]) -> None:
    old = (date.today() - timedelta(days=40)).isoformat()
    near = (date.today() - timedelta(days=27)).isoformat()
    for ref, day in (("OLD", old), ("NEAR", near), ("NEW", date.today().isoformat())):
        assert cli("subject", "request", "add", ref, "--kind", "log", "--received", day,
                   "--phone", "0401234567").code == 0  # fmt: skip
    listed = cli("subject", "request", "list")
    assert listed.code == 0
    assert [line.split()[0] for line in listed.out.splitlines()] == ["OLD", "NEAR", "NEW"]
    warnings = listed.err.splitlines()
    assert len(warnings) == 2
    assert warnings[0].startswith("warning: request OLD is") and "past its deadline" in warnings[0]
    assert warnings[1].startswith("warning: request NEAR is due in")


def test_disclose_and_the_disclosure_log(
    cli: Cli, imported: dict[str, int], tmp_path: Path
) -> None:
    ids = sorted(imported.values())[:2]
    assert cli("subject", "request", "add", "POL-1", "--kind", "authority", "--received",
               date.today().isoformat()).code == 0  # fmt: skip
    pol = str(tmp_path / "pol")
    done = cli("disclose", *map(str, ids), "--authority", "Poliisi", "--legal-basis",
               "Poliisilaki 4:3", "--request-ref", "POL-1", "--to", pol)  # fmt: skip
    assert done.code == 0, done.err
    (entry,) = [json.loads(x) for x in cli("disclosures", "list", "--json").out.splitlines()]
    assert entry["record_ids"] == ids and entry["authority"] == "Poliisi"
    digest = hashlib.sha256((tmp_path / "pol" / "manifest.json").read_bytes()).hexdigest()
    assert entry["manifest_sha256"] == digest
    shown = cli("disclosures", "list")
    assert "Poliisi (Poliisilaki 4:3) ref POL-1" in shown.out


def test_refused_for_a_supervisor_and_audited(cli: Cli, imported: dict[str, int]) -> None:
    me = current_identity().login
    assert cli("persons", "set", me, "--role", "supervisor", "--role", "admin").code == 0
    one_line_error(cli("subject", "find", "0401234567"), 4, "may not subject.access")
    one_line_error(cli("subject", "access-log", "0401234567"), 4, "may not subject.log")
    one_line_error(cli("subject", "request", "list"), 4, "may not subject.request")
    shown = cli("audit", "show", "--json")
    denied = [json.loads(x) for x in shown.out.splitlines()]
    denied = [e["action"] for e in denied if e["outcome"] == "denied"]
    assert denied[-3:] == ["subject.access", "subject.log", "subject.request"]


def test_register_description(cli: Cli, demo: Path, imported: dict[str, int]) -> None:
    one_line_error(cli("register-description"), 2,
                   "[register_description] controller is not set")  # fmt: skip
    with demo.open("a", encoding="utf-8") as config:
        config.write('\n[register_description]\ncontroller = "Itä-Uudenmaan hyvinvointialue"\n'
                     'dpo_contact = "tietosuoja@example.invalid"\n')  # fmt: skip
    text = cli("register-description")
    assert text.code == 0, text.err
    assert "Controller: Itä-Uudenmaan hyvinvointialue" in text.out
    assert "No personal data is transferred outside the EU/EEA." in text.out
    document = json.loads(cli("register-description", "--json").out)
    codes = {o["org"] for o in document["retention"]["organisations"]}
    assert {"ITU", "KESKI"} <= codes and document["security"]


def test_register_description_without_a_register(tmp_path: Path) -> None:
    """Where the register cannot be opened (none here), the rule text stands alone."""
    from tests.e2e.conftest import run_cli

    config = tmp_path / "config.toml"
    config.write_text(f'[register]\ndata_dir = "{tmp_path / "none"}"\n'
                      '[register_description]\ncontroller = "Hyvinvointialue X"\n')  # fmt: skip
    shown = run_cli(config, "register-description", "--json")
    assert shown.code == 0, shown.err
    retention = json.loads(shown.out)["retention"]
    assert retention["rule"].startswith("Recordings are kept") and "organisations" not in retention
    text = run_cli(config, "register-description").out
    assert "Retention:" in text and "Purposes of processing:" in text


@pytest.mark.parametrize("failing", ["subject.export.record", "subject.export"])
def test_no_copy_without_its_events(
    cli: Cli, demo: Path, imported: dict[str, int], tmp_path: Path, failing: str
) -> None:
    from tests.e2e.test_fail_closed import fail_audit_on

    assert cli("subject", "request", "add", "TS-9", "--kind", "access", "--received",
               date.today().isoformat(), "--phone", "0401234567").code == 0  # fmt: skip
    fail_audit_on(demo, failing)
    to = tmp_path / "copy"
    result = cli("subject", "export", "0401234567", "--to", str(to), "--request-ref", "TS-9")
    assert result.code == 5 and "audit log" in result.err and "Traceback" not in result.err
    assert not to.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".copy")]
    listed = [json.loads(x) for x in cli("subject", "request", "list", "--json").out.splitlines()]
    assert listed[0]["answered"] is None


def test_no_disclosed_copy_without_its_log_entry(
    cli: Cli, demo: Path, imported: dict[str, int], tmp_path: Path
) -> None:
    from tests.e2e.test_fail_closed import fail_audit_on

    assert cli("subject", "request", "add", "POL-2", "--kind", "authority", "--received",
               date.today().isoformat()).code == 0  # fmt: skip
    fail_audit_on(demo, "disclose")  # the entry's event, written after staging the copy
    to = tmp_path / "pol"
    some = str(min(imported.values()))
    result = cli("disclose", some, "--authority", "Poliisi", "--legal-basis", "L",
                 "--request-ref", "POL-2", "--to", str(to))  # fmt: skip
    assert result.code == 5 and "Traceback" not in result.err
    assert not to.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".pol")]
    assert cli("disclosures", "list", "--json").out == ""
