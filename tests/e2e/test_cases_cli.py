"""`cases`, `tags` and `notes` on the command line: output, JSON shapes, exit codes, audit.

The demo makes the login an admin and a supervisor (no scope)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.e2e.conftest import Cli
from tests.e2e.test_cli import ME, events

HOSTILE = "Soittaja \x1b[31mpunainen\u202e"


def first_ids(cli: Cli, n: int) -> tuple[list[int], str]:
    rows = [json.loads(x) for x in cli("query", "--limit", str(n), "--json").out.splitlines()]
    return [r["id"] for r in rows], rows[0]["org"]


def test_case_add_link_move_show_list_export(cli: Cli, demo: Path, tmp_path: Path) -> None:
    (one, two), org = first_ids(cli, 2)
    added = cli("cases", "add", "PAL-17", "--org", org, "--summary", HOSTILE,
                "--received", "02.05.2026")  # fmt: skip
    assert added.code == 0, added.err
    case_id = added.out.split()[1]
    assert cli("cases", "link", case_id, str(one), str(two)).code == 0
    assert cli("cases", "move", case_id, "investigating").code == 0
    done = cli("cases", "set", case_id, "--findings", "Ohje oli väärä")
    assert done.code == 0, done.err
    shown = json.loads(cli("cases", "show", case_id, "--json").out)
    assert shown["status"] == "investigating" and shown["records"] == sorted([one, two])
    assert shown["findings"] == "Ohje oli väärä" and shown["received"] == "2026-05-02"
    assert shown["summary"] == HOSTILE  # JSON carries it, escaped (json_safe)
    text = cli("cases", "list")
    assert "PAL-17" in text.out and "\x1b" not in text.out and "\u202e" not in text.out
    listed = [json.loads(x) for x in cli("cases", "list", "--status", "investigating",
                                          "--json").out.splitlines()]  # fmt: skip
    ours = [c for c in listed if c["ref"] == "PAL-17"]  # the demo has an investigated one too
    assert len(ours) == 1 and ours[0]["findings"] == ""
    assert {c["ref"] for c in listed} == {"PAL-17", "PAL-2026-0101"}
    assert cli("cases", "list", "--status", "closed", "--json").out == ""
    target = tmp_path / "case.json"
    exported = cli("cases", "export", case_id, "--to", str(target))
    assert exported.code == 0, exported.err
    document = json.loads(target.read_text())
    assert document["case"]["findings"] == "Ohje oli väärä"
    assert [r["id"] for r in document["recordings"]] == sorted([one, two])
    assert "transcript" not in document["recordings"][0]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    again = cli("cases", "export", case_id, "--to", str(target))
    assert again.code == 2 and "--to" in again.err and len(again.err.splitlines()) == 1
    by_action = {e["action"]: e for e in events(demo) if e["actor"] == ME}
    for action in ("case.add", "case.link", "case.move", "case.set", "case.read", "case.list"):
        assert by_action[action]["outcome"] == "ok"
    assert by_action["case.export"]["recipient"] == str(target.resolve())


def test_case_errors_name_the_argument(cli: Cli) -> None:
    (one,), org = first_ids(cli, 1)
    added = cli("cases", "add", "PAL-1", "--org", org, "--summary", "s")
    assert added.code == 0, added.err
    case_id = added.out.split()[1]  # the demo has cases of its own
    for args, words, code in [
        (("cases", "add", "PAL-1", "--org", org, "--summary", "s"), "exists already", 2),
        (("cases", "add", "PAL-2", "--org", org, "--summary", "s", "--received", "x"),
         "--received 'x' is not a date", 2),
        (("cases", "move", case_id, "closed"), "can move to investigating", 2),
        (("cases", "move", case_id, "done"), "invalid choice", 2),
        (("cases", "show", "999"), "case 999 does not exist", 2),
        (("cases", "link", case_id, "99999999"), "recording 99999999 does not exist", 2),
    ]:  # fmt: skip
        result = cli(*args)
        assert result.code == code and words in result.err, (args, result.err)
        assert len(result.err.splitlines()) == 1


def test_tags_and_notes_for_scripts(cli: Cli, demo: Path) -> None:
    (one,), _ = first_ids(cli, 1)
    assert cli("tags", "add", str(one), "coaching:empathy").code == 0
    vocabulary = [json.loads(x) for x in cli("tags", "list", "--json").out.splitlines()]
    counts = {t["tag"]: t for t in vocabulary}
    assert counts["coaching:empathy"]["count"] >= 1 and counts["coaching:empathy"]["managed"]
    tagged = cli("query", "--tag", "coaching:empathy", "--json").out
    assert str(one) in [str(json.loads(x)["id"]) for x in tagged.splitlines()]
    assert "removed" in cli("tags", "remove", str(one), "coaching:empathy").out
    assert cli("tags", "add", str(one), "Two Words").code == 2
    added = cli("notes", "add", str(one), "Hyvä \x1b[2J tervehdys", "--at", "12.5")
    assert added.code == 0, added.err
    listed = cli("notes", "list", str(one), "--purpose", "quality")
    assert "@12.5s" in listed.out and "\x1b" not in listed.out and "␛" in listed.out
    note = json.loads(cli("notes", "list", str(one), "--purpose", "quality", "--json").out)
    assert note["versions"][0]["at_s"] == 12.5 and note["versions"][0]["author"] == ME
    no_purpose = cli("notes", "list", str(one))
    assert no_purpose.code == 2 and "--purpose" in no_purpose.err
    actions = [e["action"] for e in events(demo) if e["actor"] == ME]
    assert {"tag.add", "tag.remove", "tag.list", "note.add", "note.read"} <= set(actions)


def test_a_reviewer_may_not_handle_cases(cli: Cli, demo: Path) -> None:
    assert cli("persons", "set", ME, "--role", "reviewer").code == 0
    refused = cli("cases", "add", "PAL-3", "--org", "X", "--summary", "s")
    assert refused.code == 4 and "may not case.manage" in refused.err
    assert cli("cases", "list").code == 4
    assert cli("tags", "list").code == 0
