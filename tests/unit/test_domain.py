"""Phone numbers, dates, durations, sort parsing, filters and the sanitiser."""

from __future__ import annotations

from datetime import date

import pytest

from kaiku_tui.domain import phone
from kaiku_tui.domain.browse import RecordingFilter, Sort, SortKey
from kaiku_tui.domain.dates import (
    day_end,
    day_start,
    fmt_duration,
    parse_date,
    parse_duration,
)
from kaiku_tui.domain.text import json_safe, sanitise
from kaiku_tui.errors import UsageError


@pytest.mark.parametrize(
    "raw", ["040 123 4567", "+358401234567", "00358401234567", "040-1234567", "+358 40 123 4567"]
)
def test_finnish_formats_are_one_number(raw: str) -> None:
    assert phone.normalise(raw) == "+358401234567"


def test_landline_and_foreign() -> None:
    assert phone.normalise("09 310 1691") == "+35893101691"
    assert phone.normalise("+46 70 123 45 67") == "+46701234567"


@pytest.mark.parametrize("bad", ["", "abc", "123", "040 123 4567 8901 2345"])
def test_bad_numbers_are_named(bad: str) -> None:
    with pytest.raises(UsageError, match="phone number"):
        phone.normalise(bad)


def test_mask_hides_subscriber_part() -> None:
    assert phone.mask("+358401234567") == "+358 40 ••• ••67"
    assert phone.mask(None) == ""
    masked = phone.mask("+35893101691")
    assert masked.endswith("91") and "310" not in masked


def test_dates_both_spellings() -> None:
    assert parse_date("2026-11-28") == parse_date("28.11.2026") == date(2026, 11, 28)
    with pytest.raises(UsageError, match="--from '2026-13-01' is not a date"):
        parse_date("2026-13-01", "--from")


def test_day_bounds_are_helsinki_midnights() -> None:
    # 28.11.2026 is winter time, UTC+2: local midnight is 22:00 UTC the day before.
    assert day_start(date(2026, 11, 28)) == 1795816800
    assert day_end(date(2026, 11, 28)) - day_start(date(2026, 11, 28)) == 86400
    # The day clocks go back (25.10.2026) has 25 hours.
    assert day_end(date(2026, 10, 25)) - day_start(date(2026, 10, 25)) == 90000


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("1:30", 90), ("1:02:03", 3723), ("5m", 300), ("1h", 3600)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["x", "-5", "1:xx", ""])
def test_bad_durations(bad: str) -> None:
    with pytest.raises(UsageError, match="not a duration"):
        parse_duration(bad, "--min-duration")


def test_fmt_duration() -> None:
    assert fmt_duration(59) == "0:59"
    assert fmt_duration(3723) == "1:02:03"


def test_sort_parse() -> None:
    assert Sort.parse("-duration") == Sort(SortKey.DURATION, True)
    assert Sort.parse("date") == Sort(SortKey.DATE, False)
    with pytest.raises(UsageError, match="sort 'size'"):
        Sort.parse("size")


def test_filter_rejects_nonsense() -> None:
    with pytest.raises(UsageError, match="above the maximum"):
        RecordingFilter(min_duration=60, max_duration=30)
    with pytest.raises(UsageError, match="date range is empty"):
        RecordingFilter(started_from=10, started_before=10)


def test_filter_criteria_never_hold_the_number() -> None:
    criteria = RecordingFilter(phone="+358401234567", min_duration=5).criteria()
    assert "+358401234567" not in str(criteria) and criteria["min_duration"] == 5


def test_sanitiser_makes_controls_visible() -> None:
    hostile = "a\x1b[2J\x1b]0;title\x07\u202eevil\x9b31m\x7f"
    shown = sanitise(hostile)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)
    assert "\u202e" not in shown and "␛[2J" in shown and "<U+202E>" in shown
    assert sanitise("rivi\nrivi", keep_newlines=True) == "rivi\nrivi"
    assert "\u202e" not in json_safe('"\u202e"')
