"""The audit chain as stored by the index: seqs, sealed rows that verify, queries, atomicity."""

from __future__ import annotations

import calendar
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

import pytest

from kaiku_tui.audit.chain import AuditEvent, ChainVerifier, canonical_body, event_from_body
from kaiku_tui.domain.access import Person, Role
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.domain.browse import Count, RecordingFilter
from kaiku_tui.errors import KaikuError, UsageError
from kaiku_tui.index.base import Index
from kaiku_tui.index.protocols import AuditStore, Directory
from kaiku_tui.index.records import AddResult
from tests.contract.rows import MAC_KEY, event, mac_of, recording, stored_org, stored_person

ADMIN = Person("admin.aalto", "Aino Aalto", frozenset({Role.ADMIN}))


def varied_event(n: int) -> AuditEvent:
    """Events with every kind of field, non-ASCII text included."""
    return event(
        ("search", "record.open", "audio.play")[n % 3],
        n * 37,
        actor=("supervisor.mäkinen", "reviewer.laine")[n % 2],
        org="HKI" if n % 2 else None,
        target=str(n),
        purpose="feedback",
        criteria={"from": "2026-04-01", "min_duration": n, "note": "ääni ∆"},
        result_count=n,
        revealed=tuple(str(i) for i in range(n % 4)),
        client_host="10.0.0.7 52022 22",
    )


async def all_rows(index: Index, batch: int) -> list[tuple[int, bytes, bytes, bytes, bytes]]:
    rows: list[tuple[int, bytes, bytes, bytes, bytes]] = []
    while found := await index.audit_rows(rows[-1][0] if rows else 0, batch):
        assert len(found) <= batch
        rows += [(r.seq, r.body, r.prev_hash, r.hash, r.mac) for r in found]
    return rows


def verify(rows: list[tuple[int, bytes, bytes, bytes, bytes]], key: bytes = MAC_KEY) -> object:
    verifier = ChainVerifier(key)
    verifier.feed(rows)
    return verifier.finish()


def epoch(at: datetime) -> int:
    return calendar.timegm(at.utctimetuple())


async def last_action(index: Index) -> str:
    head = await index.audit_head()
    assert head is not None
    (row,) = await index.audit_rows(head[0] - 1, 1)
    return event_from_body(row.body)[1].action


async def assert_refused_without_trace(
    index: Index, change: Awaitable[object], error: type[BaseException] = KaikuError
) -> None:
    """A change that fails leaves neither itself nor its audit event."""
    head = await index.audit_head()
    with pytest.raises(error):
        await change
    assert await index.audit_head() == head


# -- 5. append, rows, head, verification ---------------------------------------------


async def test_empty_log_has_no_head_and_no_rows(index: AuditStore) -> None:
    assert await index.audit_head() is None
    assert await index.audit_rows(0, 10) == []
    assert await index.audit_bodies(AuditQuery()) == []


async def test_append_returns_consecutive_seqs_from_one(index: Index) -> None:
    assert [await index.append_audit(varied_event(n)) for n in range(12)] == list(range(1, 13))
    rows = await all_rows(index, 100)
    assert [r[0] for r in rows] == list(range(1, 13))
    assert await index.audit_head() == (12, rows[-1][3])


async def test_sealed_rows_verify_with_the_same_key(index: Index) -> None:
    events = [varied_event(n) for n in range(30)]
    for e in events:
        await index.append_audit(e)
    rows = await all_rows(index, batch=7)
    assert len(rows) == 30
    assert [r[1] for r in rows] == [canonical_body(n + 1, e) for n, e in enumerate(events)]
    assert [event_from_body(r[1]) for r in rows] == list(enumerate(events, start=1))
    assert verify(rows) is None
    problem = verify(rows, key=b"another-audit-mac-key")
    assert problem is not None and problem.kind == "mac" and problem.seq == 1  # type: ignore[attr-defined]


async def test_audit_rows_pages_after_a_seq(index: AuditStore) -> None:
    for n in range(10):
        await index.append_audit(varied_event(n))
    assert [r.seq for r in await index.audit_rows(4, 3)] == [5, 6, 7]
    assert [r.seq for r in await index.audit_rows(8, 100)] == [9, 10]
    assert await index.audit_rows(10, 100) == []


async def test_an_event_with_nul_characters_is_stored_and_found(index: AuditStore) -> None:
    """A NUL (a pasted search, a CDR field) is JSON-escaped in the body; PostgreSQL's jsonb
    cannot hold it, and the columns generated from the body must not refuse the event."""
    odd = event("search", actor=r"x\u0000y", detail="a\x00b", criteria={"agent": "\x00", "q": "\\"})
    assert await index.append_audit(odd) == 1
    (row,) = await index.audit_rows(0, 10)
    assert event_from_body(row.body) == (1, odd) and verify([row]) is None
    assert await index.audit_bodies(AuditQuery(actor=r"x\u0000y")) == [row.body]
    assert await index.audit_bodies(AuditQuery(action="search")) == [row.body]


# -- audit_bodies: actor, action, since -----------------------------------------------


async def test_audit_bodies_filter_by_actor_action_and_since(index: AuditStore) -> None:
    events = [varied_event(n) for n in range(24)]
    for e in events:
        await index.append_audit(e)
    since = epoch(events[10].at)
    queries = [
        AuditQuery(),
        AuditQuery(actor="reviewer.laine"),
        AuditQuery(action="record.open"),
        AuditQuery(since=since),
        AuditQuery(since=since, actor="supervisor.mäkinen", action="audio.play"),
        AuditQuery(actor="nobody"),
    ]
    for query in queries:
        want = [canonical_body(n + 1, e) for n, e in enumerate(events) if selected(e, query)]
        assert await index.audit_bodies(query) == want, str(query)
        assert want or query.actor == "nobody"


def selected(e: AuditEvent, q: AuditQuery) -> bool:
    return (
        (q.actor is None or e.actor == q.actor)
        and (q.action is None or e.action == q.action)
        and (q.since is None or e.at >= datetime.fromtimestamp(q.since, UTC))
    )


async def test_since_is_inclusive_to_the_microsecond(index: AuditStore) -> None:
    second = datetime(2026, 5, 2, 8, 0, tzinfo=UTC)
    for at in (second - timedelta(microseconds=1), second, second + timedelta(microseconds=1)):
        await index.append_audit(AuditEvent(at, "dpo.nieminen", ("dpo",), "audit.read", "ok"))
    bodies = await index.audit_bodies(AuditQuery(since=epoch(second)))
    assert [event_from_body(b)[0] for b in bodies] == [2, 3]


async def test_audit_bodies_limit_keeps_the_newest_oldest_first(index: AuditStore) -> None:
    for n in range(20):
        await index.append_audit(varied_event(n))
    bodies = await index.audit_bodies(AuditQuery(actor="reviewer.laine", limit=3))
    assert [event_from_body(b)[0] for b in bodies] == [16, 18, 20]


# -- changes land with their event, or neither lands ------------------------------------


async def test_changes_land_with_their_events(index: Index) -> None:
    await index.put_person(ADMIN, event("person.manage"), new=True, mac=mac_of(ADMIN), was=None)
    assert await last_action(index) == "person.manage" and await index.get_person(ADMIN.login)
    await index.add_org(stored_org("HKI"), event("org.manage"))
    assert await last_action(index) == "org.manage" and await index.get_org("HKI")
    result = await index.add_recordings([recording("a", 1, 5)], event("ingest", detail="cdr.csv"))
    assert result == AddResult(1, 0) and await last_action(index) == "ingest"
    assert await index.audit_head() == (3, (await index.audit_rows(2, 1))[0].hash)
    assert verify(await all_rows(index, 10)) is None


async def test_duplicate_new_person_leaves_no_trace(index: Index) -> None:
    await index.put_person(ADMIN, event("person.manage"), new=True, mac=mac_of(ADMIN), was=None)
    other = Person(ADMIN.login, "Someone Else", frozenset({Role.DPO}))
    await assert_refused_without_trace(
        index, index.put_person(other, event("x"), new=True, mac=mac_of(other), was=None)
    )
    assert await index.get_person(ADMIN.login) == stored_person(ADMIN)


async def test_duplicate_person_is_a_usage_error(index: Directory) -> None:
    await index.put_person(ADMIN, event("person.manage"), new=True, mac=mac_of(ADMIN), was=None)
    with pytest.raises(UsageError):
        await index.put_person(ADMIN, event("person.manage"), new=True, mac=mac_of(ADMIN), was=None)


async def test_replacing_a_missing_person_leaves_no_trace(index: Index) -> None:
    await index.append_audit(event("login"))
    with pytest.raises(UsageError):
        await index.put_person(
            ADMIN, event("person.manage"), new=False, mac=mac_of(ADMIN), was=None
        )
    assert await index.audit_head() == (1, (await index.audit_rows(0, 1))[0].hash)
    assert await index.get_person(ADMIN.login) is None


async def test_existing_org_code_leaves_no_trace(index: Index) -> None:
    await index.add_org(stored_org("HKI"), event("org.manage"))
    renamed = stored_org("HKI", master_key_id="mk-2")
    await assert_refused_without_trace(index, index.add_org(renamed, event("org.manage")))
    assert await index.get_org("HKI") == stored_org("HKI")
    with pytest.raises(UsageError):
        await index.add_org(renamed, event("org.manage"))


BAD_BATCH = [recording("a", 1, 5), recording("b", 2, 5, org="NOPE"), recording("c", 3, 5)]


async def test_failed_ingest_leaves_no_rows_and_no_event(index: Index) -> None:
    """A batch with a recording of an unknown organisation is refused whole."""
    await index.add_org(stored_org("HKI"), event("org.manage"))
    change = index.add_recordings(BAD_BATCH, event("ingest"))
    await assert_refused_without_trace(index, change, error=Exception)
    assert await index.count(RecordingFilter(), cap=None) == Count(0, True)


async def test_refused_ingest_raises_a_person_facing_error(index: Index) -> None:
    """Every backend refuses the same write with the same error, never its driver's own
    (errors.py: "nothing else turns into a traceback"; StoreError: "refused a write")."""
    await index.add_org(stored_org("HKI"), event("org.manage"))
    with pytest.raises(KaikuError):
        await index.add_recordings(BAD_BATCH, event("ingest"))
