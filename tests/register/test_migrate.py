"""A copy that stops half-way: the target stays unusable, a rerun resumes it when the source
has not changed, and says how to start afresh when it has; a change made in the source
while it is copied leaves the copy unfinished. Both directions, on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

import pytest

from kaiku_tui.config import Config, load, with_index
from kaiku_tui.domain.access import Identity, Role
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.domain.migration import MigrationReport, TableCopied
from kaiku_tui.domain.org import Organisation
from kaiku_tui.errors import StoreError, UsageError
from kaiku_tui.ingest.demo import DEMO_ORGS, DemoSpec, generate
from kaiku_tui.register import Register, migration
from tests.contract import pg
from tests.register.test_concurrency import configure

ADMIN = Identity("admin.aalto")
RECORDS = 700


class Stop(Exception):
    """Stands for a crash or a lost connection in the middle of a copy."""


def stop_in(table: str) -> migration.Progress:
    def progress(step: TableCopied) -> None:
        if step.table == table and step.rows and not step.done:
            raise Stop

    return progress


async def build(config: Config) -> None:
    register = await Register.initialise(config, ADMIN, "Admin")
    try:
        await register.persons.change(ADMIN.login, frozenset(Role), ())
    finally:
        await register.close()
    register = await Register.open(config, ADMIN, environ={})
    try:
        for org in DEMO_ORGS:
            await register.orgs.add(org)
        rows = list(generate(DemoSpec(records=RECORDS, end=date(2026, 11, 1))))
        for org in {r.org for r in rows}:
            await register.intake.add_recordings([r for r in rows if r.org == org], source="test")
    finally:
        await register.close()


@asynccontextmanager
async def registers(
    direction: str, tmp_path: Path, server: pg.PgServer
) -> AsyncIterator[tuple[Config, str]]:
    """A filled source register and an empty target, for the direction given."""
    async with server.schema() as dsn:
        if direction == "sqlite-to-postgres":
            source, target = configure(tmp_path, ""), dsn
        else:
            source, target = configure(tmp_path, dsn), str(tmp_path / "copy" / "index.sqlite3")
            (tmp_path / "copy").mkdir()
        config = load(source)
        await build(config)
        yield config, target


async def migrate(config: Config, to: str, progress: migration.Progress) -> MigrationReport:
    register = await Register.open(config, ADMIN, environ={})
    try:
        return await register.audit.migrate_to(to, progress)
    finally:
        await register.close()


async def act(config: Config, work: str) -> None:
    register = await Register.open(config, ADMIN, environ={})
    try:
        if work == "read":
            await register.orgs.listing()
        else:
            await register.orgs.add(Organisation("UUSI", "Uusi", None, date(2030, 1, 1)))
    finally:
        await register.close()


DIRECTIONS = ["sqlite-to-postgres", "postgres-to-sqlite"]


@pytest.mark.parametrize("direction", DIRECTIONS)
async def test_stopped_copy_is_unusable_then_resumed(
    direction: str, tmp_path: Path, pg_server: pg.PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migration, "BATCH", 100)
    async with registers(direction, tmp_path, pg_server) as (config, target):
        with pytest.raises(Stop):
            await migrate(config, target, stop_in("recording"))
        with pytest.raises(StoreError, match="unfinished copy of the register at"):
            await Register.open(with_index(config, target), ADMIN, environ={})
        await act(config, "read")  # reads since do not stop a resume
        report = await migrate(config, target, lambda step: None)
        assert report.resumed and report.problem is None, report
        copied = {t.table: t.rows for t in report.tables}
        assert 0 < copied["recording"] < RECORDS  # only what the first run had not copied
        copy = await Register.open(with_index(config, target), ADMIN, environ={})
        try:
            verified = await copy.audit.verify()
            orgs = await copy.orgs.listing()
        finally:
            await copy.close()
        assert verified.problem is None and verified.checked == report.head_seq + 1
        assert {o.code for o in orgs} == {o.code for o in DEMO_ORGS}


@pytest.mark.parametrize("direction", DIRECTIONS)
async def test_changed_source_is_not_resumed(
    direction: str, tmp_path: Path, pg_server: pg.PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migration, "BATCH", 100)
    async with registers(direction, tmp_path, pg_server) as (config, target):
        with pytest.raises(Stop):
            await migrate(config, target, stop_in("audit_event"))
        await act(config, "change")
        with pytest.raises(UsageError, match=r"cannot resume .* \(seq \d+: org.add\); "):
            await migrate(config, target, lambda step: None)


async def test_change_during_the_copy_leaves_it_unfinished(
    tmp_path: Path, pg_server: pg.PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migration, "BATCH", 100)
    async with registers("sqlite-to-postgres", tmp_path, pg_server) as (config, target):

        def progress(step: TableCopied) -> None:
            if step.table == "recording" and step.rows == 100 and not step.done:
                # another admin, in another process as far as the copy can tell
                other = threading.Thread(target=asyncio.run, args=(act(config, "change"),))
                other.start()
                other.join()

        with pytest.raises(StoreError, match=r"the source changed during the copy \(seq \d+"):
            await migrate(config, target, progress)
        with pytest.raises(StoreError, match="unfinished copy"):
            await Register.open(with_index(config, target), ADMIN, environ={})


async def test_a_copy_that_does_not_verify_stays_unusable(
    tmp_path: Path, pg_server: pg.PgServer
) -> None:
    async with registers("sqlite-to-postgres", tmp_path, pg_server) as (config, target):
        db = sqlite3.connect(config.sqlite_path)
        try:  # someone rewrote the source's history past its trigger
            db.execute("DROP TRIGGER audit_event_no_update")
            db.execute(
                "UPDATE audit_event SET body = replace(body, 'org.add', 'org.odd') WHERE seq = 6"
            )
            db.commit()
        finally:
            db.close()
        report = await migrate(config, target, lambda step: None)
        assert report.problem is not None and report.problem.startswith("seq 6: "), report
        with pytest.raises(StoreError, match="unfinished copy"):
            await Register.open(with_index(config, target), ADMIN, environ={})
        register = await Register.open(config, ADMIN, environ={})
        try:
            events = await register.audit.events(AuditQuery(action="register.migrate"))
        finally:
            await register.close()
        assert [e.outcome for _, e in events] == ["ok", "error"]
        assert "the copy does not verify: seq 6" in str(events[-1][1].detail)
