"""orgs set, retention plan|purge and hold set|list|release on the command line."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--retention-days", "abc"), "--retention-days 'abc' is not a number of days"),
        (("--retention-days", "0"), "--retention-days 0 must be 1..36500"),
        (("--contract-end", "31.13.2027"), "--contract-end '31.13.2027' is not a date"),
        ((), "give --contract-end and/or --retention-days"),
    ],
)
def test_orgs_set_refuses_bad_values_in_one_line(
    cli: Cli, args: tuple[str, ...], message: str
) -> None:
    result = cli("orgs", "set", "ITU", *args)
    assert result.code == 2 and message in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_orgs_set_changes_the_rule_and_list_shows_it(cli: Cli) -> None:
    assert cli("orgs", "set", "NOPE", "--retention-days", "5").code == 2
    done = cli("orgs", "set", "ITU", "--retention-days", "30", "--contract-end", "none")
    assert done.code == 0 and "contract end none, retention days 30" in done.out
    listed = {o["code"]: o for o in map(json.loads, cli("orgs", "list", "--json").out.splitlines())}
    assert (listed["ITU"]["retention_days"], listed["ITU"]["contract_end"]) == (30, None)
    events = [
        json.loads(x)
        for x in cli("audit", "show", "--action", "org.set", "--json").out.splitlines()
    ]
    assert events[-1]["criteria"] == {
        "contract_end": ["2028-12-31", None], "retention_days": [None, 30],
    }  # fmt: skip


def only_itu_due(cli: Cli) -> None:
    """ITU keeps 30 days; the demo's LAHTI rule (60 days) off, so ITU's are all that is due."""
    assert cli("orgs", "set", "LAHTI", "--retention-days", "none").code == 0
    assert cli("orgs", "set", "ITU", "--retention-days", "30").code == 0


def test_plan_then_purge_then_show_says_destroyed(cli: Cli) -> None:
    only_itu_due(cli)
    plan = {
        p["org"]: p for p in map(json.loads, cli("retention", "plan", "--json").out.splitlines())
    }
    itu = plan["ITU"]
    assert itu["due_now"] > 0 and itu["first_due"][0]["reason"] == "retention 30 days"
    assert plan["KESKI"]["due_now"] == 0 and plan["KESKI"]["first_due"] == []
    text = cli("retention", "plan", "--org", "ITU")
    assert text.code == 0 and f"due now: {itu['due_now']}" in text.out
    later = json.loads(
        cli("retention", "plan", "--org", "KESKI", "--as-of", "2027-10-01", "--json").out
    )
    assert later["key_shred_due"] is True  # 30.6.2027 + 90 days is past

    refused = cli("retention", "purge")  # no terminal: never destroys on a guess
    assert refused.code == 2 and "pass --yes" in refused.err
    purged = cli("retention", "purge", "--yes")
    assert purged.code == 0, purged.err
    assert f"destroyed {itu['due_now']} recordings" in purged.out
    first = itu["first_due"][0]["id"]
    shown = cli("show", str(first), "--purpose", "quality")
    assert shown.code == 2 and f"recording {first} was destroyed on" in shown.err
    after = json.loads(cli("retention", "plan", "--org", "ITU", "--json").out)
    assert after["due_now"] == 0
    assert cli("audit", "verify").code == 0


def test_holds_on_the_command_line(cli: Cli) -> None:
    listed = json.loads(cli("query", "--org", "ITU", "--limit", "1", "--json").out)
    record = str(listed["id"])
    bad = cli(
        "hold", "set", "--recording", record, "--reason", "x", "--ref", "R", "--purpose", "quality"
    )
    assert bad.code == 2 and "a hold's purpose is one of" in bad.err
    done = cli("hold", "set", "--recording", record, "--reason", "riita", "--ref", "KO-1")
    assert done.code == 0 and done.out.startswith("hold ")
    hold_id = done.out.split()[1]
    holds = [json.loads(x) for x in cli("hold", "list", "--json").out.splitlines()]
    assert [(str(h["id"]), str(h["recording"]), h["purpose"]) for h in holds] == [
        (hold_id, record, "legal-hold"),
    ]
    assert cli("hold", "release", hold_id).code == 0
    assert cli("hold", "list", "--json").out == ""
    assert cli("hold", "release", hold_id).code == 2


def purge_on_a_terminal(config: Path, answer: bytes) -> tuple[int, str]:
    """`retention purge` with a terminal on stdin (a pty), answering its question."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("KAIKU_CONFIG", "KAIKU_MASTER_KEY")}
    try:
        os.write(master, answer)
        done = subprocess.run(
            [sys.executable, "-m", "kaiku_tui", "--config", str(config), "retention", "purge"],
            stdin=slave, capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
    finally:
        os.close(master)
        os.close(slave)
    return done.returncode, done.stdout


def test_purge_on_a_terminal_shows_the_plan_and_asks(cli: Cli, demo: Path) -> None:
    only_itu_due(cli)
    due = json.loads(cli("retention", "plan", "--org", "ITU", "--json").out)["due_now"]
    code, out = purge_on_a_terminal(demo, b"no\n")
    assert code == 0 and "due now:" in out and f"destroy {due} recordings" in out
    assert "nothing destroyed" in out
    assert json.loads(cli("retention", "plan", "--org", "ITU", "--json").out)["due_now"] == due
    code, out = purge_on_a_terminal(demo, b"yes\n")
    assert code == 0 and f"destroyed {due} recordings" in out
