"""A PostgreSQL index outlives its connections: backends terminated by the server, or the
server gone and back. What was under way fails as IndexUnavailable and leaves nothing
half-done; the next action reconnects by itself.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import pytest

from kaiku_tui.domain.access import Person, Role
from kaiku_tui.errors import IndexUnavailable
from kaiku_tui.index.postgres import PostgresIndex
from kaiku_tui.vault.keystore import KeyStore
from tests.contract import pg
from tests.contract.pg_proxy import Relay
from tests.contract.rows import MAC_KEY, event, mac_of, stored_org


def with_settings(dsn: str, **settings: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(query=urlencode([*parse_qsl(parts.query), *settings.items()])))


class Tagged:
    """An index on a schema of its own whose connections carry a unique application_name,
    so the test can terminate exactly those backends (the server is shared)."""

    def __init__(self, server: pg.PgServer, dsn: str) -> None:
        self.server = server
        self.dsn = dsn
        self.name = f"kaiku_t_{secrets.token_hex(6)}"
        self.index_dsn = with_settings(dsn, application_name=self.name)

    async def backends(self, condition: str = "true") -> list[int]:
        admin = await asyncpg.connect(self.server.admin_dsn)
        try:
            rows = await admin.fetch(
                f"SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND {condition}",
                self.name,
            )
        finally:
            await admin.close()
        return [r[0] for r in rows]

    async def terminate(self, pids: list[int]) -> None:
        """As the admin role: a role may end its own backends (the index runs as it)."""
        admin = await asyncpg.connect(self.server.admin_dsn)
        try:
            for pid in pids:
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        for _ in range(100):  # until the server has let them go
            if not set(pids) & set(await self.backends()):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"backends {pids} still there")


@pytest.fixture
async def tagged(pg_server: pg.PgServer) -> AsyncIterator[tuple[Tagged, PostgresIndex]]:
    async with pg_server.schema() as dsn:
        t = Tagged(pg_server, dsn)
        index = await PostgresIndex.open(t.index_dsn, MAC_KEY, create=True)
        try:
            await index.add_org(stored_org("HKI"), event("org.manage"))
            yield t, index
        finally:
            await index.close()


async def test_terminated_connections_are_replaced_on_the_next_action(
    tagged: tuple[Tagged, PostgresIndex],
) -> None:
    t, index = tagged
    before = await t.backends()
    assert before, "the index holds a pooled connection"
    await t.terminate(before)
    await asyncio.sleep(0.05)  # the client reads the server's goodbye
    assert (await index.get_org("HKI")) == stored_org("HKI")  # a read reconnects
    assert await index.append_audit(event("login")) == 2  # and so does a write
    after = await t.backends()
    assert after and not set(after) & set(before)


async def waiting_backend(t: Tagged) -> int:
    for _ in range(250):
        pids = await t.backends("wait_event_type = 'Lock'")
        if pids:
            return pids[0]
        await asyncio.sleep(0.02)
    raise AssertionError("the action never waited for the lock")


async def test_a_connection_lost_mid_change_leaves_neither_change_nor_event(
    tagged: tuple[Tagged, PostgresIndex],
) -> None:
    """The event is appended, then the change waits for a lock held elsewhere; the
    backend is terminated right then. The server rolls back both."""
    t, index = tagged
    head = await index.audit_head()
    blocker = await asyncpg.connect(t.dsn)
    try:
        async with blocker.transaction():
            await blocker.execute("LOCK TABLE person IN EXCLUSIVE MODE")
            person = Person("liisa", "Liisa", frozenset({Role.SUPERVISOR}))
            adding = asyncio.create_task(
                index.put_person(
                    person, event("person.manage"), new=True, mac=mac_of(person), was=None
                )
            )
            await t.terminate([await waiting_backend(t)])
            with pytest.raises(IndexUnavailable) as caught:
                await adding
    finally:
        await blocker.close()
    message = str(caught.value)
    assert "is unreachable (" in message and "nothing was changed or shown" in message, message
    assert "\n" not in message
    assert await index.audit_head() == head  # the pool reconnected, and nothing landed
    assert await index.get_person("liisa") is None


async def test_a_connection_lost_during_commit_says_the_outcome_is_unknown(
    tagged: tuple[Tagged, PostgresIndex],
) -> None:
    """A deferred trigger makes COMMIT wait; the backend is terminated right then. The
    client cannot know whether the server committed, and says so (here it had not:
    neither the change nor its event is there)."""
    t, index = tagged
    owner = await asyncpg.connect(t.dsn)
    try:
        await owner.execute(
            "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$; "
            "CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON person "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()"
        )
    finally:
        await owner.close()
    head = await index.audit_head()
    person = Person("liisa", "Liisa", frozenset({Role.SUPERVISOR}))
    adding = asyncio.create_task(
        index.put_person(person, event("person.manage"), new=True, mac=mac_of(person), was=None)
    )
    for _ in range(250):
        if pids := await t.backends("query ILIKE 'COMMIT%' AND wait_event = 'PgSleep'"):
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("COMMIT never waited on the trigger")
    await t.terminate(pids)
    with pytest.raises(IndexUnavailable) as caught:
        await adding
    message = str(caught.value)
    assert "committed together or not at all: see 'kaiku-tui audit show'" in message, message
    assert "nothing was changed" not in message
    assert await index.audit_head() == head and await index.get_person("liisa") is None


async def test_a_vanished_server_is_index_unavailable_until_it_is_back(
    pg_server: pg.PgServer, tmp_path: Path
) -> None:
    """Through a relay that drops every connection and refuses new ones, as a server
    that went down does; a login of its own, its password from a password_file (the
    admin's passfile entry names the server's port, not the relay's)."""
    async with pg_server.schema() as dsn:
        await (await PostgresIndex.open(dsn, MAC_KEY, create=True)).close()
        async with pg_server.login(await pg_server.app_role()) as login:
            secret = tmp_path / "password"
            secret.write_text(login.password)
            secret.chmod(0o600)
            relay = Relay(dsn)
            await relay.start()
            try:
                url = relay.dsn(login.dsn(dsn))
                index = await PostgresIndex.open(url, MAC_KEY, password_file=secret)
                try:
                    assert await index.append_audit(event("login")) == 1
                    await relay.stop()
                    with pytest.raises(IndexUnavailable) as caught:
                        await index.audit_head()
                    with pytest.raises(IndexUnavailable, match="nothing was changed or shown"):
                        await index.append_audit(event("login"))
                    await relay.start()
                    assert await index.append_audit(event("login")) == 2
                finally:
                    await index.close()
            finally:
                await relay.stop()
    message = str(caught.value)
    assert message.startswith(f"index 127.0.0.1:{relay.port}/"), message
    assert "is unreachable (" in message and "nothing was shown; check that the database" in message
    assert login.password not in message and login.name not in message


def test_the_command_line_says_so_in_one_line_with_exit_5(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[register]\ndata_dir = "{tmp_path / "data"}"\nkey_store = "{tmp_path / "keys"}"\n'
        '[index]\nurl = "postgresql://kaiku@127.0.0.1:1/kaiku"\n'  # nothing listens on port 1
    )
    KeyStore.create(tmp_path / "keys")  # the variable supplies only the data key
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    done = subprocess.run(
        [sys.executable, "-m", "kaiku_tui", "--config", str(config), "orgs", "list"],
        capture_output=True, text=True, timeout=60, env={"KAIKU_MASTER_KEY": key, "PATH": ""},
    )  # fmt: skip
    assert done.returncode == 5, done
    assert done.stderr.startswith("kaiku-tui: index 127.0.0.1:1/kaiku is unreachable (")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""


async def test_a_real_server_restart_is_survived() -> None:
    """A private cluster of this test alone (the shared one is not ours to stop), stopped
    and started again with pg_ctl: down, an action is IndexUnavailable; back, the same
    index carries on, its chain whole."""
    if not pg.BIN_DIRS:
        pg.unavailable("no PostgreSQL binaries are installed to start a private cluster")
    with pg.private_cluster(pg.BIN_DIRS[-1]) as server:
        assert server.pg_ctl is not None
        index = await PostgresIndex.open(server.admin_dsn, MAC_KEY, create=True)
        try:
            assert await index.append_audit(event("login")) == 1
            await asyncio.to_thread(server.pg_ctl, "stop")
            with pytest.raises(IndexUnavailable, match="is unreachable"):
                await index.append_audit(event("login"))
            await asyncio.to_thread(server.pg_ctl, "start")
            assert await index.append_audit(event("login")) == 2
            assert [r.seq for r in await index.audit_rows(0, 10)] == [1, 2]
        finally:
            await index.close()
