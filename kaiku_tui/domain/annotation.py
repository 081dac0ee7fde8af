"""What supervisors and reviewers add to a recording: notes, tags, feedback cases, samples.

Pure rules, no I/O: what a tag may look like, how a case's status may move,
how a coaching sample is drawn so that the same seed draws the same sample.
"""

from __future__ import annotations

import enum
import random
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from kaiku_tui.domain.dates import day_end, day_start
from kaiku_tui.domain.recording import RecordingSummary
from kaiku_tui.errors import UsageError

# The managed vocabulary: tags with an agreed meaning, offered first in the lists.
MANAGED_TAGS: dict[str, str] = {
    "coaching:empathy": "empathy and tone",
    "coaching:process": "the process was not followed",
    "coaching:information": "information given was wrong or missing",
    "good-example": "a model conversation for training",
    "complaint": "the customer complained",
}
_TAG = re.compile(r"[a-z0-9åäö][a-z0-9åäö:_-]{0,39}")


def check_tag(text: str) -> str:
    """A tag in its one spelling: lower case, no spaces, at most 40 characters."""
    tag = text.strip().lower()
    if not _TAG.fullmatch(tag):
        raise UsageError(
            f"tag {text!r} is not a tag: use lower-case letters, digits, ':', '-' or '_', "
            "at most 40 characters, no spaces"
        )
    return tag


def is_managed(tag: str) -> bool:
    return tag in MANAGED_TAGS


@dataclass(frozen=True)
class Anchor:
    """Where a note points: a second of a call, a message of a chat, or the whole."""

    at_s: float | None = None  # seconds from the start of a call
    message: int | None = None  # index of a chat message

    def __post_init__(self) -> None:
        if self.at_s is not None and self.message is not None:
            raise UsageError("a note points at a time or at a message, not both")
        if self.at_s is not None and self.at_s < 0:
            raise UsageError(f"note time {self.at_s} s is negative")
        if self.message is not None and self.message < 0:
            raise UsageError(f"message number {self.message} is negative")

    @property
    def whole(self) -> bool:
        return self.at_s is None and self.message is None


@dataclass(frozen=True)
class NoteVersion:
    """One version of a note. Editing adds a version; withdrawing adds one too."""

    note_id: int
    version: int
    record_id: int
    author: str
    written_at: int  # UTC epoch seconds
    text: str
    anchor: Anchor = Anchor()
    withdrawn: bool = False


@dataclass(frozen=True)
class Note:
    """A note with its whole history, oldest version first; the last one is current."""

    note_id: int
    record_id: int
    versions: tuple[NoteVersion, ...]

    @property
    def current(self) -> NoteVersion:
        return self.versions[-1]

    @property
    def author(self) -> str:
        return self.versions[0].author

    @property
    def withdrawn(self) -> bool:
        return self.current.withdrawn


@dataclass(frozen=True)
class TagCount:
    """A tag of the vocabulary with how many recordings carry it (managed first in lists)."""

    tag: str
    count: int
    managed: bool
    meaning: str = ""


def vocabulary(in_use: Sequence[tuple[str, int]]) -> list[TagCount]:
    """The managed tags (used or not) first, then the free tags in use, by name."""
    counts = dict(in_use)
    managed = [TagCount(t, counts.get(t, 0), True, m) for t, m in MANAGED_TAGS.items()]
    free = [TagCount(t, n, False) for t, n in sorted(counts.items()) if t not in MANAGED_TAGS]
    return managed + free


def check_note_text(text: str) -> str:
    body = text.strip()
    if not body:
        raise UsageError("a note needs some text")
    if len(body) > 10_000:
        raise UsageError(f"a note is at most 10,000 characters ({len(body):,} given)")
    return body


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
    CLOSED = "closed"


# Forward one step at a time; a resolved case may be reopened for more
# investigation; a closed one is final (a new case refers to it instead).
_MOVES: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.INVESTIGATING}),
    CaseStatus.INVESTIGATING: frozenset({CaseStatus.RESOLVED}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.CLOSED, CaseStatus.INVESTIGATING}),
    CaseStatus.CLOSED: frozenset(),
}


def check_move(current: CaseStatus, to: CaseStatus) -> None:
    if to not in _MOVES[current]:
        allowed = ", ".join(sorted(s.value for s in _MOVES[current])) or "nothing (it is final)"
        raise UsageError(f"a case that is {current.value} can move to {allowed}, not {to.value}")


@dataclass(frozen=True)
class FeedbackCase:
    """A customer feedback case (palautetapaus) and the recordings it concerns."""

    id: int
    ref: str  # its reference in the customer-feedback system
    org: str
    received: str  # ISO date
    summary: str
    status: CaseStatus = CaseStatus.OPEN
    owner: str = ""
    findings: str = ""
    resolution: str = ""
    records: tuple[int, ...] = field(default=())


def check_case_ref(text: str) -> str:
    ref = text.strip()
    if not ref or len(ref) > 80 or any(c.isspace() or ord(c) < 32 for c in ref):
        raise UsageError(f"case reference {text!r}: 1 to 80 characters, no spaces or controls")
    return ref


def check_case_text(what: str, text: str, limit: int = 20_000) -> str:
    body = text.strip()
    if len(body) > limit:
        raise UsageError(f"{what} is at most {limit:,} characters ({len(body):,} given)")
    return body


@dataclass(frozen=True)
class CaseFilter:
    status: CaseStatus | None = None
    orgs: tuple[str, ...] = ()  # empty: every organisation in the person's scope
    before_id: int | None = None  # the next page: ids below the last one shown
    limit: int = 200

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= 10_000:
            raise UsageError(f"limit {self.limit} is not between 1 and 10,000")

    def criteria(self) -> dict[str, object]:
        out: dict[str, object] = {"limit": self.limit}
        if self.before_id is not None:
            out["before_id"] = self.before_id
        if self.status is not None:
            out["status"] = self.status.value
        if self.orgs:
            out["orgs"] = list(self.orgs)
        return out


@dataclass(frozen=True)
class CaseFile:
    """What `cases export` writes: the case, its findings, its recordings' metadata."""

    case: FeedbackCase
    recordings: tuple[RecordingSummary, ...]


CRITERIA = ("greeting", "understanding", "accuracy", "empathy", "closing")


@dataclass(frozen=True)
class Score:
    """A reviewer's scoring of one sampled recording: each criterion 1-5, and a comment."""

    record_id: int
    scores: tuple[tuple[str, int], ...]
    comment: str = ""

    def __post_init__(self) -> None:
        names = [name for name, _ in self.scores]
        if sorted(names) != sorted(CRITERIA):
            raise UsageError(f"a score gives each of {', '.join(CRITERIA)} once")
        for name, value in self.scores:
            if not 1 <= value <= 5:
                raise UsageError(f"score for {name} is {value}; scores are 1 to 5")


SEED_LIMIT = 2**31  # a seed a person can read out and type back


def random_seed() -> int:
    """A seed for a sample drawn without one given (shown, and stored with it)."""
    return secrets.randbelow(SEED_LIMIT)


def draw_sample(candidates: Sequence[int], per_agent: int, seed: int) -> list[int]:
    """`per_agent` of the candidate record ids, drawn reproducibly for the seed.

    The candidates are sorted first, so the draw depends on which recordings
    qualify, not on the order the index happened to return them in.
    """
    if per_agent < 1:
        raise UsageError(f"a sample needs at least one recording per agent ({per_agent} given)")
    pool = sorted(set(candidates))
    return sorted(random.Random(seed).sample(pool, min(per_agent, len(pool))))


@dataclass(frozen=True)
class SampleSpec:
    """What a coaching sample is drawn from: agents, a date range, duration bounds, N, seed."""

    agents: tuple[str, ...]
    started_from: int  # UTC epoch seconds, inclusive
    started_before: int  # exclusive
    per_agent: int
    seed: int
    min_duration: int | None = None
    max_duration: int | None = None

    def __post_init__(self) -> None:
        if not self.agents:
            raise UsageError("a sample needs at least one agent")
        if self.started_from >= self.started_before:
            raise UsageError("the sample's date range is empty: 'from' is not before 'to'")
        if self.per_agent < 1:
            raise UsageError(f"a sample needs at least one recording per agent ({self.per_agent})")

    def criteria(self) -> dict[str, object]:
        return {
            "agents": list(self.agents), "from": self.started_from, "before": self.started_before,
            "per_agent": self.per_agent, "seed": self.seed, "min_duration": self.min_duration,
            "max_duration": self.max_duration,
        }  # fmt: skip

    @classmethod
    def from_criteria(cls, data: dict[str, object]) -> SampleSpec:
        def num(key: str) -> int | None:
            value = data.get(key)
            return None if value is None else int(str(value))

        agents = data.get("agents")
        return cls(
            tuple(str(a) for a in agents) if isinstance(agents, list) else (),
            num("from") or 0, num("before") or 0, num("per_agent") or 0, num("seed") or 0,
            num("min_duration"), num("max_duration"),
        )  # fmt: skip


@dataclass(frozen=True)
class CoachingSample:
    """A drawn sample: who drew it, when, from what, and the recordings drawn, in order."""

    id: int
    drawn_by: str
    drawn_at: int
    spec: SampleSpec
    record_ids: tuple[int, ...]


@dataclass(frozen=True)
class RecordedScore:
    scorer: str
    scored_at: int
    score: Score


def scored_by(scores: Sequence[RecordedScore], scorer: str) -> frozenset[int]:
    """The recordings of a sample that `scorer` has scored (the rest are still to do)."""
    return frozenset(s.score.record_id for s in scores if s.scorer == scorer)


def parse_criterion(text: str) -> tuple[str, int]:
    """`empathy=4` → ("empathy", 4); a criterion of CRITERIA, scored 1 to 5."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or name not in CRITERIA:
        raise UsageError(f"--criterion {text!r}: give NAME=1..5, NAME one of {', '.join(CRITERIA)}")
    try:
        score = int(value)
    except ValueError:
        raise UsageError(f"--criterion {text!r}: {value!r} is not a number 1..5") from None
    if not 1 <= score <= 5:
        raise UsageError(f"--criterion {text!r}: scores are 1 to 5")
    return name, score


def sample_window(
    first: date, last: date, low: int | None, high: int | None
) -> tuple[int, int, int | None, int | None]:
    """The days (`last` inclusive, Helsinki) and duration bounds a sample is drawn from,
    as `SampleSpec` holds them."""
    if first > last:
        raise UsageError(f"the first day {first:%d.%m.%Y} is after the last {last:%d.%m.%Y}")
    if low is not None and high is not None and low > high:
        raise UsageError(f"the shortest duration {low} s is above the longest {high} s")
    return day_start(first), day_end(last), low, high
