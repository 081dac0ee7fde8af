"""A PostgreSQL server for the tests, and a fresh schema or database on it for each test.

The server is `KAIKU_TEST_PG_DSN` (a role that may create databases, and
schemas in the DSN's database; .ci/run sets one up), else a private
throw-away cluster started with the installed binaries in a temporary
directory (initdb refuses root, so as root it runs as the `postgres` login),
else none: the PostgreSQL tests are then skipped with the reason, except
under CI, where a missing server is a failure.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import pytest

from kaiku_tui.index.postgres_schema import APP_ROLE_SUFFIX

DSN_VARIABLE = "KAIKU_TEST_PG_DSN"
BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))


@dataclass(frozen=True)
class Login:
    """A login role of one test: a person at their own database login."""

    name: str
    password: str

    def dsn(self, dsn: str) -> str:
        """`dsn` (its database, schema and settings) with this login as the user, no password."""
        parts = urlsplit(dsn)
        return urlunsplit(parts._replace(netloc=f"{self.name}@{parts.netloc.rpartition('@')[2]}"))

    async def connect(self, dsn: str) -> asyncpg.Connection:
        return await asyncpg.connect(self.dsn(dsn), password=self.password)


@dataclass(frozen=True)
class PgServer:
    admin_dsn: str  # a role that may CREATE DATABASE, and CREATE SCHEMA in this database
    # pg_ctl's "stop" or "start", on a private cluster only (a shared server is not ours
    # to stop); blocking, so call it in a thread.
    pg_ctl: Callable[[str], None] | None = field(default=None, compare=False)

    def dsn(self, database: str | None = None, **settings: str) -> str:
        """The admin DSN on another database, or with server settings (asyncpg takes
        unknown query parameters as such)."""
        parts = urlsplit(self.admin_dsn)
        query = urlencode([*parse_qsl(parts.query), *settings.items()])
        path = parts.path if database is None else f"/{database}"
        return urlunsplit(parts._replace(path=path, query=query))

    async def execute(self, statement: str) -> None:
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            await admin.execute(statement)
        finally:
            await admin.close()

    @asynccontextmanager
    async def schema(self) -> AsyncIterator[str]:
        """A DSN whose search_path is a new, empty schema: as good as an empty database
        for the index, and 10 ms where CREATE DATABASE takes 30-300 ms (it syncs a copy
        of the template to disk)."""
        name = f"kaiku_t_{secrets.token_hex(6)}"
        await self.execute(f"CREATE SCHEMA {name}")
        try:
            yield self.dsn(search_path=name)
        finally:
            await self.execute(f"DROP SCHEMA {name} CASCADE")

    @asynccontextmanager
    async def database(self) -> AsyncIterator[str]:
        """A new, empty database's DSN. It is dropped afterwards without FORCE, so a
        connection left open by the test fails it (after the server's own 5 s wait),
        and so is the application role its migrations made (roles are cluster-wide)."""
        name = f"kaiku_t_{secrets.token_hex(6)}"
        await self.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
        try:
            yield self.dsn(name)
        finally:
            await self.execute(f"DROP DATABASE {name}")
            await self.execute(f"DROP ROLE IF EXISTS {name}{APP_ROLE_SUFFIX}")

    async def app_role(self) -> str:
        """The application role of the registers in the admin DSN's database."""
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            return str(await admin.fetchval("SELECT current_database()")) + APP_ROLE_SUFFIX
        finally:
            await admin.close()

    @asynccontextmanager
    async def login(self, *member_of: str) -> AsyncIterator[Login]:
        """A new login role with a password, a member of `member_of`; dropped afterwards.
        The admin role needs CREATEROLE for it (.ci/run grants it)."""
        login = Login(f"kaiku_t_{secrets.token_hex(6)}", secrets.token_urlsafe(18))
        grant = f" IN ROLE {', '.join(member_of)}" if member_of else ""
        await self.execute(f"CREATE ROLE {login.name} LOGIN PASSWORD '{login.password}'{grant}")
        try:
            yield login
        finally:
            await self.execute(f"DROP ROLE {login.name}")


def unavailable(reason: str) -> NoReturn:
    """Skip the PostgreSQL tests, saying why; under CI, fail instead: a green CI run
    must mean the PostgreSQL backend was tested."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required under CI and {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@contextmanager
def pg_server() -> Iterator[PgServer]:
    """The configured server if reachable, else a private cluster, else unavailable()."""
    dsn = os.environ.get(DSN_VARIABLE)
    if dsn:
        # On a thread of its own: the fixture may be set up inside a test's running loop.
        with ThreadPoolExecutor(1) as thread:
            problem = thread.submit(asyncio.run, _probe(dsn)).result()
        if problem:
            unavailable(f"{DSN_VARIABLE} is not reachable ({problem})")
        yield PgServer(dsn)
        return
    if not BIN_DIRS:
        unavailable(f"{DSN_VARIABLE} is not set and no PostgreSQL binaries are installed")
    with private_cluster(BIN_DIRS[-1]) as server:
        yield server


async def _probe(dsn: str) -> str | None:
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


@contextmanager
def private_cluster(bin_dir: Path) -> Iterator[PgServer]:
    """initdb + pg_ctl in a temporary directory, listening on a socket there only."""
    run_as = _run_as()
    top = Path(tempfile.mkdtemp(prefix="kaiku-pg-"))
    try:
        if run_as:
            shutil.chown(top, "postgres", "postgres")
        data = top / "data"
        _run(run_as, bin_dir / "initdb", "-D", data, "-U", "kaiku", "-A", "trust", "-E", "UTF8",
             "--no-locale")  # fmt: skip
        options = f"-k {top} -c listen_addresses='' -c fsync=off -c full_page_writes=off"

        def pg_ctl(action: str) -> None:
            _run(run_as, bin_dir / "pg_ctl", "-D", data, "-l", top / "log", "-w", "-o", options,
                 "-m", "fast", action)  # fmt: skip

        pg_ctl("start")
        try:
            yield PgServer(f"postgresql://kaiku@/postgres?host={top}", pg_ctl)
        finally:
            _run(run_as, bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "stop")
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        unavailable("initdb cannot run as root and there is no 'postgres' login to run it as")
    return ["runuser", "-u", "postgres", "--"]


def _run(run_as: list[str], *command: object) -> None:
    done = subprocess.run([*run_as, *map(str, command)], capture_output=True, text=True)
    if done.returncode != 0:
        unavailable(f"{Path(str(command[0])).name} failed: {done.stderr.strip()[-500:]}")
