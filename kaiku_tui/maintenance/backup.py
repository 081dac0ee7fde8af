"""Backups as files: a snapshot of the index, the encrypted blobs, a manifest.

The blobs are ciphertext already, so they are copied (or hard-linked) as they
are, never decrypted. The master key is never in a backup: a backup and its key
kept in one place is a readable copy of every recording. The manifest names each
file with its size and SHA-256, so a restore checks every byte before using it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kaiku_tui.errors import StoreError, UsageError
from kaiku_tui.vault.blobs import SUFFIX, BlobStore

MANIFEST = "manifest.json"
INDEX_FILE = "index.sqlite3"
BLOB_DIR = "blobs"
CHECKPOINT_FILE = "audit-checkpoints.jsonl"
CUTS_FILE = "audit-cuts.jsonl"  # the signed audit cuts (audit/cut.py), when there are any
PG_DUMP_FILE = "index.pgdump"  # a PostgreSQL index: pg_dump's custom format (pg_tools.py)
INDEX_FILES = (INDEX_FILE, PG_DUMP_FILE, CHECKPOINT_FILE, CUTS_FILE)  # checked by SHA-256
FORMAT = 1


@dataclass(frozen=True)
class BackupReport:
    directory: Path
    blobs: int
    blob_bytes: int
    missing: tuple[str, ...]  # blob refs the snapshot names that were not in the store
    head_seq: int
    seconds: float


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def empty_target(directory: Path) -> None:
    """A backup goes into a new or empty directory, never over another backup."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise UsageError(f"--to {directory}: not an empty directory")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)


def blob_refs_of(snapshot: Path) -> list[str]:
    """The blob references the snapshot's recordings name: what this backup must hold."""
    db = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT blob_ref FROM recording WHERE blob_ref IS NOT NULL").fetchall()
    finally:
        db.close()
    return sorted(str(r[0]) for r in rows)


def head_seq_of(snapshot: Path) -> int:
    db = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT coalesce(max(seq), 0) FROM audit_event").fetchone()[0])
    finally:
        db.close()


def audit_hash_of(snapshot: Path, seq: int) -> bytes | None:
    """The hash of the snapshot's audit event `seq` (a restore's resume checks the chain)."""
    db = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT hash FROM audit_event WHERE seq = ?", (seq,)).fetchone()
    finally:
        db.close()
    return None if row is None else bytes(row[0])


def copy_blobs(
    store: BlobStore, refs: list[str], directory: Path, *, link: bool
) -> tuple[list[dict[str, object]], list[str]]:
    """Each blob into directory/blobs/<ref>.kkb; (manifest entries, refs not found)."""
    out = directory / BLOB_DIR
    out.mkdir(exist_ok=True)
    entries: list[dict[str, object]] = []
    missing: list[str] = []
    for ref in refs:
        source = store.path(ref)
        target = out / f"{ref}{SUFFIX}"
        try:
            _place(source, target, link=link)
        except FileNotFoundError:
            missing.append(ref)
            continue
        entries.append({"ref": ref, "size": target.stat().st_size, "sha256": sha256_of(target)})
    return entries, missing


def _place(source: Path, target: Path, *, link: bool) -> None:
    """A hard link shares the file (no space, same disk); a copy survives the disk."""
    if link:
        try:
            os.link(source, target)
            return
        except OSError as exc:
            if not source.exists():
                raise FileNotFoundError(source) from exc
            # another file system: fall back to a copy
    shutil.copyfile(source, target)


def write_manifest(directory: Path, manifest: dict[str, object]) -> None:
    path = directory / MANIFEST
    with path.open("w", encoding="utf-8") as out:
        json.dump(manifest, out, indent=1)
        out.flush()
        os.fsync(out.fileno())


def new_manifest(key_id: str, head_seq: int, blobs: list[dict[str, object]]) -> dict[str, object]:
    return {
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "master_key_id": key_id,  # which key opens it; never the key itself
        "audit_head_seq": head_seq,
        "blobs": blobs,
    }


def add_file(directory: Path, manifest: dict[str, object], name: str) -> None:
    path = directory / name
    manifest[name] = {"size": path.stat().st_size, "sha256": sha256_of(path)}


# -- restoring ---------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict[str, object]:
    try:
        data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"--from {directory}: no readable {MANIFEST} ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(f"--from {directory}: {MANIFEST} is not a kaiku-tui backup")
    return data


def check_files(directory: Path, manifest: dict[str, object]) -> None:
    """Every file the manifest names, byte for byte, before anything is restored."""
    for name in INDEX_FILES:
        entry = manifest.get(name)
        if isinstance(entry, dict):
            _check_hash(directory / name, str(entry["sha256"]), name)
    blobs = manifest.get("blobs")
    for entry in blobs if isinstance(blobs, list) else []:
        name = f"{entry['ref']}{SUFFIX}"
        _check_hash(directory / BLOB_DIR / name, str(entry["sha256"]), f"blob {entry['ref']}")


def _check_hash(path: Path, expected: str, what: str) -> None:
    try:
        found = sha256_of(path)
    except OSError as exc:
        raise StoreError(f"backup {path.parent}: {what} cannot be read ({exc.strerror})") from None
    if found != expected:
        raise StoreError(f"backup: {what} ({path}) does not match its SHA-256 in the manifest")


def require_empty(paths: list[Path]) -> None:
    """Restore only into a register that does not exist yet: never over a live one."""
    for path in paths:
        if path.is_file() or (path.is_dir() and any(path.iterdir())):
            raise UsageError(f"restore: {path} exists; restore only into an empty data directory")


def place_blobs(directory: Path, manifest: dict[str, object], store: BlobStore) -> int:
    """Blobs into the store's fan-out layout (root/ab/cd/<ref>.kkb)."""
    blobs = manifest.get("blobs")
    count = 0
    for entry in blobs if isinstance(blobs, list) else []:
        ref = str(entry["ref"])
        target = store.path(ref)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(directory / BLOB_DIR / f"{ref}{SUFFIX}", target)
        count += 1
    return count
