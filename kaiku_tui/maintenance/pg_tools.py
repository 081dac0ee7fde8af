"""pg_dump and pg_restore for a PostgreSQL register's backup and restore.

The tools take the connection from libpq's environment variables, built from
`[index] url`: never a password on a command line (where `ps` shows it) or in a
manifest. With `[index] password_file`, its password goes into a passfile of
mode 0600 in a private temporary directory for the tool's run only (PGPASSFILE),
removed afterwards; without it libpq finds PGPASSFILE or ~/.pgpass itself.

A dump is checked before the backup is called done: pg_dump's exit status,
`pg_restore --list` (the archive's table of contents holds every table's data),
and the audit_event rows in the archive — their number and the last seq and
hash — against what the exported snapshot saw.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from kaiku_tui.config import Config, index_location
from kaiku_tui.errors import StoreError, UsageError
from kaiku_tui.index.postgres_password import read_password_file

TOOL_DIRS = Path("/usr/lib/postgresql")  # Debian's versioned binaries, when not on PATH
# Tables whose data every register dump holds (others may be empty, but are there too).
REQUIRED_DATA = ("audit_event", "register_info", "schema_version", "person", "organisation")
# URL query parameters that are connection parameters (libpq's and asyncpg's names);
# any other is a server setting, as asyncpg takes it.
_QUERY_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "user": "PGUSER",
    "dbname": "PGDATABASE",
    "database": "PGDATABASE",
    "sslmode": "PGSSLMODE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
}


@dataclass(frozen=True)
class AuditInDump:
    rows: int
    head: tuple[int, bytes] | None


def find_tool(name: str) -> str:
    """`name` on PATH, else the newest under /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        (d for d in TOOL_DIRS.glob("*/bin") if d.parent.name.isdigit()),
        key=lambda d: int(d.parent.name),
        reverse=True,
    )
    for directory in versions:
        tool = directory / name
        if os.access(tool, os.X_OK):
            return str(tool)
    raise StoreError(
        f"{name} is not on PATH nor under {TOOL_DIRS}/*/bin: install the PostgreSQL client "
        "(postgresql-client-15)"
    )


@contextmanager
def libpq_env(config: Config, environ: Mapping[str, str] = os.environ) -> Iterator[dict[str, str]]:
    """The environment for a libpq tool connecting as `[index] url` says."""
    parts = urlsplit(config.index_url)
    settings = dict(parse_qsl(parts.query))
    if "search_path" in settings:
        raise UsageError(
            "[index] url: a register in a schema of its own (search_path) is backed up by "
            "the DBA (pg_dump --schema); backup and restore here take a whole database"
        )
    env = dict(environ)
    for name, value in (
        ("PGHOST", parts.hostname),
        ("PGPORT", str(parts.port) if parts.port else None),
        ("PGUSER", unquote(parts.username) if parts.username else None),
        ("PGDATABASE", unquote(parts.path.lstrip("/")) or None),
    ):
        if value:
            env[name] = value
    options = []
    for key, value in settings.items():
        if key in _QUERY_ENV:
            env[_QUERY_ENV[key]] = value
        else:  # asyncpg takes other parameters as server settings; so does PGOPTIONS
            escaped = value.replace(" ", "\\ ")
            options.append(f"-c {key}={escaped}")
    if options:
        env["PGOPTIONS"] = " ".join(options)
    with tempfile.TemporaryDirectory(prefix="kaiku-pg-") as private:
        if config.password_file is not None:
            env.pop("PGPASSWORD", None)  # libpq would prefer it to the passfile
            env["PGPASSFILE"] = _passfile(Path(private), read_password_file(config.password_file))
        yield env


def _passfile(directory: Path, password: str) -> str:
    """A one-line passfile for any host, database and user: it is this run's only."""
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    path = directory / "pgpass"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(f"*:*:*:*:{escaped}\n")
    return str(path)


def run(args: list[str], env: Mapping[str, str], what: str) -> str:
    """Run a tool; its stdout, or a StoreError with its exit status and last message."""
    try:
        done = subprocess.run(args, env=dict(env), capture_output=True, text=True, check=False)
    except OSError as exc:
        raise StoreError(f"{what}: {args[0]} could not be run ({exc.strerror})") from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no message"]
        raise StoreError(f"{what} failed (exit {done.returncode}): {lines[-1]}")
    return done.stdout


def dump(config: Config, snapshot_id: str, target: Path) -> None:
    """pg_dump in the custom format, of the database as `snapshot_id` sees it."""
    with libpq_env(config) as env:
        args = [find_tool("pg_dump"), "--format=custom", "--no-password"]
        args += [f"--snapshot={snapshot_id}", f"--file={target}"]
        run(args, env, f"pg_dump of {index_location(config)}")


def check_dump(config: Config, path: Path) -> AuditInDump:
    """The archive's table of contents holds the register's data, and what it holds of
    the audit log; a StoreError when it does not read back."""
    with libpq_env(config) as env:
        toc = run([find_tool("pg_restore"), "--list", str(path)], env, f"pg_restore --list {path}")
        missing = [t for t in REQUIRED_DATA if not _has_data(toc, t)]
        if missing:
            raise StoreError(f"{path}: the dump holds no data of {', '.join(missing)}")
        return _audit_in(path, env)


def _has_data(toc: str, table: str) -> bool:
    return any(" TABLE DATA " in line and f" {table} " in line for line in toc.splitlines())


def _audit_in(path: Path, env: Mapping[str, str]) -> AuditInDump:
    """Stream the archive's audit_event COPY data: count its rows, keep the last."""
    args = [find_tool("pg_restore"), "--data-only", "--table=audit_event", "--file=-", str(path)]
    with subprocess.Popen(
        args, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        found = _copy_rows(proc.stdout)
        error = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        lines = error.strip().splitlines() or ["no message"]
        raise StoreError(f"pg_restore of the audit log in {path} failed: {lines[-1]}")
    return found


def _copy_rows(lines: Iterator[str]) -> AuditInDump:
    columns: list[str] | None = None
    count, last = 0, None
    for line in lines:
        if columns is None:
            if line.startswith("COPY ") and "audit_event" in line:
                columns = [c.strip() for c in line.split("(", 1)[1].split(")", 1)[0].split(",")]
            continue
        if line.rstrip("\n") == "\\.":
            break
        count, last = count + 1, line
    if columns is None or last is None:
        return AuditInDump(count, None)
    fields = last.rstrip("\n").split("\t")
    seq, digest = fields[columns.index("seq")], fields[columns.index("hash")]
    return AuditInDump(count, (int(seq), bytes.fromhex(digest.removeprefix("\\\\x"))))


def restore(config: Config, path: Path) -> None:
    """pg_restore into the (empty) database of `[index] url`, as one transaction.

    Without the source's owner and privileges: the restoring login owns everything,
    and the application role of *this* database gets its grants afterwards
    (`postgres_schema.APP_PRIVILEGES`), since the role is named after the database."""
    with libpq_env(config) as env:
        if not env.get("PGDATABASE"):
            raise UsageError("[index] url: name the database to restore into")
        args = [find_tool("pg_restore"), "--no-password", "--no-owner", "--no-privileges"]
        args += ["--exit-on-error", "--single-transaction", f"--dbname={env['PGDATABASE']}"]
        run([*args, str(path)], env, f"pg_restore into {index_location(config)}")
