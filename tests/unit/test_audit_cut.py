"""The audit cut's pure parts: the record's spelling, which signed cut vouches for it,
the rule's day, which events name recordings, and where a cut must stop."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kaiku_tui.audit.chain import AuditEvent
from kaiku_tui.audit.checkpoint import CheckpointFile
from kaiku_tui.audit.cut import (
    Cut,
    cut_file,
    first_kept,
    named_recordings,
    parse_marker,
    retain_since,
    verified_start,
)
from kaiku_tui.errors import TamperDetected

H = bytes(range(32))
KEY = Ed25519PrivateKey.generate()


def event(at: datetime, target: str | None = None, revealed: tuple[str, ...] = ()) -> AuditEvent:
    return AuditEvent(at, "a", ("admin",), "x", "ok", target=target, revealed=revealed)


def test_marker_round_trip_and_forgeries() -> None:
    cut = Cut(41, H)
    assert parse_marker(cut.marker) == cut and cut.marker.startswith("41 ")
    for bad in ("41", f"41 {H.hex().upper()}", f"041 {H.hex()}", f"+41 {H.hex()}", "x y"):
        with pytest.raises(ValueError):
            parse_marker(bad)


def test_a_record_needs_a_signed_cut(tmp_path: Path) -> None:
    cuts = cut_file(tmp_path / "audit-checkpoints.jsonl")
    assert cuts.path.name == "audit-checkpoints-cuts.jsonl"
    assert verified_start(None, []) == (None, None)
    start, problem = verified_start(Cut(41, H).marker, [])
    assert start is None and problem is not None and "no signed cut" in problem.message
    cuts.append(10, bytes(32), KEY, "k")
    cuts.append(41, H, KEY, "k")
    signed = cuts.read(KEY.public_key())
    assert verified_start(Cut(41, H).marker, signed) == ((42, H), None)
    assert verified_start(Cut(10, bytes(32)).marker, signed) == ((11, bytes(32)), None)
    assert verified_start(Cut(41, bytes(32)).marker, signed)[1] is not None
    assert verified_start("garbage", signed)[1] is not None


def test_a_head_checkpoint_is_no_cut(tmp_path: Path) -> None:
    """Copied into the cut file, a head checkpoint's signature does not verify there:
    otherwise anyone who may write the file could delete up to any checkpointed seq."""
    heads = CheckpointFile(tmp_path / "audit-checkpoints.jsonl")
    heads.append(41, H, KEY, "k")
    cuts = cut_file(heads.path)
    shutil.copyfile(heads.path, cuts.path)
    with pytest.raises(TamperDetected, match="signature does not verify"):
        cuts.read(KEY.public_key())


def test_the_rule_in_years_or_days() -> None:
    assert retain_since(date(2026, 11, 28), 2, None) == date(2024, 11, 28)
    assert retain_since(date(2028, 2, 29), 1, None) == date(2027, 2, 28)
    assert retain_since(date(2026, 11, 28), 2, 30) == date(2026, 10, 29)


def test_named_recordings() -> None:
    at = datetime(2020, 1, 1, tzinfo=UTC)
    assert named_recordings(event(at, "12", ("3", "case:4", "note:5", "٣"))) == {12, 3}
    assert named_recordings(event(at, "admin.aalto")) == set()


def test_first_kept_stops_at_age_or_a_kept_recording() -> None:
    old, new = datetime(2020, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    before = datetime(2024, 1, 1, tzinfo=UTC)
    events = [(1, event(old)), (2, event(old, "7")), (3, event(old, revealed=("8",)))]
    assert first_kept(events, before, set()) is None
    assert first_kept(events, before, {8}) == (
        2,
        "seq 3 describes recording 8, which is still kept",
    )
    stop = first_kept([*events, (4, event(new))], before, set())
    assert stop is not None and stop[0] == 3 and "within the rule" in stop[1]


@pytest.mark.parametrize(
    ("language", "words"), [("en", "starts at event 42"), ("fi", "tapahtumasta 42")]
)
def test_the_screens_say_where_a_cut_log_starts(language: str, words: str) -> None:
    from kaiku_tui.register.audit_log import VerifyReport
    from kaiku_tui.ui.audit_log import intact
    from kaiku_tui.ui.i18n import Texts

    cut = intact(Texts(language), VerifyReport(10, 51, 2, None, cut_seq=41))
    assert words in cut and "10" in cut.splitlines()[0]
    assert len(intact(Texts(language), VerifyReport(10, 10, 2, None)).splitlines()) == 1
