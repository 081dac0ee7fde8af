"""A recording's audio as the register hands it out: the imported WAV, decrypted on demand.

Returned by `Register.open_audio` only after the opening is audited. It reads
like a file of the imported bytes (`read(offset, length)`, the signature
`kaiku_tui.audio` parses and decodes through), and decrypts only the 64 KiB
segments asked for, so playback can start and seek without decrypting the
whole recording and without any plaintext on disk. Reads are blocking file
reads: a UI runs them in a thread worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType

from kaiku_tui.audio.wav import WavFormat, parse_header
from kaiku_tui.vault.stream import BlobReader


class RecordingAudio:
    """The plaintext WAV of one recording; close it (or use `with`)."""

    def __init__(self, record_id: int, reader: BlobReader) -> None:
        self.record_id = record_id
        self._reader = reader
        self.size = reader.size

    def read(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes from `offset`, fewer only at the end; every byte authenticated."""
        return self._reader.read(offset, length)

    def iter_bytes(self) -> Iterator[bytes]:
        """The whole file in order, a segment at a time (an export)."""
        return self._reader.iter_plaintext()

    def wav_format(self) -> WavFormat:
        """The WAV header, parsed from the decrypted bytes (validated at import)."""
        return parse_header(self.read, self.size, f"recording {self.record_id}")

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> RecordingAudio:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
