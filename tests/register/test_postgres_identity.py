"""`[access] identity = "database"`: each supervisor opens the register with a database login
of their own (its password in `[index] password_file`), the database vouches for who it is,
and row-level security filters by that same person.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from kaiku_tui.config import Config, load, write_default
from kaiku_tui.domain.access import Identity, Person, Purpose, Role
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import Channel, Direction, NewRecording
from kaiku_tui.errors import AccessDenied, NotFound
from kaiku_tui.register import Register
from tests.contract import pg
from tests.register.test_concurrency import configure

ADMIN = Identity("admin.aalto")
SHARED_OS_LOGIN = Identity("jump", "192.0.2.7")  # the same OS account for everyone
PER_ORG = {"HKI": 7, "PIRHA": 5}


@dataclass
class Setup:
    owner_config: Config
    folder: Path
    logins: dict[str, pg.Login]  # "hki", "pirha", "stranger", "admin"

    def config_of(self, who: str, *, identity: str = "database") -> Config:
        """A config that connects as `who`'s login, the password in a 0600 file."""
        login = self.logins[who]
        folder = self.folder / who
        folder.mkdir(exist_ok=True)
        secret = folder / "db-password"
        secret.write_text(login.password + "\n")
        secret.chmod(0o600)
        path = folder / "config.toml"
        write_default(path, self.owner_config.data_dir)
        url = login.dsn(self.owner_config.index_url)
        path.write_text(
            path.read_text() + f'\n[index]\nurl = "{url}"\npassword_file = "{secret}"\n'
            f'\n[access]\nidentity = "{identity}"\n'
        )
        return load(path)


def recordings(org: str, n: int) -> list[NewRecording]:
    return [
        NewRecording(org, Channel.CALL, Direction.INBOUND, 1_767_225_600 + 60 * i, 30 + i,
                     "agent-1", "+358 9 100", f"{org}-{i}", phone="+358401234567")
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture
async def setup(pg_server: pg.PgServer, tmp_path: Path) -> AsyncIterator[Setup]:
    """A register made by its owner (OS identity admin.aalto), two organisations, and
    a supervisor login for each; and a login that is no person."""
    async with AsyncExitStack() as stack:
        dsn = await stack.enter_async_context(pg_server.schema())
        config = load(configure(tmp_path, dsn))
        admin = await Register.initialise(config, ADMIN, "Admin")  # makes the app role
        try:
            app_role = await pg_server.app_role()
            logins = {
                who: await stack.enter_async_context(pg_server.login(app_role))
                for who in ("hki", "pirha", "stranger", "admin")
            }
            for org, n in PER_ORG.items():
                await admin.orgs.add(Organisation(org, org, date(2024, 1, 1), date(2030, 1, 1)))
                await admin.intake.add_recordings(recordings(org, n), source="test")
                person = Person(logins[org.lower()].name, org, frozenset({Role.SUPERVISOR}), (org,))
                await admin.persons.add(person)
            admin_login = Person(logins["admin"].name, "Admin", frozenset({Role.ADMIN}))
            await admin.persons.add(admin_login)
        finally:
            await admin.close()
        yield Setup(config, tmp_path, logins)


async def test_each_login_is_its_own_person_and_sees_its_own_organisation(setup: Setup) -> None:
    for who, org in (("hki", "HKI"), ("pirha", "PIRHA")):
        login = setup.logins[who].name
        register = await Register.open(setup.config_of(who), SHARED_OS_LOGIN, environ={})
        try:
            assert register.person.login == login  # not "jump", the OS login
            assert register.person.orgs == (org,)
            page = await register.recordings.search(RecordingFilter(), limit=50)
            assert {r.org for r in page.rows} == {org} and len(page.rows) == PER_ORG[org]
            opened = await register.recordings.open_recording(page.rows[0].id, Purpose.FEEDBACK)
            assert opened.summary.org == org
        finally:
            await register.close()
    admin = await Register.open(setup.owner_config, ADMIN, environ={})
    try:
        await admin.persons.change(ADMIN.login, frozenset({Role.ADMIN, Role.DPO}), ())
        for who in ("hki", "pirha"):
            login = setup.logins[who].name
            events = await admin.audit.events(AuditQuery(actor=login, limit=100))
            actions = [e.action for _, e in events]
            assert actions == ["session.open", "search", "record.open"], actions
            assert all(e.client_host == "192.0.2.7" for _, e in events)
        report = await admin.audit.verify()
    finally:
        await admin.close()
    assert report.problem is None, report.problem


async def test_the_database_hides_other_organisations_even_from_the_app(setup: Setup) -> None:
    """The HKI supervisor names a PIRHA recording's id: the database does not return the
    row at all (row-level security), so the register finds no such recording."""
    owner = await asyncpg.connect(setup.owner_config.index_url)
    try:
        pirha_id = await owner.fetchval("SELECT min(id) FROM recording WHERE org = 'PIRHA'")
    finally:
        await owner.close()
    register = await Register.open(setup.config_of("hki"), SHARED_OS_LOGIN, environ={})
    try:
        with pytest.raises(NotFound):
            await register.recordings.open_recording(pirha_id, Purpose.FEEDBACK)
        count = await register.recordings.count(RecordingFilter(), cap=None)
        assert count.value == PER_ORG["HKI"]
    finally:
        await register.close()


async def test_a_login_that_is_no_person_is_refused_and_audited(setup: Setup) -> None:
    with pytest.raises(AccessDenied, match="is not an active named person"):
        await Register.open(setup.config_of("stranger"), SHARED_OS_LOGIN, environ={})
    admin = await Register.open(setup.owner_config, ADMIN, environ={})
    try:
        await admin.persons.change(ADMIN.login, frozenset({Role.ADMIN, Role.DPO}), ())
        events = await admin.audit.events(AuditQuery(actor=setup.logins["stranger"].name))
    finally:
        await admin.close()
    assert [(e.action, e.outcome) for _, e in events] == [("session.open", "denied")]


async def test_with_identity_os_the_os_login_is_the_person(setup: Setup) -> None:
    """The same database login, identity = "os": the OS login decides, and "jump" is
    not a person, however well the database login is known."""
    with pytest.raises(AccessDenied, match="'jump' is not an active named person"):
        await Register.open(setup.config_of("hki", identity="os"), SHARED_OS_LOGIN, environ={})


async def test_the_index_shows_no_password(setup: Setup) -> None:
    config = setup.config_of("hki")
    register = await Register.open(config, SHARED_OS_LOGIN, environ={})
    try:
        shown = f"{register.location} {register._index!r} {config!r}"
    finally:
        await register.close()
    assert setup.logins["hki"].password not in shown
    assert setup.logins["hki"].name not in register.location


async def test_an_admin_login_maintains_the_register_through_the_app_role(setup: Setup) -> None:
    """What an admin does in the app (organisations, persons, ingest) needs only the
    application role's privileges; a supervisor login may not do it even by hand."""
    register = await Register.open(setup.config_of("admin"), SHARED_OS_LOGIN, environ={})
    try:
        await register.orgs.add(Organisation("VARHA", "VARHA", date(2024, 1, 1), None))
        added = await register.intake.add_recordings(recordings("VARHA", 3), source="test")
        assert added.added == 3
        await register.persons.change(setup.logins["hki"].name, frozenset({Role.SUPERVISOR}),
                                  ("HKI", "VARHA"))  # fmt: skip
    finally:
        await register.close()
    hki = await Register.open(setup.config_of("hki"), SHARED_OS_LOGIN, environ={})
    try:
        count = await hki.recordings.count(RecordingFilter(), cap=None)
    finally:
        await hki.close()
    assert count.value == PER_ORG["HKI"] + 3  # the database follows the new scope at once
    conn = await setup.logins["pirha"].connect(setup.owner_config.index_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await conn.execute(
                "INSERT INTO organisation (code, name, master_key_id) VALUES ('X', 'X', 'k')"
            )
    finally:
        await conn.close()


async def test_init_with_database_identity_makes_the_owner_login_the_admin(
    pg_server: pg.PgServer, tmp_path: Path
) -> None:
    async with pg_server.schema() as dsn:
        path = configure(tmp_path, dsn)
        path.write_text(path.read_text() + '\n[access]\nidentity = "database"\n')
        register = await Register.initialise(load(path), SHARED_OS_LOGIN, "Owner")
        try:
            owner = register.person.login
            persons = await register.persons.listing()
        finally:
            await register.close()
        conn = await asyncpg.connect(dsn)
        try:
            assert owner == await conn.fetchval("SELECT session_user")
        finally:
            await conn.close()
    assert owner != SHARED_OS_LOGIN.login
    assert [(p.login, p.roles) for p in persons] == [(owner, frozenset({Role.ADMIN}))]
