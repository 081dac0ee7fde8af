"""`samples` on the command line: draw (seeded, reproducible), list, show, score, scores.

The demo makes the login an admin and a supervisor (no scope): supervisors annotate."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Cli
from tests.e2e.test_cli import ME, events

SCORES = ("--criterion", "greeting=4", "--criterion", "understanding=5", "--criterion",
          "accuracy=3", "--criterion", "empathy=4", "--criterion", "closing=2")  # fmt: skip


def newest_day(cli: Cli) -> str:
    row = json.loads(cli("query", "--limit", "1", "--json").out.splitlines()[0])
    return str(row["started_at"])[:10]


def test_draw_show_score_and_read_the_scores(cli: Cli, demo: Path) -> None:
    day = newest_day(cli)
    drawn = cli("samples", "draw", "--per-agent", "2", "--from", day, "--to", day,
                "--seed", "42", "--json")  # fmt: skip
    assert drawn.code == 0, drawn.err
    sample = json.loads(drawn.out)
    assert sample["seed"] == 42 and sample["agents"] and sample["records"]
    assert len(sample["records"]) <= 2 * len(sample["agents"])
    again = json.loads(cli("samples", "draw", "--per-agent", "2", "--from", day, "--to", day,
                           "--seed", "42", "--json").out)  # fmt: skip
    assert again["records"] == sample["records"] and again["id"] != sample["id"]
    unseeded = cli("samples", "draw", "--per-agent", "1", "--from", day, "--to", day)
    assert unseeded.code == 0 and "drawn with seed " in unseeded.out
    listed = [json.loads(x) for x in cli("samples", "list", "--json").out.splitlines()]
    assert [s["id"] for s in listed][1:] == [again["id"], sample["id"]]
    sid, first = str(sample["id"]), str(sample["records"][0])
    scored = cli("samples", "score", sid, first, *SCORES, "--comment", "hyvä \x1b[2J lopetus")
    assert scored.code == 0, scored.err
    shown = cli("samples", "show", sid)
    assert f"scored by you: 1 of {len(sample['records'])}" in shown.out
    assert json.loads(cli("samples", "show", sid, "--json").out)["scored_by_you"] == [int(first)]
    (given,) = [json.loads(x) for x in cli("samples", "scores", sid, "--json").out.splitlines()]
    assert given["scores"]["closing"] == 2 and given["comment"] == "hyvä \x1b[2J lopetus"
    text = cli("samples", "scores", sid).out
    assert "closing=2" in text and "\x1b" not in text
    actions = [e["action"] for e in events(demo) if e["actor"] == ME]
    assert {"sample.draw", "sample.list", "sample.read", "sample.score",
            "sample.scores", "agent.list"} <= set(actions)  # fmt: skip


def test_bad_sample_input_is_one_line(cli: Cli) -> None:
    day = newest_day(cli)
    drawn = cli("samples", "draw", "--per-agent", "1", "--from", day, "--to", day, "--json")
    sample = json.loads(drawn.out)
    sid, first = str(sample["id"]), str(sample["records"][0])
    base = ("samples", "draw", "--per-agent", "1")
    for args, words in [
        ((*base, "--from", "31.02.2026", "--to", day), "--from '31.02.2026' is not a date"),
        ((*base, "--from", day, "--to", "2020-01-01"), "is after the last"),
        (("samples", "draw", "--per-agent", "0", "--from", day, "--to", day), "--per-agent 0"),
        ((*base, "--from", day, "--to", day, "--min-duration", "pitkä"),
         "--min-duration 'pitkä' is not a duration"),
        ((*base, "--from", "2001-01-01", "--to", "2001-01-02"), "no recordings of any agent"),
        (("samples", "show", "999"), "sample 999 does not exist"),
        (("samples", "scores", "999"), "sample 999 does not exist"),
        (("samples", "score", sid, first, "--criterion", "empathy=9"), "scores are 1 to 5"),
        (("samples", "score", sid, first, "--criterion", "tone=3"), "NAME one of greeting"),
        (("samples", "score", sid, first, "--criterion", "empathy=4"), "give each of greeting"),
        (("samples", "score", sid, "99999999", *SCORES), "not in sample"),
    ]:  # fmt: skip
        result = cli(*args)
        assert result.code == 2 and words in result.err, (args, result.err)
        assert len(result.err.splitlines()) == 1
