"""What the database itself enforces on an application login (migration 3): privileges on
the audit table, and row-level security by the organisation scope of the login's person.

Every test connects as real login roles, members of the application role, the way a
supervisor's own database login or a direct SQL session would.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from kaiku_tui.domain.access import Person, Role
from kaiku_tui.domain.browse import RecordingFilter, Sort, SortKey
from kaiku_tui.errors import StoreError
from kaiku_tui.index.postgres import PostgresIndex
from kaiku_tui.index.postgres_password import read_password_file
from kaiku_tui.index.postgres_schema import MIGRATIONS
from tests.contract import pg
from tests.contract.rows import MAC_KEY, ORGS, dataset, event, mac_of, stored_org

ROWS = dataset()
PER_ORG = Counter(r.summary.org for r in ROWS)
TAGS_PER_ORG = Counter(
    {o: sum(len(r.summary.tags) for r in ROWS if r.summary.org == o) for o in ORGS}
)
# (roles, scope, active) of each login that is a person; "stranger" is a login but no person.
PERSONS = {
    "hki": ((Role.SUPERVISOR,), ("HKI",), True),
    "two": ((Role.REVIEWER,), ("PIRHA", "VARHA"), True),
    "dpo": ((Role.DPO,), (), True),
    "retired": ((Role.SUPERVISOR,), ("HKI",), False),
}


@dataclass
class Register:
    dsn: str  # the owner's, with the schema on the search_path
    app_role: str
    logins: dict[str, pg.Login]

    async def connect(self, who: str) -> asyncpg.Connection:
        return await self.logins[who].connect(self.dsn)


@pytest.fixture
async def register(pg_server: pg.PgServer) -> AsyncIterator[Register]:
    """A schema holding the contract dataset, migrated by its owner, with one login
    (a member of the application role) per entry of PERSONS, and a stranger."""
    app_role = await pg_server.app_role()
    async with AsyncExitStack() as stack:
        dsn = await stack.enter_async_context(pg_server.schema())
        index = await PostgresIndex.open(dsn, MAC_KEY, create=True)  # makes the app role
        try:
            logins = {
                who: await stack.enter_async_context(pg_server.login(app_role))
                for who in (*PERSONS, "stranger")
            }
            for code in ORGS:
                await index.add_org(stored_org(code), event("org.manage"))
            await index.add_recordings(ROWS, event("ingest"))
            for who, (roles, orgs, active) in PERSONS.items():
                person = Person(logins[who].name, who, frozenset(roles), orgs, active)
                await index.put_person(
                    person, event("person.manage"), new=True, mac=mac_of(person), was=None
                )
        finally:
            await index.close()
        yield Register(dsn, app_role, logins)


async def values(conn: asyncpg.Connection, query: str) -> list[Any]:
    return [r[0] for r in await conn.fetch(query)]


# -- the audit table: INSERT and SELECT only --------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET mac = '\\x00' WHERE seq = 1",
        "DELETE FROM audit_event WHERE seq = 1",
        "TRUNCATE audit_event",
    ],
)
async def test_the_app_role_may_not_change_audit_rows(register: Register, statement: str) -> None:
    """Refused by privilege ("permission denied"), before the trigger ("append-only")
    would run: the role itself holds no right to do it."""
    conn = await register.connect("dpo")
    try:
        before = await values(conn, "SELECT hash FROM audit_event ORDER BY seq")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for table"):
            await conn.execute(statement)
        assert await values(conn, "SELECT hash FROM audit_event ORDER BY seq") == before
        assert len(before) == len(ORGS) + 1 + len(PERSONS)
    finally:
        await conn.close()


async def test_the_app_role_holds_exactly_its_privileges(register: Register) -> None:
    owner = await asyncpg.connect(register.dsn)
    try:
        rows = await owner.fetch(
            "SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type) "
            "FROM information_schema.role_table_grants "
            "WHERE grantee = $1 AND table_schema = current_schema() GROUP BY table_name",
            register.app_role,
        )
    finally:
        await owner.close()
    assert dict((r[0], r[1]) for r in rows) == {
        "audit_event": "INSERT,SELECT",
        "register_info": "SELECT",
        "schema_version": "SELECT",
        "person": "INSERT,SELECT,UPDATE",
        "organisation": "INSERT,SELECT,UPDATE",
        "recording": "DELETE,INSERT,SELECT,UPDATE",
        "recording_tag": "DELETE,INSERT,SELECT,UPDATE",
        # Migration 4: versions are added, never changed; DELETE for retention purges.
        "note": "DELETE,INSERT,SELECT",
        "case_link": "DELETE,INSERT,SELECT",
        "sample_score": "DELETE,INSERT,SELECT",
        "feedback_case": "DELETE,INSERT,SELECT,UPDATE",
        "coaching_sample": "INSERT,SELECT",
        # Migration 5: a tombstone loses its blob_ref once the file is gone; a hold is
        # released by an UPDATE; neither is ever deleted.
        "tombstone": "INSERT,SELECT,UPDATE",
        "legal_hold": "INSERT,SELECT,UPDATE",
        # Migration 6: requests are answered (UPDATE); the disclosure log only grows.
        "subject_request": "INSERT,SELECT,UPDATE",
        "disclosure": "INSERT,SELECT",
    }


# -- row-level security -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "orgs"),
    [
        ("hki", ("HKI",)),
        ("two", ("PIRHA", "VARHA")),
        ("dpo", ORGS),  # no scope: every organisation
        ("retired", ()),  # an inactive person sees nothing
        ("stranger", ()),  # so does a login that is no person
    ],
)
async def test_a_direct_session_sees_only_its_organisations(
    register: Register, who: str, orgs: tuple[str, ...]
) -> None:
    conn = await register.connect(who)
    try:
        assert await values(conn, "SELECT count(*) FROM recording") == [
            sum(PER_ORG[o] for o in orgs)
        ]
        assert await values(conn, "SELECT DISTINCT org FROM recording ORDER BY org") == list(orgs)
        # Naming an organisation outside the scope finds nothing, not an error.
        assert await values(conn, "SELECT count(*) FROM recording WHERE org = 'PIRHA'") == [
            PER_ORG["PIRHA"] if "PIRHA" in orgs else 0
        ]
        assert await values(conn, "SELECT count(*) FROM recording_tag") == [
            sum(TAGS_PER_ORG[o] for o in orgs)
        ]
        assert await values(conn, "SELECT code FROM organisation ORDER BY code") == list(orgs)
    finally:
        await conn.close()
    assert sum(PER_ORG[o] for o in ORGS) == len(ROWS) and min(PER_ORG.values()) > 0


async def test_a_scoped_login_cannot_widen_its_scope_or_write_outside_it(
    register: Register,
) -> None:
    conn = await register.connect("hki")
    me = register.logins["hki"].name
    try:
        # Its own person row: readable, but only an admin may change or add one.
        assert await conn.execute("UPDATE person SET orgs = '' WHERE login = session_user") == (
            "UPDATE 0"
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await conn.execute(
                "INSERT INTO person (login, display_name, roles) VALUES ($1, 'x', 'admin')",
                register.logins["stranger"].name,
            )
        # SET ROLE does not change session_user, whom the policy asks about.
        await conn.execute(f"SET ROLE {register.app_role}")
        assert await values(conn, "SELECT count(*) FROM recording") == [PER_ORG["HKI"]]
        assert await conn.execute("UPDATE recording SET legal_hold = true WHERE org = 'PIRHA'") == (
            "UPDATE 0"
        )
        outside = "SELECT id FROM recording WHERE org <> 'HKI'"
        assert await conn.execute(
            f"DELETE FROM recording_tag WHERE recording_id IN ({outside})"
        ) == ("DELETE 0")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await conn.execute(
                "INSERT INTO recording (org, channel, direction, started_at, duration_s, agent, "
                "queue, source_id) VALUES ('PIRHA', 0, 0, 1, 1, 'a', 'q', 'planted')"
            )
        assert await values(conn, "SELECT orgs FROM person WHERE login = session_user") == ["HKI"]
    finally:
        await conn.close()
    owner = await asyncpg.connect(register.dsn)
    try:
        assert await values(owner, "SELECT count(*) FROM recording WHERE legal_hold") == [0]
        assert await values(owner, f"SELECT orgs FROM person WHERE login = '{me}'") == ["HKI"]
        assert await values(owner, "SELECT count(*) FROM recording_tag") == [
            sum(TAGS_PER_ORG.values())
        ]
    finally:
        await owner.close()


async def test_the_scope_is_read_once_per_statement_not_per_row(register: Register) -> None:
    """The policy's functions are InitPlans: run once (loops = 1) however many rows
    the statement reads, and the per-row filter compares with their results."""
    conn = await register.connect("two")
    try:
        plan = json.loads(
            await conn.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM recording")
        )[0]["Plan"]
    finally:
        await conn.close()
    nodes = list(_walk(plan))
    init_plans = [n for n in nodes if str(n.get("Subplan Name", "")).startswith("InitPlan")]
    assert len(init_plans) >= 2 and all(n["Actual Loops"] == 1 for n in init_plans)
    scan = next(n for n in nodes if n.get("Relation Name") == "recording")
    assert "kaiku_scope" not in scan.get("Filter", ""), scan
    assert scan["Actual Rows"] == PER_ORG["PIRHA"] + PER_ORG["VARHA"]


async def test_a_page_as_the_app_role_reads_the_same_indexes_as_the_owner(
    register: Register, tmp_path: Path
) -> None:
    """Row-level security adds a filter; it must not change how a browse page is read."""
    file = tmp_path / "password"
    file.write_text(register.logins["two"].password)
    file.chmod(0o600)
    plans = {}
    for who in ("owner", "two"):
        dsn = register.dsn if who == "owner" else register.logins[who].dsn(register.dsn)
        index = await PostgresIndex.open(dsn, MAC_KEY, password_file=file if who == "two" else None)
        try:
            plans[who] = await page_indexes(index)
        finally:
            await index.close()
    assert plans["two"] == plans["owner"] and plans["owner"], plans
    assert read_password_file(file) == register.logins["two"].password


async def page_indexes(index: PostgresIndex) -> list[str]:
    """The indexes the plan of one browse page reads (the page's own SQL, spied)."""
    seen: list[tuple[str, tuple[object, ...]]] = []
    fetch = index.fetch

    async def spy(query: str, *params: object) -> list[asyncpg.Record]:
        seen.append((query, params))
        return await fetch(query, *params)

    index.fetch = spy  # type: ignore[method-assign]
    page = await index.page(
        RecordingFilter(orgs=("PIRHA",)), Sort(SortKey.DURATION, True), limit=50
    )
    assert len(page.rows) == 50 and {r.org for r in page.rows} == {"PIRHA"}
    query, params = seen[-1]
    plan = json.loads((await fetch(f"EXPLAIN (FORMAT JSON) {query}", *params))[0][0])
    return sorted({n["Index Name"] for n in _walk(plan[0]["Plan"]) if "Index Name" in n})


def _walk(node: dict[str, Any]) -> Any:
    yield node
    for child in node.get("Plans", []):
        yield from _walk(child)


async def test_a_migration_an_application_login_may_not_run_is_a_clear_error(
    pg_server: pg.PgServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A register at migration 2 (as before migration 3 existed), opened by a login that
    may read it but owns nothing: the upgrade is refused in words, and nothing changes."""
    async with pg_server.login() as login, pg_server.schema() as dsn:  # schema dropped first
        with monkeypatch.context() as patch:
            patch.setattr("kaiku_tui.index.postgres.MIGRATIONS", MIGRATIONS[:2])
            await (await PostgresIndex.open(dsn, MAC_KEY, create=True)).close()
        owner = await asyncpg.connect(dsn)
        try:
            await owner.execute(
                f"GRANT USAGE ON SCHEMA {await owner.fetchval('SELECT current_schema()')} "
                f"TO {login.name}; GRANT SELECT ON schema_version TO {login.name}"
            )
            secret = tmp_path / "password"
            secret.write_text(login.password)
            secret.chmod(0o600)
            with pytest.raises(StoreError) as caught:
                await PostgresIndex.open(login.dsn(dsn), MAC_KEY, password_file=secret)
            assert await values(owner, "SELECT max(version) FROM schema_version") == [2]
            assert await values(owner, "SELECT to_regprocedure('kaiku_scope()')") == [None]
        finally:
            await owner.close()
    assert f"needs migration 3 of {len(MIGRATIONS)}, which only the owner" in str(caught.value)
    assert str(caught.value).endswith("open it once as the owner")


# -- annotations (migration 4): notes, cases and links under the same scope -------------


async def test_annotations_are_seen_only_in_scope(register: Register) -> None:
    """As the owner: a note and a case in every organisation, each case linked to a
    recording of its own organisation. Each login then sees only its organisations'."""
    owner = await asyncpg.connect(register.dsn)
    try:
        for code in ORGS:
            rid = await owner.fetchval("SELECT min(id) FROM recording WHERE org = $1", code)
            await owner.execute(
                "INSERT INTO note (version, recording_id, author, written_at, text_enc) "
                "VALUES (1, $1, 'x', 0, '\\x00')",
                rid,
            )
            case = await owner.fetchval(
                "INSERT INTO feedback_case (org, ref, received, summary, status) "
                "VALUES ($1, 'R', '2026-01-01', 's', 'open') RETURNING id",
                code,
            )
            await owner.execute("INSERT INTO case_link VALUES ($1, $2)", case, rid)
    finally:
        await owner.close()
    seen = {"hki": {"HKI"}, "two": {"PIRHA", "VARHA"}, "dpo": set(ORGS), "stranger": set()}
    for who, orgs in seen.items():
        conn = await register.connect(who)
        try:
            cases = set(await values(conn, "SELECT org FROM feedback_case"))
            notes = await values(
                conn, "SELECT r.org FROM note n JOIN recording r ON r.id = n.recording_id"
            )
            links = await values(conn, "SELECT count(*) FROM case_link")
            assert cases == orgs and set(notes) == orgs and links == [len(orgs)], who
            assert await values(conn, "SELECT count(*) FROM note") == [len(orgs)], who
            if who == "hki":
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(
                        "INSERT INTO feedback_case (org, ref, received, summary, status) "
                        "VALUES ('VARHA', 'X', '2026-01-01', 's', 'open')"
                    )
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute("UPDATE note SET author = 'y'")
        finally:
            await conn.close()
