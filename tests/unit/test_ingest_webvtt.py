"""WebVTT transcripts: cues, voices, sides, and every damage named with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaiku_tui.domain.recording import Speaker
from kaiku_tui.ingest.webvtt import Cue, VttError, read_vtt, transcript_lines


def vtt(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "call.vtt"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_cues_voices_tags_entities_and_blocks(tmp_path: Path) -> None:
    text = (
        "\ufeffWEBVTT\r\nKind: captions\r\n\r\nSTYLE\r\n::cue { color: red }\r\n\r\n"
        "intro\r\n01:00:01.500 --> 01:00:02.000 line:0\r\n<v Anna>a &lt;b&gt; <b>c</b>\r\n\r\n"
        "00:03.000 --> 00:04.000\r\n<c.x>no voice</c>\r\n"
    )
    assert read_vtt(vtt(tmp_path, text)) == [
        Cue(3601.5, "Anna", "a <b> c"),
        Cue(3.0, "", "no voice"),
    ]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("WEBVTTX\n", 1, "is not a WebVTT file"),
        ("", 1, "is not a WebVTT file"),
        ("WEBVTT\n\n1\n00:01.000 -> 00:02.000\nx\n", 4, "timing"),
        ("WEBVTT\n\n00:01.000 --> 00:02\nx\n", 3, "is not start --> end"),
        ("WEBVTT\n\n00:05.000 --> 00:02.000\nx\n", 3, "ends (2.000 s) before it starts"),
        ("WEBVTT\n\nid only\n\n", 3, "without a 'start --> end' timing line"),
        ("WEBVTT\n\n00:61.000 --> 00:62.000\nx\n", 3, "is not start --> end"),
        ("WEBVTT\n00:01.000 --> 00:02.000\nx\n", 2, "a cue in the header"),
    ],
)
def test_damage_is_named_with_its_line(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = vtt(tmp_path, text)
    with pytest.raises(VttError) as caught:
        read_vtt(path)
    assert str(caught.value).startswith(f"{path}:{line}: ") and reason in str(caught.value)


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = vtt(tmp_path, b"WEBVTT\n\n00:01.000 --> 00:02.000\n\xe4iti\n")
    with pytest.raises(VttError, match=r":4: is not valid UTF-8 \(byte 0xe4\)"):
        read_vtt(path)


def cues(*speakers: str) -> list[Cue]:
    return [Cue(float(i), s, f"t{i}") for i, s in enumerate(speakers)]


def sides(found: list[Cue], **kwargs: object) -> list[Speaker]:
    options: dict[str, object] = {"agent_names": (), "customer_names": (), "agent_first": True}
    options.update(kwargs)
    return [line.role for line in transcript_lines(found, **options)]  # type: ignore[arg-type]


A, C, E = Speaker.AGENT, Speaker.CUSTOMER, Speaker.EVENT


def test_sides_from_the_cdr_names_labels_and_elimination() -> None:
    assert sides(cues("Pirjo", "agent-anna"), agent_names=("agent-anna",)) == [C, A]
    assert sides(cues("X", "Pirjo"), customer_names=("pirjo",)) == [A, C]
    assert sides(cues("Asiakas", "Agentti", "")) == [C, A, E]
    assert sides(cues("X", "Y", "X")) == [A, C, A]  # inbound: the first voice answered
    assert sides(cues("X", "Y"), agent_first=False) == [C, A]  # outbound: the callee answered
