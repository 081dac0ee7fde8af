"""The data subject's rights: requests and their deadline, disclosures, premises review.

Pure rules, no I/O. A request is recorded when it is received and answered when
the copy (or the log report) is handed over; GDPR art. 12(3) gives one month
from receipt. A disclosure is a copy handed to an authority with a legal basis.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, timedelta

from kaiku_tui.domain.access import Action
from kaiku_tui.errors import UsageError

NEAR_DAYS = 7  # a request this close to its deadline is warned about
DATA_SUBJECT = "data subject"  # the recipient of an access copy, in the audit log


class RequestKind(enum.StrEnum):
    ACCESS = "access"  # GDPR art. 15: a copy of the recordings
    LOG = "log"  # Act 703/2023 §11: who handled them
    AUTHORITY = "authority"  # an authority's request with a legal basis

    @classmethod
    def parse(cls, text: str) -> RequestKind:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(k.value for k in cls)
            raise UsageError(f"request kind {text!r} is not one of {names}") from None


class Urgency(enum.StrEnum):
    ANSWERED = "answered"
    OPEN = "open"
    NEAR = "near"  # unanswered, deadline within NEAR_DAYS
    OVERDUE = "overdue"  # unanswered past its deadline


@dataclass(frozen=True)
class SubjectRequest:
    ref: str
    kind: RequestKind
    received: date
    answered: date | None
    subject: str | None  # the phone number's blind index, hex (None: an authority's by ids)
    handled_by: str  # login of the DPO who recorded it

    @property
    def deadline(self) -> date:
        return one_month_after(self.received)

    def urgency(self, today: date) -> Urgency:
        if self.answered is not None:
            return Urgency.ANSWERED
        if today > self.deadline:
            return Urgency.OVERDUE
        if self.deadline - today <= timedelta(days=NEAR_DAYS):
            return Urgency.NEAR
        return Urgency.OPEN


def one_month_after(day: date) -> date:
    """The same day of the next month, or that month's last day if it has no such day
    (31 January → 28/29 February), as periods in months are counted in EU law
    (Regulation 1182/71 art. 3(2)(c))."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def check_request_ref(text: str) -> str:
    ref = text.strip()
    if not ref or len(ref) > 80 or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in ref):
        raise UsageError(f"request reference {text!r}: 1 to 80 characters, no spaces or controls")
    return ref


def check_free_text(what: str, text: str, limit: int = 500) -> str:
    """An authority's name or a legal basis: one line, not empty."""
    body = " ".join(text.split())
    if not body:
        raise UsageError(f"{what} must not be empty")
    if len(body) > limit or any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in body):
        raise UsageError(f"{what}: at most {limit} characters, no control characters")
    return body


@dataclass(frozen=True)
class Disclosure:
    """One entry of the disclosure log (luovutusloki)."""

    id: int
    at: int  # UTC epoch seconds
    by: str  # login
    authority: str
    legal_basis: str
    request_ref: str
    record_ids: tuple[int, ...]
    manifest_sha256: str


# What a review at the premises may do: find the person's recordings, read their
# transcripts and listen. Nothing that changes the register or leaves it (notes, tags,
# cases, export) and nothing beyond the recordings themselves (notes are the staff's
# assessments, reached through the access copy, not at a screen shown to the customer).
PREMISES_ACTIONS = frozenset({Action.SEARCH, Action.RECORD_OPEN, Action.AUDIO_PLAY})


@dataclass(frozen=True)
class PremisesReview:
    """A session flagged as a data subject's review at the premises (GDPR art. 15)."""

    request_ref: str
    subject: str  # blind index hex: only this person's recordings may be shown

    def permits(self, action: Action) -> bool:
        return action in PREMISES_ACTIONS
