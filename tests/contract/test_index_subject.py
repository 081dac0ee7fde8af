"""Data subjects' requests, the disclosure log and a person's audit events, on every backend."""

from __future__ import annotations

from datetime import date

import pytest

from kaiku_tui.audit.chain import event_from_body
from kaiku_tui.domain.recording import Channel
from kaiku_tui.domain.subject import Disclosure, RequestKind, SubjectRequest
from kaiku_tui.errors import StoreError, UsageError
from kaiku_tui.index.base import Index
from tests.contract.rows import AT, event, recording, stored_org

ANNA, BERT = b"\x0a" * 16, b"\x0b" * 16


async def people(index: Index) -> dict[str, list[int]]:
    """Anna has a call and a chat in HKI and a call in PIRHA; Bert one call; one has no number."""
    for code in ("HKI", "PIRHA"):
        await index.add_org(stored_org(code), event("org.add"))
    rows = [
        recording("a1", 1_750_000_300, 60, phone_bidx=ANNA),
        recording("a2", 1_750_000_100, 60, phone_bidx=ANNA, channel=Channel.CHAT),
        recording("a3", 1_750_000_200, 60, phone_bidx=ANNA, org="PIRHA"),
        recording("b1", 1_750_000_150, 60, phone_bidx=BERT),
        recording("n1", 1_750_000_160, 60),
    ]
    await index.add_recordings(rows, event("ingest"))
    found = {
        who: [r.summary.id for r in await index.recordings_of_subject(bidx, ())]
        for who, bidx in (("anna", ANNA), ("bert", BERT))
    }
    return found


async def test_recordings_of_a_subject_oldest_first_within_orgs(index: Index) -> None:
    ids = await people(index)
    anna = await index.recordings_of_subject(ANNA, ())
    assert [r.summary.source_id for r in anna] == ["a2", "a3", "a1"]
    assert {r.summary.channel for r in anna} == {Channel.CALL, Channel.CHAT}
    assert all(r.phone_bidx == ANNA for r in anna)
    hki = await index.recordings_of_subject(ANNA, ("HKI",))
    assert [r.summary.source_id for r in hki] == ["a2", "a1"]
    assert len(ids["bert"]) == 1
    assert await index.recordings_of_subject(b"\x0c" * 16, ()) == []


async def test_subject_events_by_subject_or_target_once_each(index: Index) -> None:
    ids = await people(index)
    a1, a2, a3 = (str(i) for i in sorted(ids["anna"]))
    bert = str(ids["bert"][0])
    anna_hex = ANNA.hex()
    appended = {
        "by_subject": await index.append_audit(event("search", 1, subject=anna_hex)),
        "both": await index.append_audit(event("record.open", 2, target=a1, subject=anna_hex)),
        "by_target": await index.append_audit(event("record.open", 3, target=a2)),  # a denial
        "bert": await index.append_audit(event("record.open", 4, target=bert, subject=BERT.hex())),
        "case": await index.append_audit(event("case.read", 5, target="case:" + a1)),
        "late": await index.append_audit(event("audio.play", 100_000, target=a3)),
    }
    found = await index.subject_events(anna_hex, [a1, a2, a3])
    assert [seq for seq, _ in found] == sorted(
        appended[k] for k in ("by_subject", "both", "by_target", "late")
    )
    assert event_from_body(found[1][1])[1].target == a1
    since = int(AT.timestamp()) + 2
    window = await index.subject_events(anna_hex, [a1, a2, a3], since=since, until=since + 60)
    assert [seq for seq, _ in window] == [appended["both"], appended["by_target"]]
    only_targets = await index.subject_events(None, [a3])
    assert [seq for seq, _ in only_targets] == [appended["late"]]
    assert await index.subject_events(None, []) == []


async def test_events_that_revealed_a_recording_in_a_list(index: Index) -> None:
    """A search page, a case's links, a sample: the recording only in `revealed`
    (migration 9). Exactly those, by any of the names, once each, in the window; gone
    with the events an audit cut takes."""
    ids = await people(index)
    a1, a2, _a3 = (str(i) for i in sorted(ids["anna"]))
    bert = str(ids["bert"][0])
    gone = await index.append_audit(event("search", 0, revealed=("777777",)))  # destroyed
    page = await index.append_audit(event("search", 1, revealed=(bert, a1, a2)))
    await index.append_audit(event("search", 2, revealed=(bert,)))
    await index.append_audit(event("record.open", 3, target=a1))  # target only: not here
    link = await index.append_audit(event("case.link", 4, target="case:FB-1", revealed=(a2,)))
    await index.append_audit(event("sample.draw", 5, revealed=("1" + a1,)))  # not a prefix
    found = await index.revealing_events([a1, a2])
    assert [seq for seq, _ in found] == [page, link]
    assert event_from_body(found[0][1])[1].revealed == (bert, a1, a2)
    since = int(AT.timestamp()) + 2
    assert [s for s, _ in await index.revealing_events([a2], since=since)] == [link]
    assert [s for s, _ in await index.revealing_events([a1], until=since)] == [page]
    assert await index.revealing_events([]) == []
    assert await index.revealing_events(["case:FB-1"]) == []  # a target is not a reveal
    assert [seq for seq, _ in await index.revealing_events(["777777"])] == [gone]
    (at_gone,) = await index.audit_rows(gone - 1, 1)
    await index.cut_audit(gone, bytes(at_gone[3]), event("audit.retain", 6))
    assert await index.revealing_events(["777777"]) == []
    assert [seq for seq, _ in await index.revealing_events([a1, a2])] == [page, link]


async def test_subject_events_take_many_targets(index: Index) -> None:
    targets = [str(n) for n in range(1, 1203)]  # more than one IN list's worth on SQLite
    seqs = [await index.append_audit(event("record.open", n, target=t))
            for n, t in enumerate(targets[::100])]  # fmt: skip
    await index.append_audit(event("record.open", 99, target="9999"))
    found = await index.subject_events(None, targets)
    assert [seq for seq, _ in found] == seqs


async def test_requests_are_recorded_listed_and_answered_once(index: Index) -> None:
    def req(ref: str, received: date, kind: RequestKind = RequestKind.ACCESS) -> SubjectRequest:
        return SubjectRequest(ref, kind, received, None, ANNA.hex(), "dora.dpo")

    before = await index.audit_head()
    await index.add_subject_request(req("R-2", date(2026, 3, 1)), event("subject.request.add"))
    await index.add_subject_request(req("R-1", date(2026, 2, 1)), event("subject.request.add"))
    await index.add_subject_request(
        SubjectRequest("A-1", RequestKind.AUTHORITY, date(2026, 1, 5), None, None, "dora.dpo"),
        event("subject.request.add"),
    )
    head = await index.audit_head()
    assert head is not None and head[0] == (before[0] if before else 0) + 3
    with pytest.raises(UsageError, match="'R-1' is recorded already"):
        await index.add_subject_request(req("R-1", date(2026, 2, 2)), event("dup"))
    assert await index.audit_head() == head  # refused: no event either
    assert await index.subject_request("R-1") == req("R-1", date(2026, 2, 1))
    assert await index.subject_request("nope") is None
    assert await index.answer_subject_request("R-1", "2026-02-20", event("answer"))
    assert not await index.answer_subject_request("R-1", "2026-02-21", event("answer"))
    listed = await index.subject_requests()
    assert [(r.ref, r.answered) for r in listed] == [
        ("A-1", None), ("R-2", None), ("R-1", date(2026, 2, 20)),
    ]  # fmt: skip
    assert listed[0].subject is None and listed[0].kind is RequestKind.AUTHORITY


async def test_disclosure_log(index: Index) -> None:
    request = SubjectRequest("P-7", RequestKind.AUTHORITY, date(2026, 1, 5), None, None, "d")
    await index.add_subject_request(request, event("subject.request.add"))
    first = Disclosure(0, 1_760_000_000, "dora.dpo", "Poliisi", "Poliisilaki 4:3", "P-7",
                       (3, 1), "ab" * 32)  # fmt: skip
    one = await index.add_disclosure(first, event("disclose"))
    two = await index.add_disclosure(first, event("disclose"))
    assert two > one
    listed = await index.disclosures(10)
    assert [d.id for d in listed] == [two, one]
    assert listed[1] == Disclosure(
        one,
        *[
            getattr(first, f)
            for f in (
                "at",
                "by",
                "authority",
                "legal_basis",
                "request_ref",
                "record_ids",
                "manifest_sha256",
            )
        ],
    )
    assert [d.id for d in await index.disclosures(1)] == [two]
    head = await index.audit_head()
    orphan = Disclosure(0, 1, "d", "X", "Y", "no-such-request", (1,), "00")
    with pytest.raises(StoreError):
        await index.add_disclosure(orphan, event("disclose"))
    assert await index.audit_head() == head
