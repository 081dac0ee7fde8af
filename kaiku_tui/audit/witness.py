"""The witness: a second, append-only copy of every signed checkpoint, outside the data.

The checkpoint file (checkpoint.py) lives beside the database, where whoever runs the
register can rewrite it, and the service holds the signing key: alone it cannot tell a
truncated or re-signed log from an honest one. The witness is the same signed lines in a
file the service may append to but not rewrite: the append-only attribute (`chattr +a`,
set by root), or a file owned by another account. `audit verify` then compares the
chain with every checkpoint the witness ever took (register/witnessing.py).

Nothing here opens the file other than for reading or with O_APPEND, never with
O_TRUNC, so it works where the kernel allows appending only. Its line format, locking,
fsync and signature checks are the checkpoint file's own (`CheckpointFile`).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kaiku_tui.audit.checkpoint import Checkpoint, CheckpointFile
from kaiku_tui.errors import AuditFailure


class FileWitness:
    """The witness file: `append` a signed checkpoint, `read` every one back verified."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lines = CheckpointFile(self.path)

    def exists(self) -> bool:
        """Whether the file is there (an empty one made by the installer counts)."""
        return self.path.exists()

    def append(
        self,
        seq: int,
        hash: bytes,  # noqa: A002 - the name of the interface and of the JSON field
        signing_key: Ed25519PrivateKey,
        key_id: str,
        at: datetime | None = None,
    ) -> Checkpoint:
        """Sign and append (O_APPEND, fsync); the checkpoint now at the end of the file.

        The folder is made (0700) if missing: by default the witness lives under the
        platform's state directory, outside data_dir."""
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as err:
            raise AuditFailure(
                f"cannot make the folder of the audit witness {self.path}: {err.strerror or err}"
            ) from err
        return self._lines.append(seq, hash, signing_key, key_id, at)

    def read(self, public_key: Ed25519PublicKey) -> list[Checkpoint]:
        """Every checkpoint, each signature verified and seqs never going back; a damaged
        line is refused (TamperDetected). [] when the file is missing or empty: the
        caller decides whether that is allowed (a register that never signed)."""
        return self._lines.read(public_key)

    def last(self, public_key: Ed25519PublicKey) -> Checkpoint | None:
        """The last checkpoint, its signature verified; None for a missing or empty file."""
        checkpoints = self.read(public_key) if self._small() else self._last(public_key)
        return checkpoints[-1] if checkpoints else None

    def _small(self) -> bool:
        try:
            return os.stat(self.path).st_size < 1 << 20
        except FileNotFoundError:
            return True

    def _last(self, public_key: Ed25519PublicKey) -> list[Checkpoint]:
        last = self._lines.last()
        if last is None:
            return []
        self._lines.check_signature(last, public_key, "the last line")
        return [last]
