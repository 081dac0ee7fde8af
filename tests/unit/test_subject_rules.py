"""The data subject's rules without I/O: the one-month deadline, references, the
register description's configuration."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kaiku_tui.config import from_mapping, load
from kaiku_tui.domain.access import Action
from kaiku_tui.domain.subject import (
    PremisesReview,
    RequestKind,
    SubjectRequest,
    Urgency,
    check_free_text,
    check_request_ref,
    one_month_after,
)
from kaiku_tui.errors import ConfigError, UsageError


@pytest.mark.parametrize(
    ("received", "deadline"),
    [
        (date(2026, 1, 15), date(2026, 2, 15)),
        (date(2026, 1, 31), date(2026, 2, 28)),  # no 31 February: the month's last day
        (date(2028, 1, 30), date(2028, 2, 29)),  # a leap year
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 12, 31), date(2027, 1, 31)),  # across the year
        (date(2026, 2, 28), date(2026, 3, 28)),  # not the month's end again
    ],
)
def test_one_month_after(received: date, deadline: date) -> None:
    assert one_month_after(received) == deadline


def request(received: date, answered: date | None = None) -> SubjectRequest:
    return SubjectRequest("R-1", RequestKind.ACCESS, received, answered, "ab", "dora")


def test_urgency_warns_near_and_past_the_deadline() -> None:
    r = request(date(2026, 1, 31))  # deadline 28.2.2026
    assert r.urgency(date(2026, 2, 20)) is Urgency.OPEN
    assert r.urgency(date(2026, 2, 21)) is Urgency.NEAR  # seven days left
    assert r.urgency(date(2026, 2, 28)) is Urgency.NEAR  # the deadline day itself
    assert r.urgency(date(2026, 3, 1)) is Urgency.OVERDUE
    assert request(date(2026, 1, 31), date(2026, 2, 2)).urgency(date(2027, 1, 1)) is (
        Urgency.ANSWERED
    )


def test_request_references_and_free_text() -> None:
    assert check_request_ref("  TSV-2026/15 ") == "TSV-2026/15"
    for bad in ("", "two words", "x" * 81, "a\x1bb"):
        with pytest.raises(UsageError, match="request reference"):
            check_request_ref(bad)
    assert check_free_text("--authority", " Poliisi \n Helsinki ") == "Poliisi Helsinki"
    with pytest.raises(UsageError, match="--legal-basis must not be empty"):
        check_free_text("--legal-basis", "  ")
    with pytest.raises(UsageError, match="no control characters"):
        check_free_text("--authority", "Poliisi\x9b")
    with pytest.raises(UsageError, match="not one of access, log, authority"):
        RequestKind.parse("copy")


def test_premises_review_is_playback_only() -> None:
    review = PremisesReview("R-1", "ab")
    allowed = {a for a in Action if review.permits(a)}
    assert allowed == {Action.SEARCH, Action.RECORD_OPEN, Action.AUDIO_PLAY}


def test_register_description_from_config(tmp_path: Path) -> None:
    config = from_mapping(
        {"register_description": {"controller": "Hyvinvointialue X", "purposes": ["Laatu"]}},
        None,
    )
    d = config.description.checked()
    assert d.controller == "Hyvinvointialue X" and d.purposes == ("Laatu",)
    assert "EU/EEA" in d.transfers and d.security  # defaults kept
    missing = tmp_path / "c.toml"
    missing.write_text('[register_description]\ndpo_contact = "tietosuoja@x.fi"\n')
    with pytest.raises(ConfigError, match=r"c.toml: \[register_description\] controller is not"):
        load(missing).description.checked()
    bad = tmp_path / "bad.toml"
    bad.write_text('[register_description]\npurposes = ["ok", 3]\n')
    with pytest.raises(ConfigError, match=r"\[register_description\] purposes must be a list"):
        load(bad)
    typo = tmp_path / "typo.toml"
    typo.write_text('[register_description]\ncontroler = "X"\n')
    with pytest.raises(ConfigError, match="unknown key 'controler' in .register_description."):
        load(typo)
