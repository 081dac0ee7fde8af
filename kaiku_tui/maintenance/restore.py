"""`kaiku-tui restore --from DIR`: a backup into an empty data directory (and, for
PostgreSQL, an empty database: the one `[index] url` names).

Every file is checked against the manifest's SHA-256 first, and the master
key (from where it is kept, never from the backup) must be the one the backup
names. Then the index (a SQLite file copied, or pg_restore of the dump in one
transaction, then this database's application role's grants), the checkpoint
files and the blobs are put in place and the register is opened by the
restoring admin, who leaves a `restore` event in it. A restore that fails
part-way removes the files it put in place; a restored database stays (drop
it and create it empty to try again).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kaiku_tui.audit.cut import cut_file
from kaiku_tui.config import Config, index_location
from kaiku_tui.domain.access import Identity
from kaiku_tui.errors import ConfigError, UsageError
from kaiku_tui.maintenance import backup as files
from kaiku_tui.maintenance import pg_tools
from kaiku_tui.vault.blobs import BlobStore
from kaiku_tui.vault.keys import MasterKey


@dataclass(frozen=True)
class RestoreReport:
    index: str  # the SQLite file, or host:port/database
    blobs: int
    head_seq: int


async def restore(
    config: Config, identity: Identity, source: Path, environ: Mapping[str, str] = os.environ
) -> RestoreReport:
    manifest = files.read_manifest(source)
    _same_kind(config, source, manifest)
    cuts = cut_file(config.checkpoint_file).path
    local = [config.blob_dir, config.checkpoint_file, cuts]
    files.require_empty(local if config.is_network else [config.sqlite_path, *local])
    if config.is_network:
        await _require_empty_database(config)
    _same_key(config, manifest, environ)
    files.check_files(source, manifest)
    placed: list[Path] = []
    try:
        if config.is_network:
            await _restore_database(config, source, environ)
        blobs = _place(config, source, manifest, placed)
        head = int(str(manifest.get("audit_head_seq", 0)))
        await _record(config, identity, source, head, blobs, environ)
    except BaseException:
        for path in placed:
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        raise
    return RestoreReport(index_location(config), blobs, head)


def _same_kind(config: Config, source: Path, manifest: dict[str, object]) -> None:
    kind = manifest.get("index_kind", "sqlite")  # backups before PostgreSQL dumps: SQLite
    wanted = "postgresql" if config.is_network else "sqlite"
    if kind != wanted:
        raise UsageError(
            f"--from {source}: a backup of a {kind} index, and [index] url is {wanted}; "
            f"restore it with a configuration of its kind (then kaiku-tui migrate --to)"
        )


async def _require_empty_database(config: Config) -> None:
    from kaiku_tui.index.postgres import relations_in

    found = await relations_in(config.index_url, config.password_file)
    if found:
        raise UsageError(
            f"restore: the database {index_location(config)} is not empty ({found} tables, "
            "views or sequences); restore only into a new, empty database (createdb)"
        )


async def _restore_database(config: Config, source: Path, environ: Mapping[str, str]) -> None:
    """pg_restore (one transaction), then this database's application role's grants."""
    from kaiku_tui.index import open_index
    from kaiku_tui.index import upkeep as index_upkeep

    await asyncio.to_thread(pg_tools.restore, config, source / files.PG_DUMP_FILE)
    key = MasterKey.from_env_or_file(config.master_key_file, environ)
    index = await open_index(config, key.audit_mac_key())
    try:
        await index_upkeep.pg_grant(index)
    finally:
        await index.close()


def _same_key(config: Config, manifest: dict[str, object], environ: Mapping[str, str]) -> None:
    key = MasterKey.from_env_or_file(config.master_key_file, environ)
    if key.key_id != manifest.get("master_key_id"):
        raise ConfigError(
            f"master key {key.key_id} is not the key of this backup "
            f"({manifest.get('master_key_id')}); put the register's master key at "
            f"{config.master_key_file} first"
        )


def _place(config: Config, source: Path, manifest: dict[str, object], placed: list[Path]) -> int:
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    copies = [
        (files.CHECKPOINT_FILE, config.checkpoint_file),
        (files.CUTS_FILE, cut_file(config.checkpoint_file).path),
    ]
    if not config.is_network:
        copies.append((files.INDEX_FILE, config.sqlite_path))
    for name, target in copies:
        if (source / name).exists():
            placed.append(target)
            shutil.copyfile(source / name, target)
    if not config.blob_dir.exists():
        placed.append(config.blob_dir)
    config.blob_dir.mkdir(parents=True, exist_ok=True)
    return files.place_blobs(source, manifest, BlobStore(config.blob_dir))


async def _record(
    config: Config,
    identity: Identity,
    source: Path,
    head: int,
    blobs: int,
    environ: Mapping[str, str],
) -> None:
    from kaiku_tui.register import Register

    register = await Register.open(config, identity, environ)
    try:
        await register.upkeep().restored(source, head, blobs)
    finally:
        await register.close()
