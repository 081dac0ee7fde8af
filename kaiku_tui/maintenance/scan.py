"""The integrity scan: every recording's blob and transcript against its keys.

A blob is checked without playing it: it exists, its length is a whole number
of segments (the stored size), its header and last segment authenticate
(opening a `BlobReader` does both) and, with `full`, every segment decrypts.
Nothing decrypted leaves the function that checked it.

Progress is kept in a small JSON file beside the index, rewritten after each
batch (write, fsync, rename), so a scan that was stopped resumes after the last
record it finished — rather than in the audited `register_info` facts, where
every update would be an audit event.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kaiku_tui.errors import KaikuError, StoreError
from kaiku_tui.vault.blobs import BlobStore
from kaiku_tui.vault.fields import decrypt_field
from kaiku_tui.vault.keys import OrgKey, RecordKey

PROGRESS_FILE = "scan-progress.json"


@dataclass(frozen=True)
class Finding:
    """One problem: the record (None for an orphan blob), what kind, in words."""

    record_id: int | None
    kind: str  # missing-blob, bad-blob, bad-key, bad-transcript, orphan-blob, no-org-key
    detail: str


@dataclass
class ScanState:
    """What a scan has done so far; saved after every batch so it can resume."""

    options: dict[str, object]
    after_id: int = 0
    records: int = 0
    blobs: int = 0
    blob_bytes: int = 0
    shredded: int = 0
    findings: list[Finding] = field(default_factory=list)

    def save(self, path: Path) -> None:
        data = asdict(self)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            json.dump(data, out)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, options: dict[str, object]) -> ScanState | None:
        """The saved state of an unfinished scan with the same options, else None."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("options") != options:
                return None
            data["findings"] = [Finding(**f) for f in data["findings"]]
            return cls(**data)
        except (OSError, ValueError, TypeError, KeyError):
            return None


@dataclass(frozen=True)
class Candidate:
    """The columns of a recording the scan needs (its content stays ciphertext)."""

    id: int
    org: str
    source_id: str
    transcript_enc: bytes | None
    blob_ref: str | None
    wrapped_key: bytes | None


def check_record(
    blobs: BlobStore, org_key: OrgKey, c: Candidate, ref: str, *, full: bool
) -> tuple[list[Finding], int]:
    """The findings for one recording and the blob bytes read. Runs on a worker thread."""
    assert c.wrapped_key is not None
    try:
        key = org_key.unwrap_record_key(ref, c.wrapped_key)
    except KaikuError as err:
        return [Finding(c.id, "bad-key", str(err))], 0
    found: list[Finding] = []
    if c.transcript_enc is not None:
        try:
            decrypt_field(key, "transcript", c.transcript_enc)
        except KaikuError as err:
            found.append(Finding(c.id, "bad-transcript", str(err)))
    if c.blob_ref is None:
        return found, 0
    blob_found, read = _check_blob(blobs, key, c.id, c.blob_ref, full=full)
    return found + blob_found, read


def _check_blob(
    blobs: BlobStore, key: RecordKey, record_id: int, ref: str, *, full: bool
) -> tuple[list[Finding], int]:
    if not blobs.exists(ref):
        return [Finding(record_id, "missing-blob", f"blob {ref} is not in the store")], 0
    try:
        with blobs.open(ref, key) as reader:
            if full:
                for i in range(reader.segment_count):
                    reader.read_segment(i)
            return [], blobs.size_on_disk(ref)
    except KaikuError as err:
        return [Finding(record_id, "bad-blob", f"blob {ref}: {err}")], 0


def orphans(blobs: BlobStore, named: set[str]) -> list[Finding]:
    """Blobs no recording names (left by a killed import, or planted)."""
    try:
        return [
            Finding(None, "orphan-blob", f"blob {ref} belongs to no recording")
            for ref in blobs.iter_refs()
            if ref not in named
        ]
    except OSError as exc:
        raise StoreError(f"blob store {blobs.root}: cannot list: {exc.strerror}") from None


Progress = Callable[[int, int], None]  # (records done, estimated total)
