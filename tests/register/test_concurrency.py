"""Twenty processes × 200 audited actions on one register: every event exactly once, one chain.

Appends are serialised by the database (SQLite's write lock, PostgreSQL's
advisory transaction lock), each process opening the register as its own
named person, as supervisors on several jump hosts would.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from multiprocessing import get_context
from pathlib import Path

import pytest

from kaiku_tui.config import Config, load, write_default
from kaiku_tui.domain.access import Identity, Person, Role
from kaiku_tui.domain.auditlog import AuditQuery
from kaiku_tui.register import Register
from tests.contract import pg

PROCESSES = 20
ACTIONS = 200
ADMIN = Identity("admin.aalto")


def _act(config_file: str, login: str) -> int:
    """In a process of its own: open the register as `login` and list the organisations."""

    async def run() -> int:
        register = await Register.open(load(Path(config_file)), Identity(login), environ={})
        try:
            for _ in range(ACTIONS):
                await register.orgs.listing()
        finally:
            await register.close()
        return ACTIONS

    return asyncio.run(run())


@asynccontextmanager
async def index_url(backend: str, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield ""
        return
    server: pg.PgServer = request.getfixturevalue("pg_server")
    async with server.schema() as dsn:
        yield dsn


def configure(folder: Path, url: str) -> Path:
    config_file = folder / "config.toml"
    write_default(config_file, folder)
    if url:
        config_file.write_text(config_file.read_text() + f'\n[index]\nurl = "{url}"\n')
    return config_file


async def setup(config: Config, logins: list[str]) -> None:
    admin = await Register.initialise(config, ADMIN, "Admin")
    try:
        for login in logins:
            await admin.persons.add(Person(login, login, frozenset({Role.REVIEWER})))
    finally:
        await admin.close()
    admin = await Register.open(config, ADMIN, environ={})
    await admin.persons.change(ADMIN.login, frozenset({Role.ADMIN, Role.DPO}), ())
    await admin.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_twenty_processes_each_event_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    logins = [f"reviewer{i:02d}" for i in range(PROCESSES)]
    async with index_url(backend, request) as url:
        config_file = configure(tmp_path, url)
        config = load(config_file)
        await setup(config, logins)
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(PROCESSES, mp_context=get_context("spawn")) as pool:
            done = await asyncio.gather(
                *(loop.run_in_executor(pool, _act, str(config_file), who) for who in logins)
            )
        assert done == [ACTIONS] * PROCESSES
        admin = await Register.open(config, ADMIN, environ={})
        try:
            report = await admin.audit.verify()
            events = await admin.audit.events(AuditQuery(action="org.list", limit=10 * 4000))
        finally:
            await admin.close()
    assert report.problem is None, report.problem
    per_person = Counter(event.actor for _, event in events)
    assert per_person == Counter({login: ACTIONS for login in logins})
    seqs = [seq for seq, _ in events]
    assert len(seqs) == len(set(seqs)) == PROCESSES * ACTIONS
    assert report.checked >= PROCESSES * (ACTIONS + 1)
