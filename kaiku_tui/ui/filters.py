"""What the filter bar holds, as typed text, and the RecordingFilter it means.

Pure: the bar hands its fields over as a `FilterForm`; `to_filter` turns them
into a `RecordingFilter` or raises a `FormError` naming the field that is
wrong (shown under the bar; the list keeps the last good result meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from kaiku_tui.domain import phone as phones
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.dates import HELSINKI, day_end, day_start, parse_date, parse_duration
from kaiku_tui.domain.recording import Channel, Direction
from kaiku_tui.errors import UsageError
from kaiku_tui.ui.presets import DatePreset, DurationPreset, date_range, duration_range

T = TypeVar("T")


class FormError(UsageError):
    """A field of the filter bar holds something that is not a filter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class FilterForm:
    dates: DatePreset = DatePreset.ANY
    date_from: str = ""
    date_to: str = ""
    durations: DurationPreset = DurationPreset.ANY
    min_duration: str = ""
    max_duration: str = ""
    channel: Channel | None = None
    direction: Direction | None = None
    org: str | None = None
    agent: str = ""
    tag: str = ""
    phone: str = ""

    def changed(self, **fields: Any) -> FilterForm:
        """A copy with some fields changed (the bar's widgets are named as the fields)."""
        return replace(self, **fields)


@contextmanager
def blame(field: str) -> Iterator[None]:
    try:
        yield
    except FormError:
        raise
    except UsageError as err:
        raise FormError(field, str(err)) from None


def _parsed(form: FilterForm, field: str, parse: Callable[[str], T]) -> T | None:
    text = str(getattr(form, field)).strip()
    if not text:
        return None
    with blame(field):
        return parse(text)


def to_filter(form: FilterForm, today: date, tz: ZoneInfo = HELSINKI) -> RecordingFilter:
    if form.dates is DatePreset.CUSTOM:
        start = _parsed(form, "date_from", lambda s: day_start(parse_date(s, "from"), tz))
        before = _parsed(form, "date_to", lambda s: day_end(parse_date(s, "to"), tz))
    else:
        start, before = date_range(form.dates, today, tz)
    if form.durations is DurationPreset.CUSTOM:
        low = _parsed(form, "min_duration", lambda s: parse_duration(s, "minimum duration"))
        high = _parsed(form, "max_duration", lambda s: parse_duration(s, "maximum duration"))
    else:
        low, high = duration_range(form.durations)
    phone = _parsed(form, "phone", phones.normalise)
    with blame("date_to" if start is not None and before is not None else "max_duration"):
        return RecordingFilter(
            started_from=start,
            started_before=before,
            min_duration=low,
            max_duration=high,
            channel=form.channel,
            direction=form.direction,
            orgs=(form.org,) if form.org else (),
            agent=form.agent.strip() or None,
            phone=phone,
            tag=form.tag.strip() or None,
        )
