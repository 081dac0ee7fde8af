"""The retention rule and the legal-hold rule, pure."""

from __future__ import annotations

from datetime import date

import pytest

from kaiku_tui.domain.access import Purpose
from kaiku_tui.domain.dates import day_start
from kaiku_tui.domain.retention import (
    EVERYTHING,
    Hold,
    RetentionRule,
    check_retention_days,
    cutoff,
    days_left,
    destruction_date,
    due,
    hold_purpose,
    refusing_hold,
)
from kaiku_tui.errors import UsageError

# 28.11.2026 00:30 in Helsinki is still 27.11. in UTC: the local day counts.
LATE = day_start(date(2026, 11, 28)) + 30 * 60


def rule(days: int | None = None, end: date | None = None, grace: int = 90) -> RetentionRule:
    return RetentionRule("ITU", days, end, grace)


def test_the_earlier_bound_wins_with_its_reason() -> None:
    assert destruction_date(rule(30), LATE) == date(2026, 12, 28)
    assert due(rule(30), LATE) is not None
    ended = rule(30, date(2026, 10, 31), grace=30)
    found = due(ended, LATE)
    assert found is not None and found.on == date(2026, 11, 30)
    assert found.reason == "contract ended 2026-10-31 + grace 30"
    assert due(rule(1), LATE) == due(rule(1, date(2030, 1, 1)), LATE)
    assert destruction_date(rule(), LATE) is None


def test_days_left_for_the_browse_column() -> None:
    assert days_left(rule(30), LATE, date(2026, 12, 1)) == 27
    assert days_left(rule(30), LATE, date(2026, 12, 28)) == 0
    assert days_left(rule(30), LATE, date(2027, 1, 1)) == -4
    assert days_left(rule(), LATE, date(2026, 12, 1)) is None


@pytest.mark.parametrize("days", [1, 30, 365])
def test_cutoff_agrees_with_the_destruction_date(days: int) -> None:
    """A recording is before the cutoff of a day exactly when it is due by that day."""
    r = rule(days)
    for day in (date(2026, 12, 1), date(2027, 3, 29), date(2027, 10, 31)):
        bound = cutoff(r, day)
        assert bound is not None
        for started in (bound - 1, bound, bound + 1, bound - 86_400):
            on = destruction_date(r, started)
            assert on is not None and (on <= day) == (started < bound)


def test_a_contract_that_is_over_makes_everything_due() -> None:
    r = rule(None, date(2026, 1, 31), grace=90)
    assert cutoff(r, date(2026, 4, 30)) is None  # 31.1. + 90 days = 1.5.
    assert cutoff(r, date(2026, 5, 1)) == EVERYTHING
    assert cutoff(rule(), date(2026, 5, 2)) is None


def test_retention_days_are_checked() -> None:
    assert check_retention_days(None) is None and check_retention_days(365) == 365
    for bad in (0, -1, 100_000):
        with pytest.raises(UsageError, match="--retention-days"):
            check_retention_days(bad)


def hold(purpose: Purpose, released: bool = False) -> Hold:
    return Hold(1, 5, None, "riita", "KO-1", purpose, "sari", 0, *(("a", 1) if released else ()))


def test_a_held_recording_is_used_only_for_a_holds_purpose() -> None:
    legal = hold(Purpose.LEGAL_HOLD)
    assert refusing_hold([], Purpose.QUALITY) is None
    assert refusing_hold([legal], Purpose.QUALITY) is legal
    assert refusing_hold([legal], Purpose.LEGAL_HOLD) is None
    assert refusing_hold([legal, hold(Purpose.BREACH)], Purpose.BREACH) is None
    assert refusing_hold([hold(Purpose.LEGAL_HOLD, released=True)], Purpose.QUALITY) is None


def test_a_holds_purpose_is_one_of_three() -> None:
    assert hold_purpose("authority") is Purpose.AUTHORITY
    with pytest.raises(UsageError, match="legal-hold, authority, breach"):
        hold_purpose("quality")
