"""`kaiku-tui restore --from DIR`: a backup into an empty data directory (and, for
PostgreSQL, an empty database: the one `[index] url` names).

Every file is checked against the manifest's SHA-256 first, and the key
store's data key (from where the key store is kept, never from the backup: a
backup holds no key) must be the one the backup names. Then the index (a
SQLite file copied, or pg_restore of the dump in one transaction, then this
database's application role's grants) and the checkpoint files are put in
place and the register is opened by the restoring login, whose role the
restored register decides: a refusal is audited in it and the index stays,
with no blob placed (the content never reaches a non-admin); an admin's
restore of the same backup continues from that index, the refusal kept in its
log. Otherwise the blobs are placed and the admin leaves a `restore` event. A
restore that fails part-way for another reason removes the files it put in
place; a restored database stays, and a restore of the same backup continues
from it (docs/ARCHITECTURE.md, "Backup and restore").
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kaiku_tui.audit.chain import event_from_body
from kaiku_tui.audit.cut import cut_file
from kaiku_tui.config import Config, index_location
from kaiku_tui.domain.access import Action, Identity
from kaiku_tui.errors import AccessDenied, ConfigError, UsageError
from kaiku_tui.maintenance import backup as files
from kaiku_tui.maintenance import pg_tools
from kaiku_tui.register.door import Register
from kaiku_tui.register.keyring import open_key_store
from kaiku_tui.vault.blobs import BlobStore

MAINTAIN = Action.MAINTAIN.value


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
    files.require_empty([config.blob_dir])
    _same_key(config, manifest, environ)
    files.check_files(source, manifest)
    head = int(str(manifest.get("audit_head_seq", 0)))
    kept = await _unfinished_index(config, source, manifest, head, environ)
    if not kept:
        files.require_empty([config.checkpoint_file, cut_file(config.checkpoint_file).path])
    placed: list[Path] = []
    register = await _open_restored(config, identity, source, kept, placed, environ)
    refused: AccessDenied | None = None
    try:
        try:
            await register.upkeep.restoring(source, head)
        except AccessDenied as err:
            refused = err  # audited in the restored index, which stays: no blob is placed
        else:
            blobs = _place(config, source, manifest, placed)
            await register.upkeep.restored(source, head, blobs, resumed=kept)
    except BaseException:
        await register.close()
        _remove(placed)
        raise
    await register.close()
    if refused is not None:
        raise _kept(refused, config, source)
    return RestoreReport(index_location(config), blobs, head)


async def _open_restored(
    config: Config, identity: Identity, source: Path, kept: bool, placed: list[Path],
    environ: Mapping[str, str],
) -> Register:  # fmt: skip
    """The index and its checkpoint files in place (unless an earlier restore of this
    backup left them), opened by the restoring login: the register's audit log is where
    the restore is decided. Blobs, the content, come only after."""
    try:
        if not kept:
            if config.is_network:
                await _restore_database(config, source, environ)
            else:
                _place_index(config, source, placed)
        _place_audit_files(config, source, placed)
        return await Register.open(config, identity, environ)
    except AccessDenied as err:  # not a person of the restored register: audited there
        raise _kept(err, config, source) from None
    except BaseException:
        _remove(placed)
        raise


def _kept(err: AccessDenied, config: Config, source: Path) -> AccessDenied:
    return AccessDenied(
        f"{err}; restore refused: the restored index {index_location(config)} keeps the "
        f"refusal in its audit log and no blob or checkpoint was placed; an admin's "
        f"kaiku-tui restore --from {source} continues from it"
    )


def _remove(placed: list[Path]) -> None:
    for path in placed:
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


async def _unfinished_index(
    config: Config, source: Path, manifest: dict[str, object], head: int,
    environ: Mapping[str, str],
) -> bool:  # fmt: skip
    """False: no index yet (restore it). True: the index is this backup's (its audit
    chain holds the backup's head) and no restore into it finished — a refused one, or
    one that stopped after pg_restore: continue from it, its audit events kept. Any other
    index: UsageError, never over a live register."""
    if config.is_network:
        from kaiku_tui.index.postgres import relations_in

        found = await relations_in(config.index_url, config.password_file)
        if not found:
            return False
        busy = UsageError(
            f"restore: the database {index_location(config)} is not empty ({found} tables, "
            "views or sequences); restore only into a new, empty database (createdb)"
        )
    elif not config.sqlite_path.exists():
        return False
    else:
        busy = UsageError(
            f"restore: {config.sqlite_path} exists; restore only into an empty data directory"
        )
    expected = _backup_head_hash(source, manifest, head)
    if expected is None or not await _continues(config, head, expected, environ):
        raise busy
    return True


def _backup_head_hash(source: Path, manifest: dict[str, object], head: int) -> bytes | None:
    if "audit_head_hash" in manifest:  # a PostgreSQL dump's manifest
        value = manifest["audit_head_hash"]
        return bytes.fromhex(value) if isinstance(value, str) else None
    return files.audit_hash_of(source / files.INDEX_FILE, head)


async def _continues(
    config: Config, head: int, expected: bytes, environ: Mapping[str, str]
) -> bool:
    """The index's event at the backup's head is the backup's, and no restore finished."""
    from kaiku_tui.index import open_index

    key = open_key_store(config, environ)
    index = await open_index(config, key.audit_mac_key)
    try:
        at_head = await index.audit_rows(head - 1, 1)  # rows as stored: plain tuples
        if not at_head or (at_head[0][0], bytes(at_head[0][3])) != (head, expected):
            return False
        async for rows in index.audit_scan(head):
            if any(_finished_restore(bytes(row[1])) for row in rows):
                return False
    finally:
        await index.close()
    return True


def _finished_restore(body: bytes) -> bool:
    event = event_from_body(body)[1]
    criteria = event.criteria if isinstance(event.criteria, dict) else {}
    return event.action == MAINTAIN and event.outcome == "ok" and criteria.get("task") == "restore"


def _same_kind(config: Config, source: Path, manifest: dict[str, object]) -> None:
    kind = manifest.get("index_kind", "sqlite")  # backups before PostgreSQL dumps: SQLite
    wanted = "postgresql" if config.is_network else "sqlite"
    if kind != wanted:
        raise UsageError(
            f"--from {source}: a backup of a {kind} index, and [index] url is {wanted}; "
            f"restore it with a configuration of its kind (then kaiku-tui migrate --to)"
        )


async def _restore_database(config: Config, source: Path, environ: Mapping[str, str]) -> None:
    """pg_restore (one transaction), then this database's application role's grants."""
    from kaiku_tui.index import open_index
    from kaiku_tui.index import upkeep as index_upkeep

    await asyncio.to_thread(pg_tools.restore, config, source / files.PG_DUMP_FILE)
    key = open_key_store(config, environ)
    index = await open_index(config, key.audit_mac_key)
    try:
        await index_upkeep.pg_grant(index)
    finally:
        await index.close()


def _same_key(config: Config, manifest: dict[str, object], environ: Mapping[str, str]) -> None:
    key = open_key_store(config, environ)
    if key.key_id != manifest.get("master_key_id"):
        raise ConfigError(
            f"data key {key.key_id} is not the key of this backup "
            f"({manifest.get('master_key_id')}); put the register's key store (with the data "
            f"key the backup names) at {config.key_store} first"
        )


def _place_index(config: Config, source: Path, placed: list[Path]) -> None:
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    placed.append(config.sqlite_path)
    shutil.copyfile(source / files.INDEX_FILE, config.sqlite_path)


def _place_audit_files(config: Config, source: Path, placed: list[Path]) -> None:
    """The checkpoint file and the audit cuts, where an earlier run has not put them."""
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    copies = [
        (files.CHECKPOINT_FILE, config.checkpoint_file),
        (files.CUTS_FILE, cut_file(config.checkpoint_file).path),
    ]
    for name, target in copies:
        if (source / name).exists() and not target.exists():
            placed.append(target)
            shutil.copyfile(source / name, target)


def _place(config: Config, source: Path, manifest: dict[str, object], placed: list[Path]) -> int:
    if not config.blob_dir.exists():
        placed.append(config.blob_dir)
    config.blob_dir.mkdir(parents=True, exist_ok=True)
    return files.place_blobs(source, manifest, BlobStore(config.blob_dir))
