"""The filter bar's presets, as pure functions of "today": which days, which durations.

A date preset becomes a half-open range of UTC epoch seconds between local
midnights (Europe/Helsinki unless told), so that a day is the day people mean
even across a daylight-saving change.
"""

from __future__ import annotations

import enum
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from kaiku_tui.domain.dates import (
    HELSINKI,
    day_end,
    day_start,
    local,
)

Range = tuple[int | None, int | None]


class DatePreset(enum.StrEnum):
    ANY = "any"
    TODAY = "today"
    YESTERDAY = "yesterday"
    LAST_7 = "last7"
    THIS_MONTH = "month"
    CUSTOM = "custom"


class DurationPreset(enum.StrEnum):
    ANY = "any"
    UNDER_1 = "lt1"
    FROM_1_TO_5 = "1-5"
    FROM_5_TO_15 = "5-15"
    OVER_15 = "gt15"
    CUSTOM = "custom"


def preset_days(preset: DatePreset, today: date) -> tuple[date, date] | None:
    """The first and last day a preset covers (None: any day). Not for CUSTOM."""
    first = {
        DatePreset.ANY: None,
        DatePreset.TODAY: today,
        DatePreset.YESTERDAY: today - timedelta(days=1),
        DatePreset.LAST_7: today - timedelta(days=6),
        DatePreset.THIS_MONTH: today.replace(day=1),
    }[preset]
    if first is None:
        return None
    return first, first if preset is DatePreset.YESTERDAY else today


def date_range(preset: DatePreset, today: date, tz: ZoneInfo = HELSINKI) -> Range:
    """The started-at range of a preset: (from inclusive, before exclusive). Not for CUSTOM."""
    days = preset_days(preset, today)
    if days is None:
        return None, None
    return day_start(days[0], tz), day_end(days[1], tz)


_DURATIONS: dict[DurationPreset, Range] = {
    DurationPreset.ANY: (None, None),
    DurationPreset.UNDER_1: (None, 59),
    DurationPreset.FROM_1_TO_5: (60, 299),
    DurationPreset.FROM_5_TO_15: (300, 899),
    DurationPreset.OVER_15: (900, None),
}


def duration_range(preset: DurationPreset) -> Range:
    """Duration bounds in whole seconds, both inclusive (as RecordingFilter takes them)."""
    return _DURATIONS[preset]


def histogram_edges(
    start: int | None, before: int | None, today: date, tz: ZoneInfo = HELSINKI, bars: int = 60
) -> list[int]:
    """Local midnights that cut the date range into at most `bars` buckets of whole days.

    With no date filter, the last 30 days. A bucket is one day, or several when
    the range is longer than `bars` days.
    """
    last = today if before is None else local(before - 1, tz).date()
    first = last - timedelta(days=29) if start is None else local(start, tz).date()
    days = (last - first).days + 1
    step = max(1, -(-days // bars))
    edges = [day_start(first + timedelta(days=i), tz) for i in range(0, days, step)]
    return edges + [day_end(last, tz)]
