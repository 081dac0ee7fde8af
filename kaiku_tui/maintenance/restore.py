"""`kaiku-tui restore --from DIR`: a backup into an empty data directory.

Every file is checked against the manifest's SHA-256 first, and the master
key (from where it is kept, never from the backup) must be the one the backup
names. Then the index, the checkpoint file and the blobs are put in place and
the register is opened by the restoring admin, who leaves a `restore` event
in it. A restore that fails part-way removes what it put in place.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kaiku_tui.config import Config
from kaiku_tui.domain.access import Identity
from kaiku_tui.errors import ConfigError, UsageError
from kaiku_tui.maintenance import backup as files
from kaiku_tui.vault.blobs import BlobStore
from kaiku_tui.vault.keys import MasterKey


@dataclass(frozen=True)
class RestoreReport:
    index: Path
    blobs: int
    head_seq: int


async def restore(
    config: Config, identity: Identity, source: Path, environ: Mapping[str, str] = os.environ
) -> RestoreReport:
    if config.is_network:
        raise UsageError(
            "restore: a PostgreSQL register is restored with pg_restore into an empty "
            "database (README, 'Backup and restore')"
        )
    manifest = files.read_manifest(source)
    files.require_empty([config.sqlite_path, config.blob_dir, config.checkpoint_file])
    _same_key(config, manifest, environ)
    files.check_files(source, manifest)
    placed: list[Path] = []
    try:
        blobs = _place(config, source, manifest, placed)
        head = int(str(manifest.get("audit_head_seq", 0)))
        await _record(config, identity, source, head, blobs, environ)
    except BaseException:
        for path in placed:
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        raise
    return RestoreReport(config.sqlite_path, blobs, head)


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
    placed.append(config.sqlite_path)
    shutil.copyfile(source / files.INDEX_FILE, config.sqlite_path)
    if (source / files.CHECKPOINT_FILE).exists():
        placed.append(config.checkpoint_file)
        shutil.copyfile(source / files.CHECKPOINT_FILE, config.checkpoint_file)
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
