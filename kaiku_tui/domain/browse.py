"""What a person asks of the register's list: filters, sort orders, keyset cursors, pages."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields, replace

from kaiku_tui.domain.recording import Channel, Direction, RecordingSummary
from kaiku_tui.errors import UsageError


@dataclass(frozen=True)
class RecordingFilter:
    """Criteria of a search. None means "not filtered"; times are UTC epoch seconds.

    `started_from` is inclusive and `started_before` exclusive, so that days
    tile without overlap. `orgs` empty means every organisation the person may
    see (the register narrows it to the person's scope).
    """

    started_from: int | None = None
    started_before: int | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    channel: Channel | None = None
    direction: Direction | None = None
    orgs: tuple[str, ...] = ()
    agent: str | None = None
    phone: str | None = None  # E.164; the index searches its blind index
    tag: str | None = None

    def __post_init__(self) -> None:
        for name in ("min_duration", "max_duration"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise UsageError(f"{name.replace('_', ' ')} {value} is negative")
        lo, hi = self.min_duration, self.max_duration
        if lo is not None and hi is not None and lo > hi:
            raise UsageError(f"minimum duration {lo} s is above the maximum {hi} s")
        a, b = self.started_from, self.started_before
        if a is not None and b is not None and a >= b:
            raise UsageError("the date range is empty: 'from' is not before 'to'")

    def criteria(self) -> dict[str, object]:
        """The filter as JSON-able criteria for the audit log (phone left out: see subject)."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == () or f.name == "phone":
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else _plain(value)
        if self.phone is not None:
            out["phone"] = "(by number)"
        return out

    def with_orgs(self, orgs: tuple[str, ...]) -> RecordingFilter:
        return replace(self, orgs=orgs)


def _plain(value: object) -> object:
    return value if isinstance(value, int) else str(value)


class SortKey(enum.StrEnum):
    DATE = "date"
    DURATION = "duration"


@dataclass(frozen=True)
class Sort:
    """A sort order. Every order ends in the record id, so rows never tie."""

    key: SortKey = SortKey.DATE
    descending: bool = True

    @classmethod
    def parse(cls, text: str) -> Sort:
        """`date`, `-date`, `duration`, `-duration` (the minus means newest/longest first)."""
        name = text.lstrip("-")
        try:
            key = SortKey(name)
        except ValueError:
            raise UsageError(
                f"sort {text!r} is not one of date, -date, duration, -duration"
            ) from None
        return cls(key, text.startswith("-"))

    def reversed(self) -> Sort:
        return Sort(self.key, not self.descending)

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.key.value

    def key_of(self, row: RecordingSummary) -> Cursor:
        if self.key is SortKey.DATE:
            return Cursor((row.started_at, row.id))
        return Cursor((row.duration_s, row.started_at, row.id))


@dataclass(frozen=True)
class Cursor:
    """A position between rows in a sort order: the sort columns of a row.

    Paging is keyset: a page is the rows strictly after (or before) a cursor,
    never an OFFSET, so a page deep in ten million rows costs what the first does.
    """

    values: tuple[int, ...]


@dataclass(frozen=True)
class Page:
    rows: tuple[RecordingSummary, ...]
    sort: Sort
    has_before: bool
    has_after: bool

    @property
    def first(self) -> Cursor | None:
        return self.sort.key_of(self.rows[0]) if self.rows else None

    @property
    def last(self) -> Cursor | None:
        return self.sort.key_of(self.rows[-1]) if self.rows else None


@dataclass(frozen=True)
class Count:
    """How many rows a filter matches; `exact` is False when the count stopped at a cap."""

    value: int
    exact: bool

    def __str__(self) -> str:
        return f"{self.value:,}".replace(",", "\u00a0") + ("" if self.exact else "+")
