"""Annotation rules: tags, anchors, case status moves, scores, reproducible samples."""

from __future__ import annotations

from datetime import date

import pytest

from kaiku_tui.domain.annotation import (
    CRITERIA,
    SEED_LIMIT,
    Anchor,
    CaseStatus,
    RecordedScore,
    Score,
    check_move,
    check_note_text,
    check_tag,
    draw_sample,
    is_managed,
    parse_criterion,
    random_seed,
    sample_window,
    scored_by,
)
from kaiku_tui.errors import UsageError


@pytest.mark.parametrize(
    ("text", "tag"),
    [(" Coaching:Empathy ", "coaching:empathy"), ("hyvä-esimerkki", "hyvä-esimerkki")],
)
def test_tags_have_one_spelling(text: str, tag: str) -> None:
    assert check_tag(text) == tag


@pytest.mark.parametrize("text", ["", "two words", "-lead", "x" * 41, "[bold]", "a\x1b"])
def test_bad_tags_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match="is not a tag"):
        check_tag(text)


def test_managed_vocabulary() -> None:
    assert is_managed("coaching:empathy") and is_managed("complaint")
    assert not is_managed("my-own-tag")


def test_anchor_is_a_time_or_a_message() -> None:
    assert Anchor().whole and not Anchor(at_s=12.5).whole
    with pytest.raises(UsageError, match="not both"):
        Anchor(at_s=1.0, message=2)
    with pytest.raises(UsageError, match="negative"):
        Anchor(at_s=-1.0)


def test_note_text() -> None:
    assert check_note_text("  hyvä  ") == "hyvä"
    with pytest.raises(UsageError, match="needs some text"):
        check_note_text("   ")
    with pytest.raises(UsageError, match="at most 10,000"):
        check_note_text("x" * 10_001)


MOVES = {
    ("open", "investigating"),
    ("investigating", "resolved"),
    ("resolved", "closed"),
    ("resolved", "investigating"),
}


@pytest.mark.parametrize("current", list(CaseStatus))
@pytest.mark.parametrize("to", list(CaseStatus))
def test_case_status_moves(current: CaseStatus, to: CaseStatus) -> None:
    if (current.value, to.value) in MOVES:
        check_move(current, to)
    else:
        with pytest.raises(UsageError, match=f"not {to.value}"):
            check_move(current, to)


def test_scores_one_to_five_for_each_criterion() -> None:
    Score(1, tuple((c, 3) for c in CRITERIA), "ok")
    with pytest.raises(UsageError, match="1 to 5"):
        Score(1, tuple((c, 6) for c in CRITERIA))
    with pytest.raises(UsageError, match="each of"):
        Score(1, (("greeting", 3),))


def test_samples_are_reproducible_and_ignore_order() -> None:
    ids = list(range(100, 200))
    first = draw_sample(ids, 5, seed=42)
    assert first == draw_sample(list(reversed(ids)), 5, seed=42)
    assert first != draw_sample(ids, 5, seed=43)
    assert len(first) == 5 and set(first) <= set(ids)
    assert draw_sample([1, 2], 5, seed=1) == [1, 2]
    with pytest.raises(UsageError, match="at least one"):
        draw_sample(ids, 0, seed=1)


def test_a_criterion_on_the_command_line() -> None:
    assert parse_criterion(" empathy=4") == ("empathy", 4)
    for text, words in [("empathy", "NAME=1..5"), ("tone=3", "NAME one of greeting"),
                        ("empathy=x", "'x' is not a number"), ("empathy=6", "1 to 5")]:  # fmt: skip
        with pytest.raises(UsageError, match=words):
            parse_criterion(text)


def test_a_sample_window_is_whole_helsinki_days() -> None:
    start, before, low, high = sample_window(date(2026, 11, 1), date(2026, 11, 30), 60, None)
    assert (before - start) == 30 * 86_400 and (low, high) == (60, None)
    with pytest.raises(UsageError, match="first day 02.11.2026 is after the last 01.11.2026"):
        sample_window(date(2026, 11, 2), date(2026, 11, 1), None, None)
    with pytest.raises(UsageError, match="shortest duration 90 s is above the longest 60 s"):
        sample_window(date(2026, 11, 1), date(2026, 11, 1), 90, 60)


def test_progress_is_the_scorers_own() -> None:
    scores = tuple((c, 3) for c in CRITERIA)
    given = [RecordedScore("a", 1, Score(5, scores)), RecordedScore("b", 1, Score(6, scores))]
    assert scored_by(given, "a") == {5} and scored_by(given, "c") == frozenset()
    assert all(0 <= random_seed() < SEED_LIMIT for _ in range(20))
