"""Persons and organisations protected like the audit log (issue 16, item 6), on both backends.

The attacker owns the index (the SQLite file, or the tables as their PostgreSQL owner)
but not the key: a person or organisation row changed behind the program's back is
refused at the next session, and `audit verify` and `doctor` name it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from kaiku_tui.config import Config, load
from kaiku_tui.domain.access import Identity, Person, Role
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.domain.org import Organisation
from kaiku_tui.errors import AccessDenied, StoreError
from kaiku_tui.register import Register
from kaiku_tui.register.rowseal import SEALED_ACTION, SEALED_FACT, RowTampered
from tests.register.test_concurrency import configure, index_url

ADMIN = Identity("admin.aalto")
REV = Identity("rev1")
SUP = Identity("sup1")

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"])


@pytest.fixture
async def config(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Config]:
    async with index_url(backend, request) as url:
        config = load(configure(tmp_path, url))
        admin = await Register.initialise(config, ADMIN, "Admin")
        try:
            await admin.orgs.add(Organisation("HKI", "Helsinki", None, None, 365))
            await admin.orgs.add(Organisation("ITU", "Itä-Uusimaa", None, None, 365))
            await admin.persons.add(Person(REV.login, "Reviewer", frozenset({Role.REVIEWER})))
            await admin.persons.add(Person(SUP.login, "Supervisor", frozenset({Role.SUPERVISOR})))
        finally:
            await admin.close()
        yield config


async def behind_the_back(config: Config, *statements: str) -> None:
    """As the owner of the files or tables, with sqlite3 or psql: no key, no program."""
    if not config.is_network:
        db = sqlite3.connect(config.sqlite_path)
        with db:
            for statement in statements:
                db.execute(statement)
        db.close()
        return
    conn = await asyncpg.connect(config.index_url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def verify(config: Config) -> tuple[tuple[str, ...], bool, list[str]]:
    """As the admin: the rows `audit verify` names, whether it is ok, and doctor's failures."""
    admin = await Register.open(config, ADMIN, environ={})
    try:
        report = await admin.audit.verify()
        checks = await admin.upkeep.health()
    finally:
        await admin.close()
    return report.bad_rows, report.ok, [c.detail for c in checks if c.status == "fail"]


async def last_denied(config: Config) -> str | None:
    admin = await Register.open(config, ADMIN, environ={})
    try:
        events = await admin.audit.events(AuditQuery(action="session.open", limit=100_000))
    finally:
        await admin.close()
    denied = [e for _, e in events if e.outcome == "denied" and e.actor == REV.login]
    return denied[-1].detail if denied else None


async def test_a_role_edited_behind_the_back_is_refused_and_named(config: Config) -> None:
    await behind_the_back(
        config, "UPDATE person SET roles = 'admin,dpo,supervisor' WHERE login = 'rev1'"
    )
    with pytest.raises(RowTampered, match="person rev1") as caught:
        await Register.open(config, REV, environ={})
    assert isinstance(caught.value, AccessDenied) and caught.value.exit_code == 4
    assert await last_denied(config) == "person rev1: row MAC does not verify"
    bad, ok, failed = await verify(config)
    assert bad == ("person rev1",) and not ok
    assert any("person rev1" in f for f in failed)


async def test_a_cleared_mac_is_refused_after_the_sealing(config: Config) -> None:
    await behind_the_back(
        config, "UPDATE person SET roles = 'admin,dpo', mac = NULL WHERE login = 'rev1'"
    )
    with pytest.raises(RowTampered, match="person rev1"):
        await Register.open(config, REV, environ={})
    assert (await verify(config))[0] == ("person rev1",)


@pytest.mark.parametrize(
    "change",
    [
        "retention_days = 99999",
        "contract_end = '2020-01-01'",
        "name = 'Someone else'",
        "master_key_id = 'other'",
    ],
)
async def test_an_organisation_row_edited_behind_the_back_is_named(
    config: Config, change: str
) -> None:
    await behind_the_back(config, f"UPDATE organisation SET {change} WHERE code = 'HKI'")
    bad, ok, failed = await verify(config)
    assert bad == ("organisation HKI",) and not ok
    assert any("organisation HKI" in f for f in failed)
    admin = await Register.open(config, ADMIN, environ={})
    try:
        with pytest.raises(RowTampered, match="organisation HKI"):
            await admin.orgs.listing()
        with pytest.raises(RowTampered, match="organisation HKI"):
            await admin.retention.plan()
        with pytest.raises(RowTampered, match="organisation HKI"):
            await admin.upkeep.key_status()
    finally:
        await admin.close()


async def test_swapped_macs_are_both_named(config: Config) -> None:
    await behind_the_back(
        config,
        "UPDATE person SET mac = (SELECT mac FROM person WHERE login = 'sup1') "
        "WHERE login = 'rev1'",
        "UPDATE organisation SET mac = (SELECT mac FROM organisation WHERE code = 'ITU') "
        "WHERE code = 'HKI'",
    )
    assert (await verify(config))[0] == ("person rev1", "organisation HKI")


async def test_the_sealing_cannot_be_had_again(config: Config) -> None:
    """Removing the fact, to have edited rows sealed at the next open, is refused: the
    audit log says the rows were sealed."""
    await behind_the_back(
        config,
        f"DELETE FROM register_info WHERE name = '{SEALED_FACT}'",
        "UPDATE person SET roles = 'admin', mac = NULL WHERE login = 'rev1'",
    )
    with pytest.raises(StoreError, match="behind the program's back"):
        await Register.open(config, REV, environ={})


async def test_an_admin_repairs_a_person_and_the_change_is_audited(config: Config) -> None:
    await behind_the_back(config, "UPDATE person SET roles = 'admin' WHERE login = 'rev1'")
    admin = await Register.open(config, ADMIN, environ={})
    try:
        await admin.persons.change(REV.login, frozenset({Role.REVIEWER}), ())
        (event,) = [e for _, e in await admin.audit.events(AuditQuery(action="person.set"))]
        assert event.criteria is not None and event.criteria["repaired"] is True
    finally:
        await admin.close()
    rev = await Register.open(config, REV, environ={})
    try:
        assert rev.person.roles == frozenset({Role.REVIEWER})
    finally:
        await rev.close()
    assert (await verify(config))[:2] == ((), True)


async def test_a_register_from_before_migration_10_is_sealed_once(config: Config) -> None:
    """As an old register: no MACs and no fact. The first open seals every row and
    records it in the chain; a key rotation afterwards re-seals the organisations."""
    await behind_the_back(
        config,
        "UPDATE person SET mac = NULL",
        "UPDATE organisation SET mac = NULL",
        f"DELETE FROM register_info WHERE name = '{SEALED_FACT}'",
    )
    # The sealing event of `initialise` is the one an old register would not have.
    if not config.is_network:
        await behind_the_back(config, "DROP TRIGGER audit_event_no_delete")
    else:
        await behind_the_back(config, "ALTER TABLE audit_event DISABLE TRIGGER USER")
    await behind_the_back(
        config,
        f'DELETE FROM audit_event WHERE body LIKE \'%"action":"{SEALED_ACTION}"%\'',
    )
    rev = await Register.open(config, REV, environ={})
    await rev.close()
    admin = await Register.open(config, ADMIN, environ={})
    try:
        events = await admin.audit.events(AuditQuery(action=SEALED_ACTION))
        (sealed,) = [e for _, e in events]
        assert sealed.result_count == 5 and sealed.criteria == {"persons": 3, "orgs": 2}
        assert (sealed.detail or "").startswith("sha256 ")
        await admin.upkeep.rotate_keys({})
        assert [o.code for o in await admin.orgs.listing()] == ["HKI", "ITU"]
    finally:
        await admin.close()
