"""The blob store: encrypted audio blobs as files under one root directory.

Blobs are fanned out as root/ab/cd/<ref>.kkb so no directory grows huge.
A reference is lowercase hex and nothing else, so it can never name a path
outside the root. A blob appears under its final name only when complete
(temporary file, fsync, rename), so a crash leaves no half-written recording.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from kaiku_tui.errors import StoreError, UsageError
from kaiku_tui.vault.keys import RecordKey, fsync_directory
from kaiku_tui.vault.stream import BlobReader, encrypt_stream

SUFFIX = ".kkb"
# Lowercase only: on a case-insensitive mount "AB…" and "ab…" would be one file.
_REF_PATTERN = re.compile(r"[0-9a-f]{16,64}")


def _reason(exc: OSError) -> str:
    """The OS's own words, and the file they were about (a temporary file, or the source)."""
    reason = exc.strerror or str(exc)
    return f"{exc.filename}: {reason}" if exc.filename else reason


def _store_error(action: str, ref: str, path: Path, exc: OSError) -> StoreError:
    return StoreError(f"blob {ref}: cannot {action} {path}: {_reason(exc)}")


def _create_temp(directory: Path, ref: str) -> tuple[int, Path]:
    """A new hidden file next to the final name, so the rename cannot cross file systems.

    Created with mode 0666 less the umask, like any file: on a shared mount other
    logins of the team must be able to read blobs (they are encrypted; the keys,
    not the file mode, keep them secret). tempfile.mkstemp would force 0600.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    path = directory / f".{ref}.{secrets.token_hex(8)}.tmp"
    return os.open(path, flags, 0o666), path


class BlobStore:
    """Encrypted blobs on a local or shared file system; the caller keeps the keys."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def new_ref(self) -> str:
        """128 random bits: unguessable, and unrelated to the record it belongs to."""
        return secrets.token_hex(16)

    def path(self, ref: str) -> Path:
        if not _REF_PATTERN.fullmatch(ref):
            shown = ref if len(ref) <= 80 else ref[:80] + "…"
            raise UsageError(
                f"blob reference {shown!r} is not valid: expected 16 to 64 lowercase hex characters"
            )
        return self.root / ref[:2] / ref[2:4] / f"{ref}{SUFFIX}"

    def put(self, ref: str, key: RecordKey, src: BinaryIO) -> int:
        """Encrypt `src` into the blob `ref` (replacing any blob of that ref); returns the
        plaintext length."""
        final = self.path(ref)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = _create_temp(final.parent, ref)
        except OSError as exc:
            raise _store_error("write", ref, final, exc) from exc
        try:
            length = self._write_synced(fd, key, src)
            os.replace(tmp, final)
            fsync_directory(final.parent)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise _store_error("write", ref, final, exc) from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return length

    @staticmethod
    def _write_synced(fd: int, key: RecordKey, src: BinaryIO) -> int:
        with os.fdopen(fd, "wb") as out:
            length = encrypt_stream(key, src, out)
            out.flush()
            os.fsync(out.fileno())
        return length

    def open(self, ref: str, key: RecordKey) -> BlobReader:
        """A reader that owns its file: use it as a context manager, or close it."""
        path = self.path(ref)
        try:
            src = path.open("rb")
        except FileNotFoundError:
            raise StoreError(f"blob {ref} is missing ({path})") from None
        except OSError as exc:
            raise _store_error("open", ref, path, exc) from exc
        return BlobReader(key, src, close_src=True)

    def exists(self, ref: str) -> bool:
        return self.path(ref).is_file()

    def delete(self, ref: str) -> None:
        """Remove the blob; a blob that is already gone is fine (deletion is idempotent)."""
        path = self.path(ref)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise _store_error("delete", ref, path, exc) from exc

    def size_on_disk(self, ref: str) -> int:
        path = self.path(ref)
        try:
            return path.stat().st_size
        except FileNotFoundError:
            raise StoreError(f"blob {ref} is missing ({path})") from None
        except OSError as exc:
            raise _store_error("stat", ref, path, exc) from exc

    def iter_refs(self) -> Iterator[str]:
        """Every complete blob's ref, in sorted order; temporary files and strays are skipped."""
        for first in self._subdirs(self.root):
            for second in self._subdirs(first):
                for name in self._names(second):
                    ref = name.removesuffix(SUFFIX)
                    if name.endswith(SUFFIX) and self._is_filed_under(ref, first, second):
                        yield ref

    @staticmethod
    def _is_filed_under(ref: str, first: Path, second: Path) -> bool:
        return bool(_REF_PATTERN.fullmatch(ref)) and (ref[:2], ref[2:4]) == (
            first.name,
            second.name,
        )

    def _subdirs(self, directory: Path) -> list[Path]:
        return [directory / name for name in self._names(directory) if (directory / name).is_dir()]

    @staticmethod
    def _names(directory: Path) -> list[str]:
        try:
            return sorted(os.listdir(directory))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(f"blob store: cannot list {directory}: {_reason(exc)}") from exc
