"""The command-line contract: commands, JSON shapes, exit codes, audit of every action."""

from __future__ import annotations

import json
import os
import pwd
import sqlite3
from pathlib import Path

from kaiku_tui.config import load
from tests.conftest import data_key_file
from tests.e2e.conftest import Cli, run_cli

ME = pwd.getpwuid(os.getuid()).pw_name


def events(config: Path) -> list[dict[str, object]]:
    db = sqlite3.connect(config.parent / "index.sqlite3")
    try:
        return [json.loads(b) for (b,) in db.execute("SELECT body FROM audit_event ORDER BY seq")]
    finally:
        db.close()


def test_query_json_shape_and_audit(cli: Cli, demo: Path) -> None:
    result = cli("query", "--limit", "3", "--json")
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert len(rows) == 3
    keys = {"id", "org", "channel", "direction", "started_at", "duration_s", "agent", "phone"}
    assert keys | {"source_id", "has_audio", "has_transcript", "tags"} <= set(rows[0])
    assert rows[0]["started_at"] >= rows[1]["started_at"]  # newest first
    assert all("•" in r["phone"] or r["phone"] == "" for r in rows)
    search = [e for e in events(demo) if e["action"] == "search"][-1]
    assert search["actor"] == ME and search["result_count"] == 3
    assert search["revealed"] == [str(r["id"]) for r in rows]


def test_query_filters_and_sort(cli: Cli) -> None:
    result = cli(
        "query", "--min-duration", "5:00", "--max-duration", "15:00", "--channel", "call",
        "--sort", "-duration", "--limit", "20", "--json",
    )  # fmt: skip
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert rows and all(300 <= r["duration_s"] <= 900 and r["channel"] == "call" for r in rows)
    assert [r["duration_s"] for r in rows] == sorted((r["duration_s"] for r in rows), reverse=True)


def test_reveal_phone_needs_purpose_and_is_audited(cli: Cli, demo: Path) -> None:
    refused = cli("query", "--limit", "1", "--reveal-phone")
    assert refused.code == 2 and "--purpose" in refused.err and refused.out == ""
    shown = cli("query", "--limit", "1", "--reveal-phone", "--purpose", "verify", "--json")
    row = json.loads(shown.out)
    reveal = [e for e in events(demo) if e["action"] == "phone.reveal"][-1]
    assert reveal["purpose"] == "verify" and reveal["target"] == str(row["id"])
    if row["phone"]:
        assert row["phone"].startswith("+358") and "•" not in row["phone"]
        by_number = cli("query", "--phone", "0" + row["phone"][4:], "--json")
        assert str(row["id"]) in by_number.out


def test_show_json_has_transcript(cli: Cli, demo: Path) -> None:
    first = json.loads(cli("query", "--limit", "1", "--json").out)
    result = cli("show", str(first["id"]), "--purpose", "quality", "--json")
    assert result.code == 0, result.err
    shown = json.loads(result.out)
    assert shown["id"] == first["id"] and shown["transcript"]
    assert {"at", "speaker", "role", "text"} == set(shown["transcript"][0])
    opened = [e for e in events(demo) if e["action"] == "record.open"][-1]
    assert opened["purpose"] == "quality" and opened["target"] == str(first["id"])


def test_bad_arguments_one_line_exit_2(cli: Cli) -> None:
    for args, words in [
        (("query", "--from", "31.02.2026"), "--from '31.02.2026' is not a date"),
        (("query", "--min-duration", "lots"), "--min-duration 'lots' is not a duration"),
        (("query", "--phone", "12"), "phone number '12'"),
        (("show", "1", "--purpose", "curiosity"), "purpose 'curiosity' is not one of"),
        (("query", "--sort", "size"), "sort 'size'"),
        (("persons", "add", "x", "--role", "boss"), "role 'boss' is not one of"),
        (("orgs", "add", "bad code", "--name", "n", "--contract-end", "2027-01-01"), "code"),
        (("nonsense",), "kaiku-tui: argument COMMAND: invalid choice"),
        (("hold", "set", "--recording", "1", "--reason", "r"),
         "kaiku-tui: hold set: the following arguments are required: --ref"),  # named once
    ]:  # fmt: skip
        result = cli(*args)
        assert result.code == 2, (args, result)
        assert words in result.err and len(result.err.strip().splitlines()) == 1
        assert "Traceback" not in result.err and result.out == ""


def test_persons_and_denials(cli: Cli, demo: Path) -> None:
    assert cli("persons", "add", "liisa", "--role", "reviewer", "--org", "ITU").code == 0
    listed = cli("persons", "list", "--json")
    liisa = next(json.loads(x) for x in listed.out.splitlines() if '"liisa"' in x)
    assert liisa["roles"] == ["reviewer"] and liisa["orgs"] == ["ITU"]
    assert cli("persons", "add", "liisa", "--role", "dpo").code == 2  # exists
    # Take away this login's admin role: managing persons is then refused, and audited.
    assert cli("persons", "set", ME, "--role", "reviewer").code == 0
    denied = cli("persons", "add", "other", "--role", "admin")
    assert denied.code == 4 and "may not person.manage" in denied.err
    last = [e for e in events(demo) if e["outcome"] == "denied"][-1]
    assert last["action"] == "person.manage" and last["actor"] == ME
    # A reviewer may not reveal numbers.
    assert cli("query", "--limit", "1", "--reveal-phone", "--purpose", "verify").code == 4


def test_not_a_named_person_is_refused_and_audited(cli: Cli, demo: Path) -> None:
    cli("persons", "add", "helper", "--role", "admin")
    cli("persons", "set", "helper", "--role", "admin")
    assert cli("persons", "disable", ME).code == 0
    refused = cli("query")
    assert refused.code == 4 and "not an active named person" in refused.err
    last = events(demo)[-1]
    assert (last["action"], last["outcome"], last["actor"]) == ("session.open", "denied", ME)


def test_scope_limits_what_is_seen(cli: Cli) -> None:
    cli("persons", "set", ME, "--role", "supervisor", "--org", "LAHTI")
    rows = [json.loads(x) for x in cli("query", "--limit", "40", "--json").out.splitlines()]
    assert rows and {r["org"] for r in rows} == {"LAHTI"}
    assert cli("query", "--org", "ITU").code == 4


def test_orgs(cli: Cli) -> None:
    assert (
        cli("orgs", "add", "VANTAA", "--name", "Vantaa", "--contract-end", "31.12.2027").code == 0
    )
    listed = [json.loads(x) for x in cli("orgs", "list", "--json").out.splitlines()]
    vantaa = {"code": "VANTAA", "name": "Vantaa", "contract_end": "2027-12-31"}
    assert {**vantaa, "retention_days": None} in listed


def test_audit_show_and_verify(cli: Cli) -> None:
    shown = cli("audit", "show", "--action", "ingest", "--json")
    assert shown.code == 0 and all(
        json.loads(x)["action"] == "ingest" for x in shown.out.splitlines()
    )
    verified = cli("audit", "verify")
    assert verified.code == 0 and verified.out.startswith("ok:")


def test_init_fresh_register(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "config.toml"
    result = run_cli(config, "init", "--data-dir", str(tmp_path / "data"))
    assert result.code == 0, result.err
    key = data_key_file(load(config))
    assert key.stat().st_mode & 0o777 == 0o600
    assert run_cli(config, "init").code == 2  # never overwrites a key
    listed = run_cli(config, "persons", "list", "--json")
    assert json.loads(listed.out)["roles"] == ["admin"]


def test_audit_retain_dry_run_cut_and_refusals(cli: Cli, demo: Path) -> None:
    """The demo's events are all from today: nothing to cut, said so, audited; a day in
    the future is one line, exit 2; without the admin role, exit 4."""
    plan = cli("audit", "retain")
    assert plan.code == 0 and plan.out.startswith("nothing to cut: events before "), plan.err
    assert "within the rule" in plan.out
    cut = cli("audit", "retain", "--yes")
    assert cut.code == 0 and cut.out.startswith("nothing to cut"), cut.err
    future = cli("audit", "retain", "--yes", "--as-of", "2999-01-01")
    assert future.code == 2 and "after today" in future.err
    assert len(future.err.strip().splitlines()) == 1 and "Traceback" not in future.err
    retained = [e for e in events(demo) if e["action"] == "audit.retain"]
    assert [e["outcome"] for e in retained] == ["ok", "ok", "error"]
    assert cli("audit", "verify").code == 0
    assert cli("persons", "set", ME, "--role", "dpo").code == 0
    denied = cli("audit", "retain")
    assert denied.code == 4 and "may not audit.retain" in denied.err
