"""The audit chain: canonical bodies, sealing, and finding the first tampered row."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kaiku_tui.audit import (
    GENESIS,
    AuditEvent,
    ChainVerifier,
    SealedRow,
    canonical_body,
    event_from_body,
    mac_matches,
    seal,
)
from kaiku_tui.audit.chain import Row, _HmacPads
from kaiku_tui.errors import TamperDetected

KEY = b"audit-mac-key-for-tests-32-bytes"
AT = datetime(2026, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)


def make_event(n: int = 0, **changes: object) -> AuditEvent:
    fields: dict[str, object] = {
        "at": AT + timedelta(seconds=n),
        "actor": "supervisor.virtanen",
        "roles": ("supervisor",),
        "action": "search",
        "outcome": "ok",
        "org": "pirkanmaa",
        "purpose": "feedback",
        "criteria": {"from": "2026-04-01", "min_duration_s": 300},
        "result_count": 2,
        "revealed": (f"rec-{n}", f"rec-{n + 1}"),
    }
    fields.update(changes)
    return AuditEvent(**fields)  # type: ignore[arg-type]


def build_chain(n: int, key: bytes = KEY, actor: str = "supervisor.virtanen") -> list[Row]:
    rows: list[Row] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        row = seal(seq, prev, canonical_body(seq, make_event(seq, actor=actor)), key)
        rows.append((row.seq, row.body, row.prev_hash, row.hash, row.mac))
        prev = row.hash
    return rows


def verify(rows: list[Row], key: bytes = KEY, batch: int = 7) -> ChainVerifier:
    verifier = ChainVerifier(key)
    for i in range(0, len(rows), batch):
        verifier.feed(rows[i : i + batch])
    verifier.finish()
    return verifier


def forge(seq: int, prev: bytes, body: bytes) -> Row:
    """A row as someone without the MAC key can make it: right hash, guessed MAC."""
    digest = hashlib.sha256(prev + seq.to_bytes(8, "big") + body).digest()
    return (seq, body, prev, digest, bytes(32))


# --- canonical bodies ---------------------------------------------------------------


def test_canonical_body_is_sorted_compact_json_with_seq_and_utc_time() -> None:
    body = canonical_body(7, make_event())
    fields = json.loads(body)
    assert fields["seq"] == 7
    assert fields["at"] == "2026-05-01T09:30:15.123456Z"
    assert list(fields) == sorted(fields)
    assert b" " not in body.replace(b"supervisor.virtanen", b"")
    assert body == json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def test_canonical_body_is_deterministic_and_independent_of_input_zone_and_order() -> None:
    helsinki = timezone(timedelta(hours=3))
    event = make_event(criteria={"b": 1, "a": [1, 2]})
    same = make_event(at=AT.astimezone(helsinki), criteria={"a": [1, 2], "b": 1})
    assert canonical_body(3, event) == canonical_body(3, event) == canonical_body(3, same)
    assert canonical_body(3, event) != canonical_body(4, event)


def test_canonical_body_omits_none_and_empty_revealed() -> None:
    event = AuditEvent(at=AT, actor="dpo.niemi", roles=(), action="login", outcome="denied")
    fields = json.loads(canonical_body(1, event))
    assert set(fields) == {"seq", "at", "actor", "roles", "action", "outcome"}
    assert fields["roles"] == []


def test_every_field_round_trips() -> None:
    event = AuditEvent(
        at=AT,
        actor="admin.korhonen",
        roles=("admin", "dpo"),
        action="record.open",
        outcome="error",
        org="hus",
        target="rec-00042",
        subject="9f86d081884c7d659a2feaa0c55ad015",
        purpose="access-request",
        legal_basis="GDPR art. 15",
        request_ref="DPO-2026-17",
        recipient="the data subject",
        criteria={"phone": True, "nested": {"list": [1, 2.5, None, "x"]}},
        result_count=0,
        revealed=("rec-00042",),
        detail="blob store unreachable",
        client_host="10.0.0.15 51234 22",
    )
    assert event_from_body(canonical_body(42, event)) == (42, event)


@pytest.mark.parametrize(
    "text",
    [
        "Ääkkönen Öljymäki ÅSA",
        "nul\x00 esc\x1b[31m del\x7f c1\x85 bell\x07",
        "line\nbreak\r\ttab",
        "bidi \u202eevil\u202c and zero width \u200b",
        'quote " backslash \\ slash /',
        "emoji 📞 and CJK 電話",
        "lone surrogate \udc80 from a file name",
    ],
)
def test_non_ascii_and_control_characters_round_trip(text: str) -> None:
    event = make_event(actor=text, detail=text, criteria={text: text}, revealed=(text,))
    body = canonical_body(9, event)
    body.decode("utf-8")  # always valid UTF-8, so the database can parse it
    assert b"\n" not in body and b"\x00" not in body and b"\x1b" not in body
    assert event_from_body(body) == (9, event)


def test_naive_time_and_bad_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        make_event(at=datetime(2026, 5, 1, 9, 30))
    with pytest.raises(ValueError, match="outcome"):
        make_event(outcome="maybe")
    with pytest.raises(ValueError, match="result_count"):
        make_event(result_count=True)
    with pytest.raises(ValueError, match="seq"):
        canonical_body(0, make_event())
    with pytest.raises(ValueError):
        canonical_body(1, make_event(criteria={"x": float("nan")}))


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1,2]",
        b'{"seq":1}',
        b"\xff\xfe",
        b'{"seq":1,"seq":2,"at":"2026-05-01T09:30:15.123456Z"}',
    ],
)
def test_body_that_canonical_body_could_not_have_written_is_tampering(body: bytes) -> None:
    with pytest.raises(TamperDetected, match="not a kaiku-tui event"):
        event_from_body(body)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("org", None),
        ("unknown", "x"),
        ("roles", "admin"),
        ("result_count", "3"),
        ("at", "2026-05-01T09:30:15Z"),
        ("at", "2026-05-01 09:30:15.123456Z"),
        ("seq", 0),
        ("outcome", "sort of"),
    ],
)
def test_wrongly_typed_or_unknown_field_is_tampering(key: str, value: object) -> None:
    fields = json.loads(canonical_body(1, make_event()))
    fields[key] = value
    with pytest.raises(TamperDetected):
        event_from_body(json.dumps(fields).encode())


# --- sealing ---------------------------------------------------------------------


def test_seal_hashes_prev_seq_and_body_and_macs_the_hash() -> None:
    body = canonical_body(5, make_event())
    prev = hashlib.sha256(b"row 4").digest()
    row = seal(5, prev, body, KEY)
    expected = hashlib.sha256(prev + b"\x00\x00\x00\x00\x00\x00\x00\x05" + body).digest()
    assert row == SealedRow(5, body, prev, expected, hmac.digest(KEY, expected, "sha256"))


def test_seal_refuses_a_short_prev_hash_and_an_empty_key() -> None:
    with pytest.raises(ValueError, match="prev_hash"):
        seal(1, b"short", b"{}", KEY)
    with pytest.raises(ValueError, match="key"):
        seal(1, GENESIS, b"{}", b"")


def test_mac_matches_tells_the_right_key_from_a_wrong_one() -> None:
    row = seal(1, GENESIS, b"{}", KEY)
    assert mac_matches(KEY, row.hash, row.mac)
    assert not mac_matches(b"another key", row.hash, row.mac)
    assert not mac_matches(KEY, row.prev_hash, row.mac)


@pytest.mark.parametrize("key_size", [1, 32, 63, 64, 65, 200])
def test_verifier_mac_is_hmac_sha256(key_size: int) -> None:
    key = bytes(range(256))[:key_size]
    for message in (b"", b"x" * 32, b"y" * 1000):
        assert _HmacPads(key).digest(message) == hmac.digest(key, message, "sha256")


# --- verification ----------------------------------------------------------------


def test_clean_chain_verifies() -> None:
    rows = build_chain(50)
    verifier = verify(rows)
    assert verifier.first_problem is None
    assert verifier.count == 50
    assert verifier.head == (50, rows[-1][3])


def test_empty_log_verifies() -> None:
    verifier = ChainVerifier(KEY)
    verifier.feed([])
    assert verifier.finish() is None
    assert verifier.count == 0 and verifier.head is None


def test_one_hundred_thousand_rows_verify_in_batches() -> None:
    rows: list[Row] = []
    prev = GENESIS
    body = canonical_body(1, make_event()) + b" " * 40
    for seq in range(1, 100_001):
        row = seal(seq, prev, body, KEY)
        rows.append((row.seq, row.body, row.prev_hash, row.hash, row.mac))
        prev = row.hash
    verifier = verify(rows, batch=10_000)
    assert verifier.first_problem is None
    assert verifier.count == 100_000
    assert verifier.head == (100_000, prev)


def edit_body(rows: list[Row]) -> list[Row]:
    seq, body, prev, digest, mac = rows[19]
    rows[19] = (seq, body.replace(b'"ok"', b'"denied"'), prev, digest, mac)
    return rows


def delete_row(rows: list[Row]) -> list[Row]:
    del rows[19]
    return rows


def renumbered(rows: list[Row]) -> list[Row]:
    """Rows moved up one seq, as the seq primary key forces on an insertion."""
    return [(seq + 1, body, prev, digest, mac) for seq, body, prev, digest, mac in rows]


def insert_forged_row(rows: list[Row]) -> list[Row]:
    forged = forge(20, hashlib.sha256(b"a guess").digest(), canonical_body(20, make_event()))
    return rows[:19] + [forged] + renumbered(rows[19:])


def insert_forged_row_linked(rows: list[Row]) -> list[Row]:
    """Linked to the real seq 19 and correctly hashed: only the MAC gives it away."""
    forged = forge(20, rows[18][3], canonical_body(20, make_event()))
    return rows[:19] + [forged] + renumbered(rows[19:])


def swap_rows(rows: list[Row]) -> list[Row]:
    """Swap the contents of seq 20 and 21; the database still returns them by seq."""
    a, b = rows[19], rows[20]
    rows[19] = (a[0], b[1], b[2], b[3], b[4])
    rows[20] = (b[0], a[1], a[2], a[3], a[4])
    return rows


def rehash_without_key(rows: list[Row]) -> list[Row]:
    """Edit seq 20, then fix every hash after it: only the MACs are left wrong."""
    prev = rows[18][3]
    for i in range(19, len(rows)):
        seq, body, _, _, mac = rows[i]
        if seq == 20:
            body = body.replace(b'"ok"', b'"denied"')
        digest = hashlib.sha256(prev + seq.to_bytes(8, "big") + body).digest()
        rows[i] = (seq, body, prev, digest, mac)
        prev = digest
    return rows


def duplicate_seq(rows: list[Row]) -> list[Row]:
    return rows[:20] + [rows[19]] + rows[20:]


def splice_another_log(rows: list[Row]) -> list[Row]:
    """Rows from another log under the same key: each row is sound, only the link is not."""
    return rows[:20] + build_chain(50, actor="someone.else")[20:]


def drop_first_rows(rows: list[Row]) -> list[Row]:
    return rows[3:]


def replace_genesis(rows: list[Row]) -> list[Row]:
    return [forge(1, b"\x01" * 32, rows[0][1])] + rows[1:]


@pytest.mark.parametrize(
    ("tamper", "kind", "seq"),
    [
        (edit_body, "hash", 20),
        (delete_row, "gap", 20),
        (insert_forged_row, "link", 20),
        (insert_forged_row_linked, "mac", 20),
        (swap_rows, "link", 20),
        (rehash_without_key, "mac", 20),
        (duplicate_seq, "order", 20),
        (splice_another_log, "link", 21),
        (drop_first_rows, "gap", 1),
        (replace_genesis, "link", 1),
    ],
)
def test_tampering_is_found_at_the_first_bad_seq(
    tamper: Callable[[list[Row]], list[Row]], kind: str, seq: int
) -> None:
    rows = tamper(build_chain(50))
    verifier = verify(rows)
    problem = verifier.first_problem
    assert problem is not None
    assert (problem.kind, problem.seq) == (kind, seq)
    assert problem.message.startswith(f"seq {seq}: ")
    assert "\n" not in problem.message
    assert verifier.count == len(rows)  # counting goes on after the first problem
    assert verifier.finish() is problem


def test_the_earliest_of_two_edits_is_reported() -> None:
    rows = build_chain(50)
    for index in (34, 9):
        seq, body, prev, digest, mac = rows[index]
        rows[index] = (seq, body + b" ", prev, digest, mac)
    problem = verify(rows).first_problem
    assert problem is not None and (problem.kind, problem.seq) == ("hash", 10)
    assert problem.message == "seq 10: the body was altered (its hash does not match)"


def test_wrong_key_fails_at_seq_one() -> None:
    problem = verify(build_chain(5), key=b"another key").first_problem
    assert problem is not None and (problem.kind, problem.seq) == ("mac", 1)


def test_problem_on_a_batch_boundary_is_found() -> None:
    rows = delete_row(build_chain(50))
    verifier = ChainVerifier(KEY)
    verifier.feed(rows[:19])
    assert verifier.first_problem is None and verifier.head == (19, rows[18][3])
    verifier.feed(rows[19:])
    problem = verifier.finish()
    assert problem is not None and (problem.kind, problem.seq) == ("gap", 20)
    assert "from seq 19 to seq 21" in problem.message


def test_verification_may_start_mid_log_when_told_where() -> None:
    rows = build_chain(50)
    verifier = ChainVerifier(KEY, start=(21, rows[19][3]))
    verifier.feed(rows[20:])
    assert verifier.finish() is None and verifier.count == 30
    unstarted = ChainVerifier(KEY)
    unstarted.feed(rows[20:])
    problem = unstarted.finish()
    assert problem is not None and (problem.kind, problem.seq) == ("gap", 1)


def test_feed_after_finish_is_a_programming_error() -> None:
    verifier = ChainVerifier(KEY)
    verifier.finish()
    with pytest.raises(RuntimeError):
        verifier.feed([])


def test_position_is_kept_when_the_database_fails_mid_batch() -> None:
    rows = build_chain(10)

    def failing() -> Iterator[Row]:
        yield from rows[:4]
        raise OSError("connection lost")

    verifier = ChainVerifier(KEY)
    with pytest.raises(OSError):
        verifier.feed(failing())
    assert verifier.count == 4 and verifier.head == (4, rows[3][3])
    verifier.feed(rows[4:])
    assert verifier.finish() is None and verifier.count == 10


def rehashed_from(rows: list[Row], first: int) -> list[Row]:
    """Edit seq `first` and re-chain every hash after it without the key."""
    prev = rows[first - 2][3] if first > 1 else GENESIS
    for i in range(first - 1, len(rows)):
        seq, body, _, _, mac = rows[i]
        if seq == first:
            body = body.replace(b'"ok"', b'"denied"')
        digest = hashlib.sha256(prev + seq.to_bytes(8, "big") + body).digest()
        rows[i] = (seq, body, prev, digest, mac)
        prev = digest
    return rows


@pytest.mark.parametrize("first", [1, 2, 63, 64, 65, 127, 128, 129, 250, 299, 300])
@pytest.mark.parametrize("batch", [1, 50, 64, 1000])
def test_a_rewrite_is_named_at_its_first_row(first: int, batch: int) -> None:
    """A rewrite without the key is named at its first row, wherever it falls against
    the batches."""
    verifier = verify(rehashed_from(build_chain(300), first), batch=batch)
    problem = verifier.first_problem
    assert problem is not None and (problem.kind, problem.seq) == ("mac", first)
    assert verifier.count == 300


@pytest.mark.parametrize("batch", [1, 64, 1000])
def test_every_single_row_mac_edit_is_caught(batch: int) -> None:
    """Issue 19: every row's MAC is checked, so a MAC damaged on any one row, whatever
    its place against the batches, is named (17 of 200 such edits once went unnoticed)."""
    rows = build_chain(200)
    for i, (seq, body, prev, digest, mac) in enumerate(rows):
        damaged = list(rows)
        damaged[i] = (seq, body, prev, digest, bytes([mac[0] ^ 1]) + mac[1:])
        verifier = verify(damaged, batch=batch)
        problem = verifier.first_problem
        assert problem is not None, f"seq {seq}: a damaged MAC went unnoticed"
        assert (problem.kind, problem.seq) == ("mac", seq)
        assert verifier.count == 200
    assert verify(rows, batch=batch).first_problem is None
