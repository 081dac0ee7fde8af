"""Asterisk `cdr_csv` files (Master.csv): which answered calls there are to import.

The file is the PBX's own account of each call, written with
`loguniqueid=yes` and `loguserfield=yes`: no header, 18 columns, strings in
double quotes (`""` for a quote), integers bare, an unanswered call's `answer`
empty and unquoted, times as local wall-clock time.

Reading is forgiving by row and strict within a row: a damaged or impossible
row is rejected with `file:line` and the reason, and every good row is still
imported, so that one bad line never blocks a day of recordings and never
slips in half-understood. Local times are turned into UTC here, because the
register only knows UTC: a time in the hour skipped in spring is rejected, and
a time in the hour repeated in autumn is resolved from the call's own
durations or rejected as ambiguous — never guessed.

Pure: no database, no register, no UI; the only I/O is reading the one file.
"""

from __future__ import annotations

import csv
import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kaiku_tui.domain.phone import DEFAULT_REGION, try_normalise
from kaiku_tui.domain.recording import Direction
from kaiku_tui.errors import UsageError

__all__ = ["CdrCall", "CdrReport", "Classifier", "Rejected", "read_cdr"]

DEFAULT_TZ = "Europe/Helsinki"
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_TIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_INTEGER = re.compile(r"-?[0-9]+")
_DIALLED = re.compile(r"\+?[0-9]+")
# Truncating times to whole seconds and Asterisk's own rounding of
# billsec/duration may each be a second off; more than that is a damaged row.
_SLACK_S = 1
_ANSWERED = "ANSWERED"
# What a PBX or an operator puts where a withheld number would be.
_WITHHELD = frozenset(
    {"", "anonymous", "unknown", "restricted", "private", "withheld", "unavailable"}
)
_CLID = re.compile(r'\s*(?:"(?P<quoted>.*)"|(?P<bare>[^<]*?))\s*(?:<(?P<number>[^>]*)>)?\s*', re.S)


class _Row(NamedTuple):
    """The 18 columns of one `cdr_csv` line, in the order Asterisk writes them."""

    accountcode: str
    src: str
    dst: str
    dcontext: str
    clid: str
    channel: str
    dstchannel: str
    lastapp: str
    lastdata: str
    start: str
    answer: str
    end: str
    duration: str
    billsec: str
    disposition: str
    amaflags: str
    uniqueid: str
    userfield: str


_COLUMNS = len(_Row._fields)


@dataclass(frozen=True)
class CdrCall:
    """One answered external call: what the register needs to file its recording.

    `started_at`/`ended_at` are UTC epoch seconds of answer and hang-up, because
    the recording covers only the answered part; `duration_s` is Asterisk's
    billsec for the same reason.
    """

    line: int
    uniqueid: str
    started_at: int
    ended_at: int
    duration_s: int
    direction: Direction
    customer_e164: str | None
    agent: str
    queue: str
    caller_name: str
    disposition: str


@dataclass(frozen=True)
class Rejected:
    """A row that was not imported, and why, in the words an admin can act on."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass
class CdrReport:
    """Everything one file said: calls to import and an account of every other row."""

    calls: list[CdrCall] = field(default_factory=list)
    skipped_unanswered: int = 0
    skipped_internal: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0


@dataclass(frozen=True)
class Classifier:
    """How this PBX's numbering tells agents from customers.

    The defaults fit a FreePBX with 2–6 digit extensions. `outside_prefix` is
    the digit(s) an agent dials for an outside line (e.g. "0" makes 0040… a
    dialled 040…); it is stripped only when configured, because without it a
    leading 0 is part of the number.
    """

    internal: str = r"[0-9]{2,6}"
    outside_prefix: str = ""
    region: str = DEFAULT_REGION

    def __post_init__(self) -> None:
        try:
            re.compile(self.internal)
        except re.error as exc:
            raise UsageError(f"internal extension pattern {self.internal!r}: {exc}") from None

    def is_internal(self, number: str) -> bool:
        """An agent's extension, as opposed to a number outside the PBX."""
        return re.fullmatch(self.internal, number.strip()) is not None

    def dialled(self, dst: str) -> str:
        """The number an agent dialled, without the outside-line prefix."""
        text = dst.strip()
        prefix = self.outside_prefix
        if prefix and text.startswith(prefix) and len(text) > len(prefix):
            return text[len(prefix) :]
        return text

    def direction(self, src: str, dst: str) -> Direction | None:
        """Inbound when a caller from outside rang in, outbound when an agent rang out.

        None for a call that never left the PBX (extension to extension, or
        to a feature code such as *97): nobody outside was recorded.
        """
        if not self.is_internal(src):
            return Direction.INBOUND
        if self.is_internal(dst) or not _DIALLED.fullmatch(self.dialled(dst)):
            return None
        return Direction.OUTBOUND

    def customer(self, direction: Direction, src: str, dst: str, clid_number: str) -> str | None:
        """The outside party in E.164, or None when withheld or not a phone number."""
        if direction is Direction.OUTBOUND:
            number = self.dialled(dst)
        else:
            number = src.strip() or clid_number.strip()
        if number.lower() in _WITHHELD:
            return None
        return try_normalise(number, self.region)


class _Skip(enum.Enum):
    UNANSWERED = "unanswered"
    INTERNAL = "internal"


class _Bad(Exception):
    """A row is unusable; the message is the one-line reason."""


def read_cdr(path: Path, *, tz: str = DEFAULT_TZ, classify: Classifier | None = None) -> CdrReport:
    """Read a `cdr_csv` file into the calls to import and an account of the rest.

    Raises UsageError only when the file or the time zone is unusable as a
    whole; a bad row is reported in `rejected` and reading goes on.
    """
    zone = _zone(tz)
    classifier = classify or Classifier()
    report = CdrReport()
    seen: set[str] = set()
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
            for line, record in _records(handle):
                try:
                    outcome = _read_row(record, line, zone, classifier)
                except _Bad as bad:
                    report.rejected.append(Rejected(path, line, str(bad)))
                    continue
                _tally(report, seen, outcome)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the CDR file ({exc.strerror or exc})") from None
    return report


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"time zone {tz!r} is not a known IANA time zone") from None


def _tally(report: CdrReport, seen: set[str], outcome: CdrCall | _Skip) -> None:
    """Count a skipped row, or keep a call unless its uniqueid came earlier in the file."""
    if outcome is _Skip.UNANSWERED:
        report.skipped_unanswered += 1
    elif outcome is _Skip.INTERNAL:
        report.skipped_internal += 1
    elif isinstance(outcome, CdrCall):
        if outcome.uniqueid in seen:
            report.duplicates += 1
        else:
            seen.add(outcome.uniqueid)
            report.calls.append(outcome)


def _records(handle: TextIO) -> Iterator[tuple[int, list[str] | _Bad]]:
    """(first physical line, fields) per record; a quoted newline keeps later numbers right.

    Blank lines are not records. A record the csv module cannot read comes
    out as a _Bad so that the caller rejects it and reads on.
    """
    reader = csv.reader(handle)
    while True:
        first = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield first, _Bad(f"is not readable as CSV ({exc})")
            continue
        if fields:
            yield first, fields


def _read_row(
    record: list[str] | _Bad, line: int, zone: ZoneInfo, classifier: Classifier
) -> CdrCall | _Skip:
    """Validate one record and decide what it is; raise _Bad with the reason if unusable.

    The whole row is checked before deciding it is skipped, so that a
    damaged line is reported as damaged even when it was an unanswered call.
    """
    if isinstance(record, _Bad):
        raise record
    row = _columns(record)
    duration = _seconds("duration", row.duration)
    billsec = _seconds("billsec", row.billsec)
    start = _local("start", row.start, zone)
    end = _local("end", row.end, zone)
    if row.disposition.strip().upper() != _ANSWERED or not row.answer.strip() or billsec == 0:
        return _Skip.UNANSWERED
    answer = _local("answer", row.answer, zone)
    started_at, ended_at = _resolve(row, (start, answer, end), duration, billsec, zone)
    if not row.uniqueid.strip():
        raise _Bad("uniqueid is empty (is loguniqueid=yes set in cdr.conf?)")
    direction = classifier.direction(row.src, row.dst)
    if direction is None:
        return _Skip.INTERNAL
    name, number = _split_clid(row.clid)
    return CdrCall(
        line=line,
        uniqueid=row.uniqueid.strip(),
        started_at=started_at,
        ended_at=ended_at,
        duration_s=billsec,
        direction=direction,
        customer_e164=classifier.customer(direction, row.src, row.dst, number),
        agent=_agent(direction, row, classifier),
        queue=_queue(direction, row),
        caller_name="" if name.strip().lower() in _WITHHELD else name,
        disposition=row.disposition,
    )


def _columns(record: list[str]) -> _Row:
    """The record as named columns, if it is whole and valid UTF-8."""
    for column, text in enumerate(record):
        bad = next((ch for ch in text if "\udc80" <= ch <= "\udcff"), None)
        if bad is not None:
            name = _Row._fields[column] if column < _COLUMNS else f"column {column + 1}"
            byte = ord(bad) - 0xDC00
            raise _Bad(f"is not valid UTF-8 (byte 0x{byte:02x} in {name})")
    if len(record) != _COLUMNS:
        raise _Bad(
            f"has {len(record)} columns, expected {_COLUMNS} "
            "(cdr_csv with loguniqueid=yes and loguserfield=yes)"
        )
    return _Row(*record)


def _seconds(column: str, text: str) -> int:
    """A bare non-negative integer count of seconds."""
    if not _INTEGER.fullmatch(text.strip()):
        raise _Bad(f"{column} {text!r} is not an integer")
    value = int(text)
    if value < 0:
        raise _Bad(f"{column} {value} is negative")
    return value


def _local(column: str, text: str, zone: ZoneInfo) -> tuple[int, ...]:
    """Every UTC epoch that reads as this wall-clock time in `zone`.

    One normally, two in the hour repeated when clocks go back. None at all
    in the hour skipped when clocks go forward: that time cannot have been
    written by a clock in this zone, so the row is rejected.
    """
    if not _TIME_SHAPE.fullmatch(text):
        raise _Bad(f"{column} {text!r} is not a time of the form YYYY-MM-DD HH:MM:SS")
    try:
        wall = datetime.strptime(text, _TIME_FORMAT)
    except ValueError:
        raise _Bad(f"{column} {text!r} is not a valid date and time") from None
    epochs = sorted({ts for ts in _fold_epochs(wall, zone) if _reads_as(ts, wall, zone)})
    if not epochs:
        raise _Bad(f"{column} {text!r} does not exist in {zone.key} (clocks went forward)")
    return tuple(epochs)


def _fold_epochs(wall: datetime, zone: ZoneInfo) -> tuple[int, int]:
    """The epochs of both readings (fold 0 and 1) of a wall-clock time."""
    return (
        int(wall.replace(tzinfo=zone, fold=0).timestamp()),
        int(wall.replace(tzinfo=zone, fold=1).timestamp()),
    )


def _reads_as(epoch: int, wall: datetime, zone: ZoneInfo) -> bool:
    """The round-trip check: zoneinfo invents a reading for a skipped time, this catches it."""
    return datetime.fromtimestamp(epoch, zone).replace(tzinfo=None) == wall


def _resolve(
    row: _Row,
    times: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]],
    duration: int,
    billsec: int,
    zone: ZoneInfo,
) -> tuple[int, int]:
    """(answer, end) in UTC: the one reading of start/answer/end that fits the call.

    A reading must have start <= answer <= end and end - answer = billsec.
    If readings of the repeated autumn hour still disagree, the one whose
    end - start matches duration wins; if none or several do, the row is
    rejected rather than filed an hour off.
    """
    start, answer, end = times
    combos = [(s, a, e) for s in start for a in answer for e in end if _fits(s, a, e, billsec)]
    if not combos:
        either = any(len(t) > 1 for t in times)
        raise _Bad(
            _misfit(row, start[0], answer[0], end[0], billsec)
            + (" under either reading of the repeated hour" if either else "")
        )
    readings = {(a, e) for _, a, e in combos}
    if len(readings) > 1:
        readings = {(a, e) for s, a, e in combos if abs(e - s - duration) <= _SLACK_S}
    if len(readings) != 1:
        column, text = ("answer", row.answer) if len(answer) > 1 else ("end", row.end)
        fit = "fit both readings" if readings else "fit neither reading"
        raise _Bad(
            f"{column} {text!r} is ambiguous in {zone.key} (clocks went back) "
            f"and duration {duration} and billsec {billsec} {fit}"
        )
    return readings.pop()


def _fits(start: int, answer: int, end: int, billsec: int) -> bool:
    """Whether these three instants can be one answered call of `billsec` seconds."""
    return start <= answer <= end and abs(end - answer - billsec) <= _SLACK_S


def _misfit(row: _Row, start: int, answer: int, end: int, billsec: int) -> str:
    """Why these three instants cannot be one call, naming the columns as written."""
    if answer < start:
        return f"answer {row.answer!r} is before start {row.start!r}"
    if end < answer:
        return f"end {row.end!r} is before answer {row.answer!r}"
    return f"billsec {billsec} does not match end - answer ({end - answer} s)"


def _split_clid(clid: str) -> tuple[str, str]:
    """(name, number) from Asterisk's `"Name" <number>`, whose name is not escaped.

    The name may hold commas and quotes (the greedy match takes everything
    between the first and the last quote). A clid without brackets is
    either only a number or only a name.
    """
    match = _CLID.fullmatch(clid)
    if match is None:
        return clid.strip(), ""
    number = match["number"]
    if match["quoted"] is not None:
        return match["quoted"], (number or "").strip()
    bare = match["bare"] or ""
    if number is None and _DIALLED.fullmatch(bare):
        return "", bare
    return bare, (number or "").strip()


def _peer(channel: str) -> str:
    """The device or endpoint of a channel name: `PJSIP/agent-anna-00000012` → `agent-anna`.

    Drops the technology, the hex sequence suffix Asterisk adds to each
    channel, a Local channel's `;1`/`;2` half and its `@context`.
    """
    _, slash, rest = channel.strip().partition("/")
    if not slash:
        return ""
    rest = rest.split(";", 1)[0]
    head, dash, tail = rest.rpartition("-")
    if dash and head and re.fullmatch(r"[0-9a-fA-F]+", tail):
        rest = head
    return rest.split("@", 1)[0]


def _agent(direction: Direction, row: _Row, classifier: Classifier) -> str:
    """The agent's device: the called channel for inbound, the calling one for outbound.

    Falls back to the extension number when the channel names no peer.
    """
    if direction is Direction.INBOUND:
        channel, extension = row.dstchannel, row.dst
    else:
        channel, extension = row.channel, row.src
    peer = _peer(channel)
    if peer:
        return peer
    return extension.strip() if classifier.is_internal(extension) else ""


def _queue(direction: Direction, row: _Row) -> str:
    """The service number an inbound caller rang, else the dialplan context."""
    dst = row.dst.strip()
    if direction is Direction.INBOUND and dst and dst != "s":
        return dst
    return row.dcontext
