"""The words of the UI and the drawing of untrusted text: pure, without an app."""

from __future__ import annotations

import pytest

from kaiku_tui.ui.conversation import chunks
from kaiku_tui.ui.i18n import CATALOGUE, Texts, choose_language
from kaiku_tui.ui.safe import PLACEHOLDER_STYLE, untrusted


def test_both_languages_have_the_same_words() -> None:
    assert CATALOGUE["fi"].keys() == CATALOGUE["en"].keys()
    for key, english in CATALOGUE["en"].items():
        fields = sorted(part.split("}")[0] for part in english.split("{")[1:])
        finnish = sorted(part.split("}")[0] for part in CATALOGUE["fi"][key].split("{")[1:])
        assert fields == finnish, key


@pytest.mark.parametrize(
    ("setting", "environ", "chosen"),
    [
        ("fi", {"LANG": "en_GB.UTF-8"}, "fi"),
        ("en", {"LANG": "fi_FI.UTF-8"}, "en"),
        ("auto", {"LANG": "fi_FI.UTF-8"}, "fi"),
        ("auto", {"LC_ALL": "en_US.UTF-8", "LANG": "fi_FI.UTF-8"}, "en"),
        ("auto", {"LC_MESSAGES": "fi_FI", "LANG": "C"}, "fi"),
        ("auto", {}, "en"),
    ],
)
def test_language_from_the_setting_or_the_locale(
    setting: str, environ: dict[str, str], chosen: str
) -> None:
    assert choose_language(setting, environ) == chosen


def test_texts_fill_in_values() -> None:
    assert Texts("fi")("status.rows", count="1 234") == "1 234 tallennetta"
    assert "status.rows" in Texts("en") and "no.such.key" not in Texts("en")


def test_untrusted_text_is_plain_and_its_controls_are_visible() -> None:
    shown = untrusted("[bold]x[/] \x1b[2J \x9b31m \u202eabc\nrivi")
    assert shown.plain == "[bold]x[/] ␛[2J <U+009B>31m <U+202E>abc\nrivi"
    marked = [shown.plain[s.start : s.end] for s in shown.spans if s.style == PLACEHOLDER_STYLE]
    assert marked == ["␛", "<U+009B>", "<U+202E>"]
    assert untrusted("a\nb", keep_newlines=False).plain == "a␊b"


def test_long_text_in_pieces_cut_at_spaces() -> None:
    text = ("sana " * 1000) + "x" * 5000
    pieces = chunks(text, 1000)
    assert "".join(pieces) == text
    assert all(len(p) <= 1000 for p in pieces)
    assert all(p.endswith(" ") for p in pieces[:4])  # cut after a space while there are some
    assert chunks("lyhyt", 1000) == ["lyhyt"]
