"""What more than one command prints: a JSON line, a recording's summary line, the audit
verification's summary and a progress bar. Text goes through the sanitiser, JSON
through `json_safe`: nothing from a recording reaches a terminal unescaped."""

from __future__ import annotations

import json
import sys

from kaiku_tui.domain import phone as phones
from kaiku_tui.domain.dates import fmt_date, fmt_duration, fmt_time, iso
from kaiku_tui.domain.recording import Direction, RecordingSummary
from kaiku_tui.domain.text import json_safe, sanitise
from kaiku_tui.register.audit_log import VerifyReport


def json_line(obj: object) -> str:
    return json_safe(json.dumps(obj, ensure_ascii=False))


def print_json(obj: object) -> None:
    print(json_line(obj))


def summary_json(row: RecordingSummary, number: str | None = None) -> dict[str, object]:
    return {
        "id": row.id,
        "org": row.org,
        "channel": row.channel.value,
        "direction": row.direction.value,
        "started_at": iso(row.started_at),
        "duration_s": row.duration_s,
        "agent": row.agent,
        "queue": row.queue,
        "phone": number or row.phone_masked,
        "source_id": row.source_id,
        "has_audio": row.has_audio,
        "has_transcript": row.has_transcript,
        "tags": list(row.tags),
    }


def summary_line(row: RecordingSummary, number: str | None = None) -> str:
    """One row in 80 columns (a jump host's terminal), tags after it."""
    shown = phones.display(number) if number else row.phone_masked
    way = "in" if row.direction is Direction.INBOUND else "out"
    text = (
        f"{row.id:>7} {fmt_date(row.started_at)} {fmt_time(row.started_at)} "
        f"{fmt_duration(row.duration_s):>7} {row.channel.value:<4} {way:<3} "
        f"{row.org[:6]:<6} {_clip(row.agent, 14):<14} {shown:<16} {' '.join(row.tags)}"
    )
    return sanitise(text.rstrip())


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def verify_summary(report: VerifyReport) -> str:
    """One line for the chain; one more naming the rows that do not verify, if any."""
    rows = (
        f"\nTAMPERED: rows that do not verify (changed behind the program's back): "
        f"{', '.join(report.bad_rows)}"
        if report.bad_rows
        else ""
    )
    if report.problem is not None:
        return f"TAMPERED: {report.problem.message}{rows}"
    since = f" from the audit cut at seq {report.cut_seq}" if report.cut_seq else ""
    return (
        f"ok: {report.checked} events verify{since} (head seq {report.head_seq}), "
        f"{report.checkpoints} signed checkpoints agree, {report.witnessed} in the witness{rows}"
    )


class ProgressBar:
    """A bar on stderr when stderr is a terminal; nothing in a pipe or a log."""

    def __init__(self, label: str = "scan") -> None:
        self._on = sys.stderr.isatty()
        self._label = label

    def __call__(self, done: int, total: int) -> None:
        if not self._on or total <= 0:
            return
        share = min(done / total, 1.0)
        bar = "#" * int(share * 30)
        end = "\n" if share >= 1.0 else ""
        print(f"\r{self._label} [{bar:<30}] {share:4.0%}", end=end, file=sys.stderr, flush=True)
