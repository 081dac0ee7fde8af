"""WebVTT call transcripts: time-coded cues, the speaker in a `<v Name>` tag.

A transcript from a speech-to-text service or a human transcriber lies beside
the recording as `<stem>.vtt`. Only what a transcript needs is read: the
`WEBVTT` signature, cues (optional identifier, `start --> end` timing,
payload), the voice span's name, and the text with every other tag removed
and the five character references decoded. NOTE, STYLE and REGION blocks are
skipped. The text is data: it is stored as it is and sanitised where shown.

A file that is not what it claims (no signature, a timing line that does not
parse, a cue ending before it starts, not UTF-8) raises `VttError` naming the
line, and the importer rejects that call rather than keep half a transcript.

Pure: the only I/O is reading the one file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kaiku_tui.domain.recording import Speaker, TranscriptLine

_TIMESTAMP = r"(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"\s*{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t].*)?")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+([^>]*))?>")
_TAG = re.compile(r"</?[^>]*>")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&nbsp;": "\u00a0", "&lrm;": "\u200e"}
_ENTITIES |= {"&rlm;": "\u200f"}
_ENTITY = re.compile("|".join(map(re.escape, _ENTITIES)))
_MAX_BYTES = 16 * 1024 * 1024  # a day-long call's transcript is well under a megabyte

# Labels transcribers use for the two sides when they have no names.
_AGENT_LABELS = frozenset({"agent", "agentti", "operator", "virkailija", "palvelu", "service"})
_CUSTOMER_LABELS = frozenset({"customer", "asiakas", "caller", "soittaja", "client"})


class VttError(Exception):
    """A transcript that cannot be read; `line` is 1-based, the message the reason."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")


@dataclass(frozen=True)
class Cue:
    at: float  # seconds from the start of the recording
    speaker: str  # "" when the cue has no voice tag
    text: str


def read_vtt(path: Path) -> list[Cue]:
    """The cues of a WebVTT file, in file order."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise VttError(path, 0, f"cannot be read ({exc.strerror or exc})") from None
    if len(raw) > _MAX_BYTES:
        raise VttError(path, 0, f"is larger than {_MAX_BYTES // 2**20} MiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise VttError(path, line, f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x})") from None
    return _parse(path, text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def _parse(path: Path, lines: list[str]) -> list[Cue]:
    if not lines or not re.fullmatch(r"WEBVTT(?:[ \t].*)?", lines[0]):
        raise VttError(path, 1, "is not a WebVTT file (the first line is not 'WEBVTT')")
    header, *blocks = _blocks(lines)
    stray = next((i for i, line in enumerate(header[1], header[0]) if "-->" in line), None)
    if stray is not None:  # silently skipping it would drop the cue
        raise VttError(path, stray, "a cue in the header: a blank line must follow 'WEBVTT'")
    cues: list[Cue] = []
    for first, block in blocks:
        cue = _cue(path, first, block)
        if cue is not None:
            cues.append(cue)
    return cues


def _blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """(1-based number of the first line, lines) of each blank-line separated block."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, 1):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks  # the first is the WEBVTT line and its header


def _cue(path: Path, first: int, block: list[str]) -> Cue | None:
    head = block[0]
    if head.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in head:
        return None
    timing_at = 0 if "-->" in head else 1  # else the first line is the cue's identifier
    if timing_at >= len(block):
        raise VttError(path, first, "a cue without a 'start --> end' timing line")
    line = first + timing_at
    match = _TIMING.fullmatch(block[timing_at])
    if match is None:
        raise VttError(path, line, f"timing {block[timing_at].strip()!r} is not start --> end")
    start, end = _seconds(match.groups()[:4]), _seconds(match.groups()[4:])
    if end < start:
        raise VttError(path, line, f"the cue ends ({end:.3f} s) before it starts ({start:.3f} s)")
    speaker, text = _payload(block[timing_at + 1 :])
    return Cue(round(start, 3), speaker, text)


def _seconds(parts: tuple[str | None, ...]) -> float:
    hours, minutes, seconds, millis = (int(p) if p else 0 for p in parts)
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def _payload(lines: list[str]) -> tuple[str, str]:
    """(speaker of the first voice span, plain text of the cue)."""
    joined = "\n".join(lines)
    voice = _VOICE.search(joined)
    speaker = _unescape((voice.group(1) or "").strip()) if voice else ""
    text = _unescape(_TAG.sub("", joined)).strip()
    return speaker, text


def _unescape(text: str) -> str:
    return _ENTITY.sub(lambda m: _ENTITIES[m.group()], text)


def transcript_lines(
    cues: list[Cue],
    *,
    agent_names: tuple[str, ...],
    customer_names: tuple[str, ...],
    agent_first: bool,
) -> tuple[TranscriptLine, ...]:
    """Cues as transcript lines, each speaker given a side.

    A speaker is the customer when the name is the caller's name from the CDR
    or a customer label (asiakas, customer, caller, ...); the agent when it is
    the agent's name or device, or an agent label (agentti, agent, ...).
    A speaker still unknown takes the side opposite to a known speaker; if
    no speaker is known, the first voice is the one who answered — the agent
    on an inbound call, the customer on an outbound one — and the other voices
    are the other side. A cue without a voice is an event ([music], [hold]).
    """
    roles = _sides(cues, agent_names, customer_names, agent_first)
    return tuple(
        TranscriptLine(c.at, c.speaker, roles.get(c.speaker, Speaker.EVENT), c.text) for c in cues
    )


def _sides(
    cues: list[Cue],
    agent_names: tuple[str, ...],
    customer_names: tuple[str, ...],
    agent_first: bool,
) -> dict[str, Speaker]:
    agents = {n.strip().casefold() for n in agent_names if n.strip()} | _AGENT_LABELS
    customers = {n.strip().casefold() for n in customer_names if n.strip()} | _CUSTOMER_LABELS
    speakers = list(dict.fromkeys(c.speaker for c in cues if c.speaker))
    roles: dict[str, Speaker] = {}
    for name in speakers:
        key = name.casefold()
        if key in customers:
            roles[name] = Speaker.CUSTOMER
        elif key in agents:
            roles[name] = Speaker.AGENT
    known = set(roles.values())
    if len(known) == 1:
        other = Speaker.CUSTOMER if Speaker.AGENT in known else Speaker.AGENT
        roles |= {n: other for n in speakers if n not in roles}
    elif not known and speakers:
        first = Speaker.AGENT if agent_first else Speaker.CUSTOMER
        other = Speaker.CUSTOMER if agent_first else Speaker.AGENT
        roles = {n: first if i == 0 else other for i, n in enumerate(speakers)}
    return {n: roles.get(n, Speaker.CUSTOMER) for n in speakers}
