"""The command line of coaching samples: `samples draw|list|show|score|scores` (issue 7).

A face like annotations.py: arguments into a `SampleSpec` or a `Score`,
one Register call, output through the sanitiser (text) or `json_safe` (JSON).
Without `--agent`, a sample is drawn for every agent with recordings in the
range (`register.coaching.agents`); without `--seed`, with a random seed,
which is printed and stored, so the draw can be repeated.
"""

from __future__ import annotations

import argparse

from kaiku_tui.cli.common import AddParser, Handlers
from kaiku_tui.cli.output import print_json
from kaiku_tui.domain.annotation import (
    CRITERIA,
    CoachingSample,
    RecordedScore,
    SampleSpec,
    Score,
    parse_criterion,
    random_seed,
    sample_window,
    scored_by,
)
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.dates import fmt_date, fmt_time, iso, parse_date
from kaiku_tui.domain.dates import parse_duration as duration
from kaiku_tui.domain.text import sanitise
from kaiku_tui.errors import EXIT_OK, UsageError
from kaiku_tui.register import Register


def add_commands(add: AddParser) -> None:
    samples = add("samples", help="coaching samples for reviewers")
    ssub = samples.add_subparsers(dest="action", metavar="ACTION", required=True)
    draw = ssub.add_parser("draw", help="draw N recordings per agent (seeded, recorded)")
    draw.add_argument("--per-agent", type=int, required=True, metavar="N")
    draw.add_argument("--from", dest="date_from", required=True, metavar="D", help="first day")
    draw.add_argument("--to", dest="date_to", required=True, metavar="D", help="last day")
    draw.add_argument("--min-duration", metavar="S", help="seconds, m:ss or h:mm:ss")
    draw.add_argument("--max-duration", metavar="S")
    draw.add_argument("--agent", action="append", default=[], metavar="A",
                      help="(repeatable) default: every agent in the range")  # fmt: skip
    draw.add_argument("--seed", type=int, metavar="N", help="default: a random one, printed")
    draw.add_argument("--json", action="store_true")
    ssub.add_parser("list", help="the samples drawn, newest first").add_argument(
        "--json", action="store_true"
    )
    show = ssub.add_parser("show", help="a sample: its criteria, recordings, your progress")
    show.add_argument("sample_id", type=int, metavar="ID")
    show.add_argument("--json", action="store_true")
    score = ssub.add_parser("score", help="score one recording of a sample (once)")
    score.add_argument("sample_id", type=int, metavar="ID")
    score.add_argument("record_id", type=int, metavar="RECORD_ID")
    score.add_argument("--criterion", action="append", default=[], metavar="NAME=1..5",
                       help=f"each of {', '.join(CRITERIA)} once")  # fmt: skip
    score.add_argument("--comment", default="", metavar="TEXT")
    scores = ssub.add_parser("scores", help="the scores given in a sample")
    scores.add_argument("sample_id", type=int, metavar="ID")
    scores.add_argument("--json", action="store_true")


def range_of(args: argparse.Namespace) -> RecordingFilter:
    """The days (`--to` inclusive) and duration bounds the sample is drawn from."""
    first = parse_date(args.date_from, "--from")
    last = parse_date(args.date_to, "--to")
    low = duration(args.min_duration, "--min-duration") if args.min_duration else None
    high = duration(args.max_duration, "--max-duration") if args.max_duration else None
    return RecordingFilter(*sample_window(first, last, low, high))


async def _draw(args: argparse.Namespace, register: Register) -> int:
    where = range_of(args)
    if args.per_agent < 1:
        raise UsageError(f"--per-agent {args.per_agent}: at least 1")
    agents = tuple(a.strip() for a in args.agent if a.strip())
    if not agents:
        agents = tuple(await register.coaching.agents(where))
        if not agents:
            raise UsageError("--from/--to: no recordings of any agent in that range")
    seed = random_seed() if args.seed is None else args.seed
    assert where.started_from is not None and where.started_before is not None
    spec = SampleSpec(agents, where.started_from, where.started_before, args.per_agent, seed,
                      where.min_duration, where.max_duration)  # fmt: skip
    sample = await register.coaching.draw(spec)
    if args.json:
        print_json(sample_json(sample))
    else:
        print(f"sample {sample.id} drawn with seed {seed}: "
              f"{len(sample.record_ids)} recording(s) of {len(agents)} agent(s)")  # fmt: skip
        print(" ".join(map(str, sample.record_ids)))
    return EXIT_OK


async def _list(args: argparse.Namespace, register: Register) -> int:
    for sample in await register.coaching.samples():
        print_json(sample_json(sample)) if args.json else print(sample_line(sample))
    return EXIT_OK


async def _show(args: argparse.Namespace, register: Register) -> int:
    sample = await register.coaching.sample(args.sample_id)
    done = scored_by(await register.coaching.scores(sample.id), register.person.login)
    if args.json:
        print_json({**sample_json(sample), "scored_by_you": sorted(done)})
        return EXIT_OK
    print(sample_line(sample))
    print(f"  scored by you: {len(done & set(sample.record_ids))} of {len(sample.record_ids)}")
    for record_id in sample.record_ids:
        print(f"  {record_id:>8} {'scored' if record_id in done else 'to score'}")
    return EXIT_OK


async def _score(args: argparse.Namespace, register: Register) -> int:
    given = [parse_criterion(c) for c in args.criterion]
    if sorted(name for name, _ in given) != sorted(CRITERIA):
        raise UsageError(f"--criterion: give each of {', '.join(CRITERIA)} once "
                         f"({len(given)} given)")  # fmt: skip
    await register.coaching.score(args.sample_id, Score(args.record_id, tuple(given), args.comment))
    print(f"sample {args.sample_id}: recording {args.record_id} scored")
    return EXIT_OK


async def _scores(args: argparse.Namespace, register: Register) -> int:
    for given in await register.coaching.scores(args.sample_id):
        print_json(score_json(given)) if args.json else print(score_line(given))
    return EXIT_OK


def sample_json(sample: CoachingSample) -> dict[str, object]:
    spec = sample.spec
    return {
        "id": sample.id, "drawn_by": sample.drawn_by, "drawn_at": iso(sample.drawn_at),
        "agents": list(spec.agents), "from": iso(spec.started_from),
        "before": iso(spec.started_before), "per_agent": spec.per_agent, "seed": spec.seed,
        "min_duration": spec.min_duration, "max_duration": spec.max_duration,
        "records": list(sample.record_ids),
    }  # fmt: skip


def sample_line(sample: CoachingSample) -> str:
    spec = sample.spec
    days = f"{fmt_date(spec.started_from)}–{fmt_date(spec.started_before - 1)}"
    text = (f"{sample.id:>6} {fmt_date(sample.drawn_at)} {sample.drawn_by:<12} {days} "
            f"{spec.per_agent}/agent seed {spec.seed} {len(sample.record_ids)} recording(s) "
            f"{', '.join(spec.agents)}")  # fmt: skip
    return sanitise(text[:300])


def score_json(given: RecordedScore) -> dict[str, object]:
    return {"record_id": given.score.record_id, "scorer": given.scorer,
            "scored_at": iso(given.scored_at), "scores": dict(given.score.scores),
            "comment": given.score.comment}  # fmt: skip


def score_line(given: RecordedScore) -> str:
    when = f"{fmt_date(given.scored_at)} {fmt_time(given.scored_at)}"
    values = " ".join(f"{k}={v}" for k, v in given.score.scores)
    return sanitise(f"{given.score.record_id:>8} {given.scorer:<12} {when} {values} "
                    f"{given.score.comment}".rstrip())  # fmt: skip


HANDLERS: Handlers = {
    ("samples", "draw"): _draw,
    ("samples", "list"): _list,
    ("samples", "show"): _show,
    ("samples", "score"): _score,
    ("samples", "scores"): _scores,
}
