"""Retention on a PostgreSQL register: the purge's raw rows, holds, the shred, audit verify."""

from __future__ import annotations

from datetime import date

import asyncpg

from kaiku_tui.config import load
from kaiku_tui.domain.access import Person, Purpose, Role
from kaiku_tui.domain.org import Organisation
from kaiku_tui.register import Register
from tests.conftest import data_key_file
from tests.contract import pg
from tests.maintenance.conftest import ADMIN, SUPERVISOR, opened, recording
from tests.register.test_concurrency import configure


async def test_purge_and_shred_on_postgresql(pg_server: pg.PgServer, tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    async with pg_server.schema() as dsn:
        config_file = configure(folder, dsn)
        config_file.write_text(config_file.read_text() + '\n[audio]\nsink = "none"\n')
        config = load(config_file)
        admin = await Register.initialise(config, ADMIN, "Admin")
        try:
            await admin.orgs.add(Organisation("ITU", "Itä", None, None))
            await admin.persons.add(Person(SUPERVISOR.login, "S", frozenset({Role.SUPERVISOR})))
            await admin.intake.add_recordings([recording(n) for n in range(3)], source="test")
        finally:
            await admin.close()
        sup = await opened(config, SUPERVISOR)
        try:
            await sup.notes.add(1, "Asiakkaan diagnoosi")
            await sup.tags.add(1, "complaint")
            (held,) = await sup.holds.set(record_ids=[3], reason="riita", ref="KO-1")
        finally:
            await sup.close()
        admin = await opened(config)
        try:
            await admin.retention.set_org("ITU", contract_end=date(2026, 1, 1))
            first = await admin.retention.purge(environ={})
            assert (first.destroyed, first.held, first.shredded) == (2, 1, ())
        finally:
            await admin.close()
        db = await asyncpg.connect(dsn)
        try:
            assert [r[0] for r in await db.fetch("SELECT id FROM recording")] == [3]
            assert await db.fetch("SELECT * FROM note") == []
            assert await db.fetch("SELECT * FROM recording_tag") == []
            stones = await db.fetch("SELECT id, reason, blob_ref FROM tombstone ORDER BY id")
            reason = "contract ended 2026-01-01 + grace 90"
            assert [tuple(r) for r in stones] == [(1, reason, None), (2, reason, None)]
        finally:
            await db.close()
        sup = await opened(config, SUPERVISOR)
        try:
            assert (await sup.recordings.open_recording(3, Purpose.LEGAL_HOLD)).summary.id == 3
            await sup.holds.release(held.id)
        finally:
            await sup.close()
        admin = await opened(config)
        try:
            second = await admin.retention.purge(environ={})
            assert (second.destroyed, second.shredded) == (1, ("ITU",))
            assert second.rekeyed is not None
            assert (await admin.audit.verify()).problem is None
        finally:
            await admin.close()
        db = await asyncpg.connect(dsn)
        try:
            org = await db.fetchrow("SELECT wrapped_key, master_key_id FROM organisation")
            assert org is not None and org[0] is None
            assert (
                await db.fetchval("SELECT value FROM register_info WHERE name = 'retention.rekey'")
                == "done"
            )
        finally:
            await db.close()
        assert list(data_key_file(config).parent.glob("data.key.*")) == []
