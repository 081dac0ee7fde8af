"""The filter bar's presets and fields, as filters: pure, with "today" given."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kaiku_tui.domain.recording import Channel
from kaiku_tui.ui.filters import FilterForm, FormError, to_filter
from kaiku_tui.ui.presets import DatePreset, DurationPreset, histogram_edges

TODAY = date(2026, 11, 28)


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("preset", "start", "before"),
    [
        (DatePreset.TODAY, "2026-11-27T22:00", "2026-11-28T22:00"),
        (DatePreset.YESTERDAY, "2026-11-26T22:00", "2026-11-27T22:00"),
        (DatePreset.LAST_7, "2026-11-21T22:00", "2026-11-28T22:00"),
        (DatePreset.THIS_MONTH, "2026-10-31T22:00", "2026-11-28T22:00"),
    ],
)
def test_date_presets_are_helsinki_days(preset: DatePreset, start: str, before: str) -> None:
    where = to_filter(FilterForm(dates=preset), TODAY)
    assert (where.started_from, where.started_before) == (utc(start), utc(before))


def test_last_7_days_across_the_change_to_winter_time() -> None:
    where = to_filter(FilterForm(dates=DatePreset.LAST_7), date(2026, 10, 27))
    # 21.10. 00:00 EEST (+3) .. 28.10. 00:00 EET (+2): 7 days and one hour
    assert where.started_from == utc("2026-10-20T21:00")
    assert where.started_before == utc("2026-10-27T22:00")


def test_custom_dates_in_either_format() -> None:
    form = FilterForm(dates=DatePreset.CUSTOM, date_from="01.11.2026", date_to="2026-11-02")
    where = to_filter(form, TODAY)
    assert where.started_from == utc("2026-10-31T22:00")
    assert where.started_before == utc("2026-11-02T22:00")
    assert (
        to_filter(FilterForm(dates=DatePreset.CUSTOM, date_to="02.11.2026"), TODAY).started_from
        is None
    )


@pytest.mark.parametrize(
    ("preset", "low", "high"),
    [
        (DurationPreset.UNDER_1, None, 59),
        (DurationPreset.FROM_1_TO_5, 60, 299),
        (DurationPreset.FROM_5_TO_15, 300, 899),
        (DurationPreset.OVER_15, 900, None),
        (DurationPreset.ANY, None, None),
    ],
)
def test_duration_presets_tile_without_overlap(
    preset: DurationPreset, low: int | None, high: int | None
) -> None:
    where = to_filter(FilterForm(durations=preset), TODAY)
    assert (where.min_duration, where.max_duration) == (low, high)


def test_custom_durations_and_the_rest() -> None:
    form = FilterForm(
        durations=DurationPreset.CUSTOM,
        min_duration="1:30",
        max_duration="1h",
        channel=Channel.CHAT,
        org="ITU",
        agent=" Aino ",
        tag="complaint",
        phone="040 123 4567",
    )
    where = to_filter(form, TODAY)
    assert (where.min_duration, where.max_duration) == (90, 3600)
    assert (where.channel, where.orgs, where.agent, where.tag) == (
        Channel.CHAT, ("ITU",), "Aino", "complaint"
    )  # fmt: skip
    assert where.phone == "+358401234567"


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        (FilterForm(dates=DatePreset.CUSTOM, date_from="31.02.2026"), "date_from", "not a date"),
        (FilterForm(dates=DatePreset.CUSTOM, date_to="huomenna"), "date_to", "not a date"),
        (
            FilterForm(dates=DatePreset.CUSTOM, date_from="02.11.2026", date_to="01.11.2026"),
            "date_to",
            "empty",
        ),
        (
            FilterForm(durations=DurationPreset.CUSTOM, min_duration="5 min"),
            "min_duration",
            "5 min",
        ),
        (
            FilterForm(durations=DurationPreset.CUSTOM, min_duration="10:00", max_duration="5:00"),
            "max_duration",
            "above the maximum",
        ),
        (FilterForm(phone="12ab"), "phone", "not a phone number"),
    ],
)
def test_a_bad_field_is_named(form: FilterForm, field: str, words: str) -> None:
    with pytest.raises(FormError) as caught:
        to_filter(form, TODAY)
    assert caught.value.field == field and words in str(caught.value)


def test_histogram_edges() -> None:
    edges = histogram_edges(None, None, TODAY)
    assert len(edges) == 31 and edges[-1] == utc("2026-11-28T22:00")
    where = to_filter(FilterForm(dates=DatePreset.YESTERDAY), TODAY)
    assert histogram_edges(where.started_from, where.started_before, TODAY) == [
        utc("2026-11-26T22:00"),
        utc("2026-11-27T22:00"),
    ]
    year = histogram_edges(utc("2025-11-28T22:00"), utc("2026-11-28T22:00"), TODAY)
    assert len(year) <= 61  # at most 60 bars: several days a bar
