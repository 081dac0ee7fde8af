"""Recording files of a phone system: finding a call's WAV under a folder, and checking it.

PBXs file recordings in their own trees — FreePBX as
`YYYY/MM/DD/in-<src>-<dst>-YYYYMMDD-HHMMSS-<uniqueid>.wav` — but every one
ends the name with the call's uniqueid. The folder is walked once and every
WAV is indexed under each tail of its name that starts after a separator, so
that a uniqueid with a system-name prefix (`pbx1-1741590842.16`) is found as
well as a plain one, and `1741590842.16` never matches `21741590842.16`.

A recording is checked before it is stored: it must be a WAV the register can
keep and play (`kaiku_tui.audio.validate`: parsable, data length consistent
with its header). Its size is kept, so that the register stores exactly the
bytes that were checked.
"""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from collections.abc import Collection
from pathlib import Path

from kaiku_tui.audio.wav import WavError, WavFormat, validate
from kaiku_tui.domain.recording import AudioSource
from kaiku_tui.errors import UsageError

_SEPARATORS = "-_ +/"
_SUFFIX = ".wav"


class RecordingProblem(Exception):
    """Why a call's recording cannot be imported, in one line."""


class RecordingFolder:
    """The WAVs under one folder, by the tails of their names a uniqueid could be.

    With `wanted` (the uniqueids of the CDR) only those tails are kept: a PBX's
    spool holds years of recordings, and an import needs a day's.
    """

    def __init__(self, root: Path, wanted: Collection[str] | None = None) -> None:
        if not root.is_dir():
            raise UsageError(f"{root}: the recordings folder does not exist or is not a folder")
        self.root = root
        self._by_tail: dict[str, list[Path]] = defaultdict(list)
        for path in _wav_files(root):
            for tail in _tails(path.name[: -len(_SUFFIX)]):
                if wanted is None or tail in wanted:
                    self._by_tail[tail].append(path)

    def find(self, uniqueid: str) -> Path:
        """The one recording of this uniqueid; none, or more than one, is a problem."""
        found = self._by_tail.get(uniqueid, [])
        if not found:
            raise RecordingProblem(f"no recording named *{uniqueid}.wav under {self.root}")
        if len(found) > 1:
            names = ", ".join(str(p) for p in sorted(found)[:3])
            raise RecordingProblem(f"{len(found)} recordings end with {uniqueid}.wav: {names}")
        return found[0]


def _wav_files(root: Path) -> list[Path]:
    """Every regular *.wav file under root (any case), not following symlinked folders."""
    found: list[Path] = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            if name.lower().endswith(_SUFFIX) and len(name) > len(_SUFFIX):
                found.append(Path(folder) / name)
    return found


def _tails(stem: str) -> list[str]:
    """The whole stem and every tail of it that starts right after a separator."""
    tails = [stem]
    for i, char in enumerate(stem):
        if char in _SEPARATORS and i + 1 < len(stem):
            tails.append(stem[i + 1 :])
    return tails


def check_wav(path: Path) -> tuple[AudioSource, WavFormat]:
    """The recording as a checked source, or RecordingProblem saying what is wrong."""
    try:
        # O_NONBLOCK: a FIFO named like a recording must not hang the import.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise RecordingProblem(f"{path}: not a regular file")
            size = info.st_size
            if size == 0:
                raise RecordingProblem(f"{path}: the recording is empty (0 bytes)")

            def read(offset: int, length: int) -> bytes:
                handle.seek(offset)
                return handle.read(length)

            fmt = validate(read, size, str(path))
    except WavError as exc:
        raise RecordingProblem(str(exc)) from None
    except OSError as exc:
        raise RecordingProblem(f"{path}: cannot read ({exc.strerror or exc})") from None
    return AudioSource(path, size), fmt
