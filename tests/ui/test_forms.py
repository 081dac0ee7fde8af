"""The forms' text as domain values (pure): a new case, recordings to link, a sample's
draw; each wrong field named, as the filter bar's."""

from __future__ import annotations

from datetime import date

import pytest

from kaiku_tui.ui.case_forms import new_case, record_ids
from kaiku_tui.ui.filters import FormError
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.samples import sample_request

EN = Texts("en")
CASE = {"ref": "PAL-9", "org": "ITU", "received": "20.11.2026", "summary": "Ei soittoa"}
DRAW = {"per_agent": "2", "date_from": "01.11.2026", "date_to": "30.11.2026",
        "min_duration": "", "max_duration": "20:00", "agents": "Aino, Bertta, Aino",
        "seed": "7"}  # fmt: skip


def test_a_new_case() -> None:
    case = new_case(CASE, EN)
    assert case.received == date(2026, 11, 20) and case.summary == "Ei soittoa"


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("ref", "PAL 9", "no spaces"),
        ("org", "", "Choose an organisation."),
        ("received", "31.11.2026", "is not a date"),
        ("summary", "  ", "A case needs a summary."),
        ("summary", "x" * 2001, "at most 2,000 characters"),
    ],
)
def test_a_new_case_names_the_wrong_field(field: str, value: str, words: str) -> None:
    with pytest.raises(FormError, match=words) as caught:
        new_case({**CASE, field: value}, EN)
    assert caught.value.field == field


def test_recordings_to_link() -> None:
    assert record_ids("12 13, 12", EN) == [12, 13]
    for text in ("", "12 x"):
        with pytest.raises(FormError) as caught:
            record_ids(text, EN)
        assert caught.value.field == "records"


def test_a_draw() -> None:
    where, per_agent, agents, seed = sample_request(DRAW, EN)
    assert (per_agent, agents, seed) == (2, ("Aino", "Bertta"), 7)
    assert where.max_duration == 1200 and where.min_duration is None
    assert sample_request({**DRAW, "agents": ""}, EN)[2] == ()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("per_agent", "0", "at least 1"),
        ("date_from", "1.13.2026", "is not a date"),
        ("date_to", "01.10.2026", "is after the last"),
        ("min_duration", "pitkä", "is not a duration"),
        ("max_duration", "0:30", "is above the longest"),  # min 1:00 is above it
        ("seed", "", "at least 0"),
    ],
)
def test_a_draw_names_the_wrong_field(field: str, value: str, words: str) -> None:
    values = {**DRAW, field: value}
    if field == "max_duration":
        values["min_duration"] = "1:00"
    with pytest.raises(FormError, match=words) as caught:
        sample_request(values, EN)
    assert caught.value.field == field
