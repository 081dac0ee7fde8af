"""Asterisk cdr_csv reading: fields, local times across daylight saving, rejects and counts.

The fixture tests/data/cdr/Master.csv is written the way cdr_csv writes
(strings quoted, integers bare, an unanswered `answer` empty and unquoted);
its line numbers are referred to below. Expected epochs are written by hand
in UTC, not computed with the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kaiku_tui.domain.recording import Direction
from kaiku_tui.errors import UsageError
from kaiku_tui.ingest.cdr import CdrCall, CdrReport, Classifier, Rejected, read_cdr

MASTER = Path(__file__).parent.parent / "data" / "cdr" / "Master.csv"


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def cdr_line(
    *,
    src: str = "0401234567",
    dst: str = "0201234567",
    clid: str = '"Pirjo" <0401234567>',
    channel: str = "PJSIP/trunk-elisa-00000001",
    dstchannel: str = "PJSIP/1001-00000002",
    start: str = "2025-03-10 09:00:00",
    answer: str | None = "2025-03-10 09:00:10",
    end: str = "2025-03-10 09:05:10",
    duration: str = "310",
    billsec: str = "300",
    disposition: str = "ANSWERED",
    uniqueid: str = "1741590000.1",
) -> str:
    """One line as cdr_csv writes it: strings quoted with "" doubled, integers bare."""

    def q(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    strings = ["", src, dst, "from-trunk", clid, channel, dstchannel, "Dial", "PJSIP/1001,,Tt"]
    times = [q(start), "" if answer is None else q(answer), q(end)]
    tail = [q(disposition), q("DOCUMENTATION"), q(uniqueid), q("")]
    return ",".join([*map(q, strings), *times, duration, billsec, *tail]) + "\n"


def read_text(tmp_path: Path, text: str, **kwargs: object) -> CdrReport:
    path = tmp_path / "Master.csv"
    path.write_text(text, encoding="utf-8")
    return read_cdr(path, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def master() -> CdrReport:
    return read_cdr(MASTER)


def by_line(report: CdrReport) -> dict[int, CdrCall]:
    return {call.line: call for call in report.calls}


# --- the realistic file -------------------------------------------------------


def test_master_counts(master: CdrReport) -> None:
    assert sorted(by_line(master)) == [1, 2, 3, 4, 5, 12, 15, 16, 19]
    assert master.skipped_unanswered == 3  # NO ANSWER, BUSY, ANSWERED with billsec 0
    assert master.skipped_internal == 1
    assert master.duplicates == 1
    assert [r.line for r in master.rejected] == [9, 10, 14, 17, 20, 21]


def test_inbound_with_comma_and_non_ascii_name(master: CdrReport) -> None:
    assert by_line(master)[1] == CdrCall(
        line=1,
        uniqueid="1741590842.16",
        started_at=utc(2025, 3, 10, 7, 14, 9),  # 09:14:09 EET
        ended_at=utc(2025, 3, 10, 7, 20, 41),
        duration_s=392,
        direction=Direction.INBOUND,
        customer_e164="+358401234567",
        agent="1001",
        queue="0201234567",
        caller_name="Äijälä, Pirjo",
        disposition="ANSWERED",
    )


def test_inbound_summer_time_queue_and_local_channel(master: CdrReport) -> None:
    assert by_line(master)[2] == CdrCall(
        line=2,
        uniqueid="1749722520.40",
        started_at=utc(2025, 6, 12, 10, 2, 31),  # 13:02:31 EEST
        ended_at=utc(2025, 6, 12, 10, 15, 1),
        duration_s=750,
        direction=Direction.INBOUND,
        customer_e164="+358501234567",
        agent="1002",  # Local/1002@from-queue-0000002a;1
        queue="600",
        caller_name='Matti "Masa" Virtanen',
        disposition="ANSWERED",
    )


def test_anonymous_caller_is_imported_without_number(master: CdrReport) -> None:
    call = by_line(master)[3]
    assert call.customer_e164 is None
    assert call.caller_name == ""
    assert call.agent == "agent-anna"
    assert call.direction is Direction.INBOUND
    assert (call.started_at, call.ended_at) == (
        utc(2025, 3, 10, 8, 0, 5),
        utc(2025, 3, 10, 8, 3, 5),
    )


def test_outbound_to_international_format(master: CdrReport) -> None:
    assert by_line(master)[4] == CdrCall(
        line=4,
        uniqueid="1749726000.52",
        started_at=utc(2025, 6, 12, 11, 0, 12),
        ended_at=utc(2025, 6, 12, 11, 4, 12),
        duration_s=240,
        direction=Direction.OUTBOUND,
        customer_e164="+358401112233",  # dialled 00358401112233
        agent="1001",
        queue="from-internal",
        caller_name="Anna Agentti",
        disposition="ANSWERED",
    )


def test_outbound_to_national_number_on_old_sip_channel(master: CdrReport) -> None:
    call = by_line(master)[5]
    assert call.direction is Direction.OUTBOUND
    assert call.customer_e164 == "+358407654321"  # dialled 040 765 4321
    assert call.agent == "1003"  # SIP/1003-0000a
    assert (call.started_at, call.ended_at, call.duration_s) == (
        utc(2025, 1, 15, 6, 30, 20),
        utc(2025, 1, 15, 6, 31, 20),
        60,
    )


def test_quoted_newline_keeps_line_numbers(master: CdrReport) -> None:
    call = by_line(master)[12]  # the record spans lines 12 and 13
    assert call.uniqueid == "1741676400.90"
    assert call.started_at == utc(2025, 3, 11, 7, 0, 10)
    assert call.caller_name == "Koskinen, Eeva"
    assert master.rejected[2].line == 14  # the line after it


def test_number_from_clid_when_src_is_empty(master: CdrReport) -> None:
    call = by_line(master)[19]
    assert call.customer_e164 == "+358912345678"
    assert call.caller_name == "Kotihoito"


def test_duplicate_keeps_the_first(master: CdrReport) -> None:
    uniqueids = [call.uniqueid for call in master.calls]
    assert uniqueids.count("1741590842.16") == 1
    assert len(set(uniqueids)) == len(uniqueids)


def test_autumn_repeated_hour_resolved_by_duration(master: CdrReport) -> None:
    # start 02:50 EEST is unambiguous; answer 03:05 and end 03:15 happen twice.
    # Only the first (EEST) reading makes end - start = duration 1500.
    call = by_line(master)[15]
    assert call.started_at == utc(2025, 10, 26, 0, 5, 0)
    assert call.ended_at == utc(2025, 10, 26, 0, 15, 0)


def test_autumn_repeated_hour_resolved_by_billsec(master: CdrReport) -> None:
    # answer 03:40:10 happens twice; end 04:10:10 EET does not. billsec 1800
    # fits only the second (EET) reading of answer.
    call = by_line(master)[16]
    assert call.started_at == utc(2025, 10, 26, 1, 40, 10)
    assert call.ended_at == utc(2025, 10, 26, 2, 10, 10)
    assert call.duration_s == 1800


def test_rejected_reasons_name_file_line_and_cause(master: CdrReport) -> None:
    assert [str(r) for r in master.rejected] == [
        f"{MASTER}:9: has 10 columns, expected 18 "
        "(cdr_csv with loguniqueid=yes and loguserfield=yes)",
        f"{MASTER}:10: billsec '12O' is not an integer",
        f"{MASTER}:14: answer '2026-03-29 03:30:00' does not exist in Europe/Helsinki "
        "(clocks went forward)",
        f"{MASTER}:17: answer '2025-10-26 03:10:05' is ambiguous in Europe/Helsinki "
        "(clocks went back) and duration 605 and billsec 600 fit both readings",
        f"{MASTER}:20: end '2025-03-10 14:59:10' is before answer '2025-03-10 15:00:10'",
        f"{MASTER}:21: billsec 125 does not match end - answer (120 s)",
    ]
    assert all(r.path == MASTER for r in master.rejected)


def test_rejected_str() -> None:
    assert str(Rejected(Path("Master.csv"), 17, "why")) == "Master.csv:17: why"


# --- encoding, CSV damage and the file as a whole ------------------------------


def test_invalid_utf8_line_is_rejected_and_the_rest_imported(tmp_path: Path) -> None:
    good = cdr_line(uniqueid="1.1").encode()
    bad = cdr_line(clid='"Pirjo" <0401234567>', uniqueid="1.2").replace("Pirjo", "Pirj\udcff", 1)
    path = tmp_path / "Master.csv"
    path.write_bytes(
        good + bad.encode("utf-8", "surrogateescape") + cdr_line(uniqueid="1.3").encode()
    )
    report = read_cdr(path)
    assert [c.uniqueid for c in report.calls] == ["1.1", "1.3"]
    assert [str(r) for r in report.rejected] == [
        f"{path}:2: is not valid UTF-8 (byte 0xff in clid)"
    ]


def test_bare_empty_and_quoted_empty_answer_are_both_unanswered(tmp_path: Path) -> None:
    bare = cdr_line(answer=None, billsec="0", disposition="NO ANSWER", uniqueid="1.1")
    quoted = cdr_line(answer="", billsec="0", disposition="NO ANSWER", uniqueid="1.2")
    assert ',"2025-03-10 09:00:00",,"' in bare  # really unquoted
    report = read_text(tmp_path, bare + quoted)
    assert (report.skipped_unanswered, report.calls, report.rejected) == (2, [], [])


def test_unreadable_csv_record_is_rejected_and_reading_goes_on(tmp_path: Path) -> None:
    huge = cdr_line(clid='"' + "x" * 200_000 + '" <0401234567>', uniqueid="1.2")
    report = read_text(tmp_path, cdr_line(uniqueid="1.1") + huge + cdr_line(uniqueid="1.3"))
    assert [c.uniqueid for c in report.calls] == ["1.1", "1.3"]
    assert [r.line for r in report.rejected] == [2]
    assert "not readable as CSV" in report.rejected[0].reason


def test_blank_lines_are_not_records(tmp_path: Path) -> None:
    report = read_text(tmp_path, "\n" + cdr_line() + "\n")
    assert [c.line for c in report.calls] == [2]
    assert report.rejected == []


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nope.csv"):
        read_cdr(tmp_path / "nope.csv")


def test_unknown_time_zone_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Europe/Tampere"):
        read_text(tmp_path, cdr_line(), tz="Europe/Tampere")


def test_time_zone_option(tmp_path: Path) -> None:
    report = read_text(tmp_path, cdr_line(), tz="UTC")
    assert report.calls[0].started_at == utc(2025, 3, 10, 9, 0, 10)


# --- row-level rules ------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"duration": "-5"}, "duration -5 is negative"),
        ({"billsec": "-1"}, "billsec -1 is negative"),
        ({"billsec": "3.5"}, "billsec '3.5' is not an integer"),
        ({"start": "10.03.2025 09:00:00"}, "start '10.03.2025 09:00:00' is not a time"),
        ({"end": "2025-02-30 09:05:10"}, "end '2025-02-30 09:05:10' is not a valid date"),
        ({"start": "2025-03-10 09:00:20"}, "answer '2025-03-10 09:00:10' is before start"),
        ({"uniqueid": ""}, "uniqueid is empty"),
        (
            {"start": "2026-03-29 03:00:00", "answer": "2026-03-29 04:00:10"},
            "start '2026-03-29 03:00:00' does not exist in Europe/Helsinki",
        ),
    ],
)
def test_row_rejections(tmp_path: Path, overrides: dict[str, str], reason: str) -> None:
    report = read_text(tmp_path, cdr_line(**overrides))
    assert report.calls == []
    assert len(report.rejected) == 1
    assert report.rejected[0].line == 1
    assert report.rejected[0].reason.startswith(reason)


def test_billsec_within_one_second_is_accepted(tmp_path: Path) -> None:
    report = read_text(tmp_path, cdr_line(billsec="301"))
    assert report.calls[0].duration_s == 301
    assert report.rejected == []


def test_answered_disposition_is_case_insensitive_others_skipped(tmp_path: Path) -> None:
    text = cdr_line(disposition="answered", uniqueid="1.1") + cdr_line(
        disposition="FAILED", uniqueid="1.2"
    )
    report = read_text(tmp_path, text)
    assert [c.uniqueid for c in report.calls] == ["1.1"]
    assert report.skipped_unanswered == 1


@pytest.mark.parametrize("withheld", ["anonymous", "Anonymous", "unknown", "Restricted", "private"])
def test_withheld_numbers_have_no_customer(tmp_path: Path, withheld: str) -> None:
    report = read_text(tmp_path, cdr_line(src=withheld, clid=f'"{withheld}" <{withheld}>'))
    assert report.calls[0].customer_e164 is None
    assert report.calls[0].direction is Direction.INBOUND


def test_empty_src_and_number_less_clid_has_no_customer(tmp_path: Path) -> None:
    report = read_text(tmp_path, cdr_line(src="", clid=""))
    assert report.calls[0].customer_e164 is None
    assert report.calls[0].caller_name == ""


def test_clid_that_is_only_a_number(tmp_path: Path) -> None:
    report = read_text(tmp_path, cdr_line(src="", clid="0501234567"))
    assert report.calls[0].customer_e164 == "+358501234567"
    assert report.calls[0].caller_name == ""


def test_outside_prefix_is_stripped_only_when_configured(tmp_path: Path) -> None:
    line = cdr_line(
        src="1001",
        dst="00401234567",
        channel="PJSIP/1001-00000003",
        dstchannel="PJSIP/trunk-00000004",
    )
    plain = read_text(tmp_path, line)
    prefixed = read_text(tmp_path, line, classify=Classifier(outside_prefix="0"))
    assert plain.calls[0].customer_e164 != "+358401234567"
    assert prefixed.calls[0].customer_e164 == "+358401234567"
    assert prefixed.calls[0].direction is Direction.OUTBOUND


def test_feature_code_from_extension_is_internal(tmp_path: Path) -> None:
    report = read_text(tmp_path, cdr_line(src="1001", dst="*97"))
    assert (report.calls, report.skipped_internal) == ([], 1)


def test_internal_pattern_is_configurable(tmp_path: Path) -> None:
    line = cdr_line(src="sip-anna", dst="0401234567", channel="PJSIP/anna-00000001")
    assert read_text(tmp_path, line).calls[0].direction is Direction.INBOUND
    custom = Classifier(internal=r"sip-[a-z]+")
    call = read_text(tmp_path, line, classify=custom).calls[0]
    assert (call.direction, call.agent) == (Direction.OUTBOUND, "anna")


def test_agent_falls_back_to_extension_without_channel(tmp_path: Path) -> None:
    report = read_text(tmp_path, cdr_line(dst="1004", dstchannel=""))
    assert report.calls[0].agent == "1004"


def test_bad_internal_pattern_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="internal extension pattern"):
        Classifier(internal="[0-9")
