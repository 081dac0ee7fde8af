"""Audit retention (`audit retain`) on both backends: the cut is a verifiable prefix,
it stops at events of recordings still kept, a forged cut or a deletion past it is
found, the database refuses deleting past the recorded cut, and only an admin who
sees every organisation may cut (refusals audited)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from kaiku_tui.audit.chain import event_from_body
from kaiku_tui.audit.cut import CUT_INFO, cut_file, named_recordings
from kaiku_tui.config import Config, load
from kaiku_tui.domain.access import Identity, Person, Purpose, Role
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.domain.org import Organisation
from kaiku_tui.errors import AccessDenied, UsageError
from kaiku_tui.index.records import AuditRow
from kaiku_tui.register import Register
from kaiku_tui.register import gate as register_module
from kaiku_tui.register.upkeep.restore import restore
from tests.conftest import copy_key_store
from tests.contract import pg
from tests.maintenance.conftest import recording
from tests.register.test_concurrency import configure, index_url

ADMIN = Identity("admin.aalto")
SUPERVISOR = Identity("sari.super")
SCOPED_ADMIN = Identity("aapo.scoped")
BACKENDS = ["sqlite", "postgres"]
THREE_YEARS_AGO = datetime.now(UTC) - timedelta(days=3 * 365)


class _Then(datetime):
    """`datetime.now()` three years ago, a millisecond later at each call (the log's
    times never go backwards)."""

    ticks = 0

    @classmethod
    def now(cls, tz: object = None) -> _Then:  # type: ignore[override]
        cls.ticks += 1
        at = THREE_YEARS_AGO + timedelta(milliseconds=cls.ticks)
        return cls.fromtimestamp(at.timestamp(), UTC)


@pytest.fixture
def three_years_ago(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(register_module, "datetime", _Then)


@dataclass
class Setup:
    backend: str
    url: str
    config: Config


async def _build(config: Config) -> None:
    """Three years ago: the register, two recordings, recording 1 opened; then today
    an admin session."""
    admin = await Register.initialise(config, ADMIN, "Admin")
    try:
        await admin.orgs.add(Organisation("ITU", "Itä", None, None))
        await admin.persons.add(Person(SUPERVISOR.login, "Sari", frozenset({Role.SUPERVISOR})))
        await admin.persons.add(
            Person(SCOPED_ADMIN.login, "Aapo", frozenset({Role.ADMIN}), orgs=("ITU",))
        )
        two = [recording(1, audio=False), recording(2, audio=False)]
        await admin.intake.add_recordings(two, source="t")
        for _ in range(5):
            await admin.orgs.listing()
    finally:
        await admin.close()
    supervisor = await Register.open(config, SUPERVISOR, environ={})
    try:
        await supervisor.recordings.open_recording(1, Purpose.QUALITY)
        await supervisor.orgs.listing()
        await supervisor.recordings.open_recording(2, Purpose.QUALITY)
        await supervisor.orgs.listing()
    finally:
        await supervisor.close()


@pytest.fixture(params=BACKENDS)
async def setup(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Setup]:
    async with index_url(request.param, request) as url:
        config = load(configure(tmp_path, url))
        monkeypatch.setattr(register_module, "datetime", _Then)
        await _build(config)
        monkeypatch.undo()
        yield Setup(request.param, url, config)


@asynccontextmanager
async def opened(config: Config, who: Identity = ADMIN) -> AsyncIterator[Register]:
    register = await Register.open(config, who, environ={})
    try:
        yield register
    finally:
        await register.close()


async def rows(register: Register) -> list[AuditRow]:
    out: list[AuditRow] = []
    async for batch in register._index.audit_scan(0, None, 1000):
        out += [AuditRow(*r) for r in batch]
    return out


def first_naming(all_rows: list[AuditRow], record_id: int) -> int:
    return next(
        r.seq for r in all_rows if record_id in named_recordings(event_from_body(r.body)[1])
    )


async def sql(setup: Setup, statement: str, *args: object) -> None:
    """As the table's owner, straight to the database: what an attacker with the file
    or the owner login could do."""
    if setup.backend == "sqlite":
        db = sqlite3.connect(setup.config.sqlite_path)
        try:
            db.execute(statement.replace("$1", "?").replace("$2", "?"), args)
            db.commit()
        finally:
            db.close()
        return
    conn = await asyncpg.connect(setup.url)
    try:
        async with conn.transaction():
            # What kaiku_audit_cut says for its own DELETE: the owner can say it too.
            await conn.execute("SELECT set_config('kaiku.audit_cut', 'on', true)")
            await conn.execute(statement, *args)
    finally:
        await conn.close()


async def test_plan_then_cut_keeps_the_rest_untouched_and_verifiable(setup: Setup) -> None:
    async with opened(setup.config) as admin:
        before = await rows(admin)
        blocker = first_naming(before, 1)
        plan = await admin.audit_retention.plan()
        assert (plan.first_seq, plan.upto, plan.events) == (1, blocker - 1, blocker - 1)
        assert plan.kept_because is not None and "recording 1" in plan.kept_because
        assert (await rows(admin))[: len(before)] == before  # a dry run
        cut, removed = await admin.audit_retention.cut()
        assert removed == cut.events == blocker - 1
        after = await rows(admin)
    assert after[0].seq == blocker and after[0].prev_hash == cut.upto_hash
    kept = [r for r in before if r.seq >= blocker]
    assert after[: len(kept)] == kept, "the events after the cut must stay byte for byte"
    retain = [event_from_body(r.body) for r in after[len(kept) :]]
    cut_events = [(s, e) for s, e in retain if e.action == "audit.retain"]
    assert [e.outcome for _, e in cut_events] == ["ok", "ok"]  # the plan, then the cut
    assert cut_events[-1][0] > cut.upto and cut_events[-1][1].result_count == removed
    assert cut_events[-1][1].criteria is not None
    assert cut_events[-1][1].criteria["upto"] == cut.upto
    async with opened(setup.config) as admin:
        report = await admin.audit.verify()
        assert await admin._index.get_info(CUT_INFO) == f"{cut.upto} {cut.upto_hash.hex()}"
    assert report.problem is None, report.problem
    assert report.cut_seq == cut.upto and report.checked == report.head_seq - cut.upto
    signed = cut_file(setup.config.checkpoint_file).last()  # under its own domain
    assert signed is not None and (signed.seq, signed.hash) == (cut.upto, cut.upto_hash)


async def test_a_destroyed_recording_lets_the_cut_go_on(setup: Setup) -> None:
    async with opened(setup.config) as admin:
        first, _ = await admin.audit_retention.cut()
        await sql(setup, "DELETE FROM recording WHERE id = 1")
        all_rows = await rows(admin)
        second, removed = await admin.audit_retention.cut()
        report = await admin.audit.verify()
    assert second.first_seq == first.upto + 1 and second.upto == first_naming(all_rows, 2) - 1
    assert removed == second.upto - first.upto > 0
    assert report.problem is None and report.cut_seq == second.upto


@pytest.mark.parametrize(
    ("destroyed", "stops_at_1"), [(timedelta(days=30), True), (timedelta(days=900), False)]
)
async def test_a_recording_destroyed_within_the_rule_still_keeps_its_events(
    setup: Setup, destroyed: timedelta, stops_at_1: bool
) -> None:
    """Its tombstone's destroyed_at decides: a month ago keeps the events naming it, two
    and a half years ago no longer does."""
    at = int((datetime.now(UTC) - destroyed).timestamp())
    await sql(setup, "DELETE FROM recording WHERE id = 1")
    await sql(
        setup,
        "INSERT INTO tombstone (id, org, channel, started_at, duration_s, destroyed_at, reason) "
        "VALUES (1, 'ITU', 0, 0, 0, $1, 'retention')",
        at,
    )
    async with opened(setup.config) as admin:
        all_rows = await rows(admin)
        plan = await admin.audit_retention.plan()
    blocker = first_naming(all_rows, 1 if stops_at_1 else 2)
    assert plan.upto == blocker - 1, plan.kept_because


async def test_nothing_is_cut_within_the_rule(setup: Setup) -> None:
    """Applied as of a day only a year after the old events, nothing is old enough; a
    day in the future is refused, and audited."""
    async with opened(setup.config) as admin:
        count = len(await rows(admin))
        plan, removed = await admin.audit_retention.cut(
            (THREE_YEARS_AGO + timedelta(days=365)).date()
        )
        assert (plan.events, removed, plan.upto_hash) == (0, 0, None)
        assert plan.kept_because is not None and "within the rule" in plan.kept_because
        with pytest.raises(UsageError, match="after today"):
            await admin.audit_retention.cut(date.today() + timedelta(days=1))
        assert (await rows(admin))[0].seq == 1 and len(await rows(admin)) > count
        failed = await admin.audit.events(AuditQuery(action="audit.retain", limit=10))
    assert [e.outcome for _, e in failed][-1] == "error"


async def test_a_forged_cut_hiding_more_deleted_events_is_found(setup: Setup) -> None:
    async with opened(setup.config) as admin:
        cut, _ = await admin.audit_retention.cut()
        later = (await rows(admin))[3]
    # The owner rewrites the record of the cut, then deletes up to it (the database
    # lets rows go up to the recorded cut).
    await sql(
        setup,
        "UPDATE register_info SET value = $1 WHERE name = $2",
        f"{later.seq} {later.hash.hex()}",
        CUT_INFO,
    )
    await sql(setup, "DELETE FROM audit_event WHERE seq <= $1", later.seq)
    async with opened(setup.config) as admin:
        report = await admin.audit.verify()
    assert report.problem is not None
    assert f"audit cut at seq {later.seq} that no signed cut checkpoint" in str(report.problem)


async def test_deleting_past_the_cut_is_refused_then_found(setup: Setup) -> None:
    async with opened(setup.config) as admin:
        cut, _ = await admin.audit_retention.cut()
    victim = cut.upto + 2
    with pytest.raises((sqlite3.DatabaseError, asyncpg.PostgresError), match="append-only"):
        await sql(setup, "DELETE FROM audit_event WHERE seq = $1", victim)
    if setup.backend == "sqlite":
        await sql(setup, "DROP TRIGGER audit_event_no_delete")
    else:
        await sql(setup, "ALTER TABLE audit_event DISABLE TRIGGER USER")
    await sql(setup, "DELETE FROM audit_event WHERE seq = $1", victim)
    async with opened(setup.config) as admin:
        report = await admin.audit.verify()
    assert report.problem is not None and report.problem.seq == victim, report.problem


@pytest.mark.parametrize("who", [SUPERVISOR, SCOPED_ADMIN], ids=["supervisor", "scoped-admin"])
async def test_refused_unless_an_admin_who_sees_everything(setup: Setup, who: Identity) -> None:
    async with opened(setup.config, who) as person:
        with pytest.raises(AccessDenied):
            await person.audit_retention.cut()
        with pytest.raises(AccessDenied):
            await person.audit_retention.plan()
    async with opened(setup.config) as admin:
        events = await admin.audit.events(AuditQuery(action="audit.retain", limit=10))
        first = (await rows(admin))[0].seq
    assert [(e.actor, e.outcome) for _, e in events] == [(who.login, "denied")] * 2
    assert first == 1


async def test_postgres_function_guards_the_cut(
    pg_server: pg.PgServer, tmp_path: Path, three_years_ago: None
) -> None:
    """Straight to `kaiku_audit_cut`: a login that is no admin is refused; even the owner
    may not cut a row whose hash is not the one named, past a live recording's event,
    or the whole log."""
    async with pg_server.schema() as dsn:
        config = load(configure(tmp_path, dsn))
        await _build(config)
        owner = await asyncpg.connect(dsn)
        try:
            head = await owner.fetchrow("SELECT seq, hash FROM audit_event ORDER BY seq DESC")
            one = await owner.fetchrow("SELECT seq, hash FROM audit_event WHERE seq = 1")
            app = await pg_server.app_role()
            async with pg_server.login(app) as login:
                conn = await login.connect(dsn)
                try:
                    with pytest.raises(asyncpg.PostgresError, match="only an admin"):
                        await conn.fetchval("SELECT kaiku_audit_cut($1, $2)", 1, one["hash"])
                    with pytest.raises(asyncpg.PostgresError, match="permission denied"):
                        await conn.execute("DELETE FROM audit_event WHERE seq = 1")
                finally:
                    await conn.close()
            cases = [
                ((1, bytes(32)), "with the verified hash is not in the log"),
                ((head["seq"] - 1, None), "name a recording that still exists"),
            ]
            for (seq, digest), message in cases:
                if digest is None:
                    digest = await owner.fetchval(
                        "SELECT hash FROM audit_event WHERE seq = $1", seq
                    )
                with pytest.raises(asyncpg.PostgresError, match=message):
                    await owner.fetchval("SELECT kaiku_audit_cut($1, $2)", seq, digest)
            await owner.execute("DELETE FROM recording")
            with pytest.raises(asyncpg.PostgresError, match="must leave the events after it"):
                await owner.fetchval("SELECT kaiku_audit_cut($1, $2)", head["seq"], head["hash"])
            assert await owner.fetchval("SELECT count(*) FROM audit_event WHERE seq = 1") == 1
        finally:
            await owner.close()


async def test_a_cut_register_backs_up_and_restores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signed cuts travel with the backup: the restored log verifies from its cut."""
    config = load(configure(tmp_path / "source", ""))
    with monkeypatch.context() as then:
        then.setattr(register_module, "datetime", _Then)
        await _build(config)
    async with opened(config) as admin:
        cut, _ = await admin.audit_retention.cut()
        await admin.upkeep.backup(tmp_path / "backup", link=False)
    assert (tmp_path / "backup" / "audit-cuts.jsonl").exists()
    target = load(configure(tmp_path / "target", ""))
    copy_key_store(config, target)
    await restore(target, ADMIN, tmp_path / "backup", environ={})
    async with opened(target) as admin:
        report = await admin.audit.verify()
    assert report.problem is None and report.cut_seq == cut.upto


async def test_a_cut_register_migrates_to_postgresql_and_verifies(
    pg_server: pg.PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`migrate --to` copies the log from its cut and the record of the cut with it."""
    config = load(configure(tmp_path / "source", ""))
    with monkeypatch.context() as then:
        then.setattr(register_module, "datetime", _Then)
        await _build(config)
    async with pg_server.schema() as dsn:
        async with opened(config) as admin:
            cut, _ = await admin.audit_retention.cut()
            report = await admin.audit.migrate_to(dsn, lambda copied: None)
        assert report.problem is None, report.problem
        moved = load(configure(tmp_path / "source", dsn))
        async with opened(moved) as admin:
            verified = await admin.audit.verify()
    assert verified.problem is None and verified.cut_seq == cut.upto
