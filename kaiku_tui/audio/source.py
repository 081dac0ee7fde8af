"""What the player reads: the plaintext WAV bytes, by offset, from one place.

`Register.open_audio` returns a `RecordingAudio` (`size`, `read(offset,
length)`, decrypting 64 KiB segments on demand); any object of that shape
will do, and `BytesSource` is one over bytes in memory (tests, bench).
The player and the waveform envelope read from two threads, and a blob
reader is not thread-safe (it seeks a shared file and caches one segment),
so both go through one `SharedReader`.
"""

from __future__ import annotations

import threading
from typing import Protocol

from kaiku_tui.audio.wav import Reader, memory_reader


class AudioSource(Protocol):
    """The plaintext WAV file of one recording."""

    @property
    def size(self) -> int: ...

    def read(self, offset: int, length: int) -> bytes: ...


class BytesSource:
    """A WAV file held in memory."""

    def __init__(self, data: bytes) -> None:
        self._read = memory_reader(data)
        self._size = len(data)

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        return self._read(offset, length)


class SharedReader:
    """`read(offset, length)` on one source, one caller at a time."""

    def __init__(self, source: AudioSource) -> None:
        self._source = source
        self._lock = threading.Lock()
        self.size = source.size

    def __call__(self, offset: int, length: int) -> bytes:
        with self._lock:
            return self._source.read(offset, length)


def shared(source: AudioSource | SharedReader) -> SharedReader:
    """The source's shared reader, made once so the player and the envelope use the same lock."""
    return source if isinstance(source, SharedReader) else SharedReader(source)


__all__ = ["AudioSource", "BytesSource", "Reader", "SharedReader", "shared"]
