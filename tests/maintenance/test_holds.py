"""Legal holds through the Register: who may set and release them (audited either way),
scope, bad input, and the list."""

from __future__ import annotations

from typing import Any

import pytest

from kaiku_tui.config import Config
from kaiku_tui.domain.access import Identity, Person, Purpose, Role
from kaiku_tui.errors import AccessDenied, NotFound, UsageError
from tests.maintenance.conftest import ADMIN, SUPERVISOR, events, opened

REVIEWER = Identity("reijo.review")
DPO = Identity("dora.dpo")
KESKI_SUPERVISOR = Identity("kaisa.keski")


@pytest.fixture
async def people(config: Config) -> Config:
    admin = await opened(config)
    try:
        await admin.persons.add(Person(REVIEWER.login, "R", frozenset({Role.REVIEWER})))
        await admin.persons.add(Person(DPO.login, "D", frozenset({Role.DPO})))
        await admin.persons.add(
            Person(KESKI_SUPERVISOR.login, "K", frozenset({Role.SUPERVISOR}), ("KESKI",))
        )
    finally:
        await admin.close()
    return config


async def set_hold(config: Config, who: Identity, **what: Any) -> Any:
    register = await opened(config, who)
    try:
        return await register.holds.set(reason="riita", ref="KO-1", **what)
    finally:
        await register.close()


@pytest.mark.parametrize("who", [REVIEWER, DPO])
async def test_reviewers_and_the_dpo_may_not_hold(people: Config, who: Identity) -> None:
    with pytest.raises(AccessDenied, match="may not legal.hold"):
        await set_hold(people, who, record_ids=[1])
    last = [e for e in events(people) if e["actor"] == who.login][-1]
    assert (last["action"], last["outcome"], last["request_ref"]) == (
        "legal.hold",
        "denied",
        "KO-1",
    )


async def test_supervisor_and_admin_hold_and_release_audited(people: Config) -> None:
    (by_sup,) = await set_hold(people, SUPERVISOR, record_ids=[1], purpose=Purpose.BREACH)
    (by_admin,) = await set_hold(people, ADMIN, record_ids=[2])
    assert by_sup.set_by == SUPERVISOR.login and by_sup.purpose is Purpose.BREACH
    admin = await opened(people)
    try:
        released = await admin.holds.release(by_sup.id)
        assert released.released_by == ADMIN.login and released.released_at is not None
        assert [h.id for h in await admin.holds.list()] == [by_admin.id]
        everything = await admin.holds.list(active_only=False)
        assert [h.id for h in everything] == [by_sup.id, by_admin.id]
        with pytest.raises(UsageError, match="released already"):
            await admin.holds.release(by_sup.id)
        with pytest.raises(NotFound, match="hold 99"):
            await admin.holds.release(99)
    finally:
        await admin.close()
    done = [(e["action"], e.get("target"), e["outcome"]) for e in events(people)
            if str(e["action"]).startswith("hold.") or e["action"] == "legal.hold"]  # fmt: skip
    assert done == [
        ("hold.set", "1", "ok"), ("hold.set", "2", "ok"),
        ("hold.release", f"hold:{by_sup.id}", "ok"),
        ("hold.list", None, "ok"), ("hold.list", None, "ok"),
        ("legal.hold", f"hold:{by_sup.id}", "error"), ("legal.hold", "hold:99", "error"),
    ]  # fmt: skip


async def test_a_hold_is_within_the_persons_scope(people: Config) -> None:
    with pytest.raises(AccessDenied, match="may not see organisation ITU"):
        await set_hold(people, KESKI_SUPERVISOR, record_ids=[1])
    (keski,) = await set_hold(people, KESKI_SUPERVISOR, record_ids=[5])
    (itu,) = await set_hold(people, SUPERVISOR, record_ids=[2])
    scoped = await opened(people, KESKI_SUPERVISOR)
    try:
        assert [h.id for h in await scoped.holds.list()] == [keski.id]
        with pytest.raises(AccessDenied):
            await scoped.holds.release(itu.id)
    finally:
        await scoped.close()


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ({"record_ids": [1], "case_id": 1}, "not both or neither"),
        ({}, "not both or neither"),
        ({"record_ids": [77]}, "recording 77 does not exist"),
        ({"case_id": 77}, "case 77 does not exist"),
    ],
)
async def test_bad_holds_are_one_clear_line(people: Config, what: Any, message: str) -> None:
    with pytest.raises((UsageError, NotFound), match=message):
        await set_hold(people, SUPERVISOR, **what)
