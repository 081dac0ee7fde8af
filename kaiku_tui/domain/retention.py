"""Retention and legal holds: when a recording is destroyed, and what keeps it.

Pure rules, no I/O. An organisation's rule has two bounds and the earlier one
wins: at most `retention_days` after the recording's day (Helsinki), and never
past the contract's end plus a grace period (`[retention] grace_days` in the
configuration, one value for the register). A recording under an active legal
hold is never destroyed, and while held it is opened only for a hold's purpose.

The destruction date is computed, not stored: changing a rule (`orgs set`)
moves every date at once without rewriting a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from kaiku_tui.domain.access import Purpose
from kaiku_tui.domain.dates import day_start, fmt_date, local
from kaiku_tui.domain.recording import Channel
from kaiku_tui.errors import UsageError

DEFAULT_GRACE_DAYS = 90
UPCOMING_DAYS = 30  # the plan's look-ahead
EVERYTHING = 2**62  # a cutoff past every recording (the contract bound has passed)
HOLD_PURPOSES = (Purpose.LEGAL_HOLD, Purpose.AUTHORITY, Purpose.BREACH)
MAX_RETENTION_DAYS = 36_500


@dataclass(frozen=True)
class RetentionRule:
    org: str
    retention_days: int | None
    contract_end: date | None
    grace_days: int = DEFAULT_GRACE_DAYS

    @property
    def contract_bound(self) -> date | None:
        """The last day anything of the organisation may be kept until."""
        if self.contract_end is None:
            return None
        return self.contract_end + timedelta(days=self.grace_days)


@dataclass(frozen=True)
class Due:
    """When a recording is destroyed and why (as the plan and the tombstone say)."""

    on: date
    reason: str


def recording_day(started_at: int) -> date:
    return local(started_at).date()


def destruction_date(rule: RetentionRule, started_at: int) -> date | None:
    """The day the recording is destroyed: the earlier bound; None if the rule has none."""
    found = due(rule, started_at)
    return None if found is None else found.on


def due(rule: RetentionRule, started_at: int) -> Due | None:
    bounds: list[Due] = []
    if rule.retention_days is not None:
        on = recording_day(started_at) + timedelta(days=rule.retention_days)
        bounds.append(Due(on, f"retention {rule.retention_days} days"))
    if rule.contract_bound is not None and rule.contract_end is not None:
        reason = f"contract ended {rule.contract_end.isoformat()} + grace {rule.grace_days}"
        bounds.append(Due(rule.contract_bound, reason))
    return min(bounds, key=lambda d: d.on) if bounds else None


def days_left(rule: RetentionRule, started_at: int, today: date) -> int | None:
    """Days until destruction (0 or less: due now); None: no rule. For the browse column
    "destroyed in N days"."""
    on = destruction_date(rule, started_at)
    return None if on is None else (on - today).days


def cutoff(rule: RetentionRule, day: date) -> int | None:
    """UTC epoch seconds: the recordings that started before it are due by `day`.
    None: nothing is ever due under this rule. The plan's and the purge's index range."""
    found: list[int] = []
    bound = rule.contract_bound
    if bound is not None and bound <= day:
        found.append(EVERYTHING)
    if rule.retention_days is not None:
        # day(started) + N <= day  <=>  started before the start of (day - N + 1)
        found.append(day_start(day - timedelta(days=rule.retention_days - 1)))
    return max(found) if found else None


def check_retention_days(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_RETENTION_DAYS:
        raise UsageError(f"--retention-days {value} must be 1..{MAX_RETENTION_DAYS} (or none)")
    return value


# -- legal holds ---------------------------------------------------------------------


@dataclass(frozen=True)
class Hold:
    """A legal hold on one recording, or on a feedback case (all its recordings, also
    those linked later). Released holds stay, with who released them and when."""

    id: int  # 0 for a new hold
    record_id: int | None
    case_id: int | None
    reason: str
    ref: str
    purpose: Purpose
    set_by: str
    set_at: int
    released_by: str | None = None
    released_at: int | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None

    @property
    def target(self) -> str:
        return f"case:{self.case_id}" if self.case_id is not None else str(self.record_id)


def hold_purpose(text: str) -> Purpose:
    purpose = Purpose.parse(text)
    if purpose not in HOLD_PURPOSES:
        names = ", ".join(p.value for p in HOLD_PURPOSES)
        raise UsageError(f"--purpose {text!r}: a hold's purpose is one of {names}")
    return purpose


def check_hold_text(reason: str, ref: str) -> tuple[str, str]:
    reason, ref = reason.strip(), ref.strip()
    if not reason or len(reason) > 500:
        raise UsageError("--reason must be 1-500 characters")
    if not ref or len(ref) > 100:
        raise UsageError("--ref must be 1-100 characters")
    return reason, ref


def refusing_hold(holds: Sequence[Hold], purpose: Purpose) -> Hold | None:
    """The hold that refuses opening a held recording for `purpose`, or None if it may be.

    The one place the rule lives: while held, a recording is used only for the purpose
    of one of its active holds."""
    active = [h for h in holds if h.active]
    if not active or any(h.purpose is purpose for h in active):
        return None
    return active[0]


# -- what is left, and what the plan says ----------------------------------------------


@dataclass(frozen=True)
class Tombstone:
    """A destroyed recording: when and why, no content (`show ID` says so)."""

    id: int
    org: str
    channel: Channel
    started_at: int
    duration_s: int
    destroyed_at: int
    reason: str

    def describe(self) -> str:
        return f"recording {self.id} was destroyed on {fmt_date(self.destroyed_at)} ({self.reason})"


@dataclass(frozen=True)
class Planned:
    """One recording in the plan: when it goes and why, or the hold that keeps it."""

    id: int
    started_at: int
    due: Due | None
    hold: Hold | None = None


@dataclass(frozen=True)
class OrgPlan:
    org: str
    rule: RetentionRule
    due_now: int  # not held
    first_due: tuple[Planned, ...]
    upcoming: int  # due within UPCOMING_DAYS, not held
    first_upcoming: tuple[Planned, ...]
    held: tuple[Planned, ...]  # due now or soon, kept by a hold
    shred_due: bool  # contract + grace over: the key goes once nothing is left
    key_destroyed: bool


@dataclass(frozen=True)
class RetentionPlan:
    as_of: date
    orgs: tuple[OrgPlan, ...]

    @property
    def due_now(self) -> int:
        return sum(o.due_now for o in self.orgs)
