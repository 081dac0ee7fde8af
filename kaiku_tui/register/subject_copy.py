"""The copy handed out of the register: to the data subject (GDPR art. 15) or to an authority.

One format for both. A folder with, for each recording, the original audio file
byte for byte (`<id>.wav`: the blob holds exactly the imported file's bytes) and
the transcript as UTF-8 text (`<id>.txt`, one line per utterance), and
`manifest.json`: what each recording is, the purposes it was used for, to whom
it was disclosed, when it will be destroyed, and the SHA-256 of every file.

The folder must be new or empty. Everything is written into a hidden folder
beside it (mode 0700, files 0600, each fsynced) which is renamed onto it at
the end: the recipient never finds a half-written copy. The register audits
what is revealed before this module writes a byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kaiku_tui.domain.dates import iso
from kaiku_tui.domain.recording import RecordingSummary, TranscriptLine
from kaiku_tui.domain.text import sanitise
from kaiku_tui.errors import UsageError
from kaiku_tui.register.recorded_audio import RecordingAudio
from kaiku_tui.vault.keys import fsync_directory

MANIFEST = "manifest.json"


@dataclass
class CopyItem:
    """One recording as it goes into a copy; `audio` is closed by the writer."""

    summary: RecordingSummary
    organisation: str  # the organisation's name
    transcript: tuple[TranscriptLine, ...]
    audio: RecordingAudio | None
    purposes: tuple[str, ...]
    recipients: tuple[Mapping[str, object], ...]
    retention: Mapping[str, object]
    files: list[dict[str, object]] = field(default_factory=list)


def check_target(to: Path, option: str = "--to") -> None:
    """A copy goes into a new or empty folder whose parent exists: never over anything."""
    if to.exists() or to.is_symlink():
        if to.is_symlink() or not to.is_dir():
            raise UsageError(f"{option} {to}: exists and is not a folder")
        if any(to.iterdir()):
            raise UsageError(f"{option} {to}: the folder is not empty")
    elif not to.parent.is_dir():
        raise UsageError(f"{option} {to}: its parent folder does not exist")


def stage(
    to: Path, header: Mapping[str, object], items: Sequence[CopyItem], *, staff_names: bool
) -> tuple[Path, str]:
    """Write the whole copy into a hidden folder beside `to`; return it and the
    manifest's SHA-256. Blocking: run it in a thread."""
    staging = Path(tempfile.mkdtemp(prefix=f".{to.name}.", suffix=".partial", dir=to.parent))
    try:
        for item in items:
            _write_item(staging, item, staff_names)
        manifest = _manifest(header, items, staff_names)
        digest = _write_file(staging / MANIFEST, [manifest])
        fsync_directory(staging)
    except BaseException:
        discard(staging)
        raise
    finally:
        close_audio(items)
    return staging, digest


def close_audio(items: Sequence[CopyItem]) -> None:
    for item in items:
        if item.audio is not None:
            item.audio.close()


def publish(staging: Path, to: Path) -> None:
    """Rename the finished copy onto `to` (an empty folder is replaced atomically)."""
    try:
        os.rename(staging, to)
    except OSError as exc:
        discard(staging)
        raise UsageError(f"--to {to}: cannot put the copy there ({exc.strerror})") from None
    fsync_directory(to.parent)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def _write_item(folder: Path, item: CopyItem, staff_names: bool) -> None:
    rid = item.summary.id
    if item.audio is not None:
        name = f"{rid}.wav"
        digest = _write_file(folder / name, item.audio.iter_bytes())
        item.files.append({"name": name, "bytes": item.audio.size, "sha256": digest})
    if item.transcript:
        name = f"{rid}.txt"
        text = "".join(transcript_line(x, staff_names) + "\n" for x in item.transcript)
        data = text.encode("utf-8")
        item.files.append({"name": name, "bytes": len(data),
                           "sha256": _write_file(folder / name, [data])})  # fmt: skip


def transcript_line(line: TranscriptLine, staff_names: bool) -> str:
    """`[00:01:30] customer: text`; with staff names (an authority's copy) the speaker
    as recorded too. Control characters shown as placeholders, newlines included."""
    whole = int(line.at)
    stamp = f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"
    who = f"{line.speaker} ({line.role.value})" if staff_names else line.role.value
    return f"[{stamp}] {sanitise(who)}: {sanitise(line.text)}"


def _manifest(header: Mapping[str, object], items: Sequence[CopyItem], staff_names: bool) -> bytes:
    document: dict[str, Any] = dict(header)
    document["recordings"] = [_entry(item, staff_names) for item in items]
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _entry(item: CopyItem, staff_names: bool) -> dict[str, object]:
    s = item.summary
    entry: dict[str, object] = {
        "id": s.id, "org": s.org, "organisation": item.organisation,
        "channel": s.channel.value, "direction": s.direction.value,
        "started_at": iso(s.started_at), "duration_s": s.duration_s,
    }  # fmt: skip
    if staff_names:
        entry["agent"] = s.agent
    entry.update(files=item.files, purposes=list(item.purposes),
                 recipients=list(item.recipients), retention=dict(item.retention))  # fmt: skip
    return entry


def _write_file(path: Path, chunks: Iterable[bytes]) -> str:
    """A new file, mode 0600, fsynced; its SHA-256 as it was written."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as out:
        for chunk in chunks:
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()
