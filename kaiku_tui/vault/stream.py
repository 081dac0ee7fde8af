"""Streaming AEAD for audio blobs: AES-256-GCM over 64 KiB segments (a Tink-like STREAM).

Why segments: playback must start and seek by decrypting only the segments it
needs, and nothing may ever be decrypted into a temporary file. Why this
nonce: the segment index stops reordering, the last-segment flag stops
truncation at a segment boundary, and the random prefix keeps two blobs of a
record apart. The header is in every segment's associated data, with the
record reference, so neither the header nor a whole blob can be swapped.

Layout: header || segment 0 || ... || segment n-1. Every stored segment but the
last is SEGMENT_SIZE + TAG_LEN bytes; the last holds 1..SEGMENT_SIZE bytes of
plaintext (0 only when the whole blob is empty), so the layout, and with it the
plaintext size, follows from the file length alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import TracebackType
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kaiku_tui.errors import StoreError, VaultError
from kaiku_tui.vault.keys import RecordKey

MAGIC = b"KKB1"
VERSION = 1
SEGMENT_SIZE = 64 * 1024
NONCE_PREFIX_LEN = 7
TAG_LEN = 16
STORED_SEGMENT_SIZE = SEGMENT_SIZE + TAG_LEN
HEADER_LEN = len(MAGIC) + 1 + 4 + NONCE_PREFIX_LEN
MAX_SEGMENTS = 2**32  # the segment index is 4 bytes of the nonce


def _make_header(prefix: bytes) -> bytes:
    return MAGIC + bytes([VERSION]) + SEGMENT_SIZE.to_bytes(4, "big") + prefix


def _parse_header(header: bytes) -> bytes | None:
    """The nonce prefix, or None for anything this version did not write."""
    expected = MAGIC + bytes([VERSION]) + SEGMENT_SIZE.to_bytes(4, "big")
    if len(header) != HEADER_LEN or not header.startswith(expected):
        return None
    return header[len(expected) :]


def _segment_error(ref: str, index: int) -> VaultError:
    return VaultError(
        f"record {ref}: audio segment {index} does not authenticate "
        "(altered, reordered or truncated, or the wrong key)"
    )


class _SegmentCipher:
    """AES-GCM bound to one blob: its header and record reference are the associated data."""

    def __init__(self, key: RecordKey, header: bytes, prefix: bytes) -> None:
        self._aead = AESGCM(key.blob_key)
        self._ad = header + key.ref.encode("utf-8")
        self._prefix = prefix

    def _nonce(self, index: int, last: bool) -> bytes:
        return self._prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")

    def encrypt(self, index: int, last: bool, plaintext: bytes) -> bytes:
        return self._aead.encrypt(self._nonce(index, last), plaintext, self._ad)

    def decrypt(self, index: int, last: bool, stored: bytes) -> bytes | None:
        try:
            return self._aead.decrypt(self._nonce(index, last), stored, self._ad)
        except InvalidTag:
            return None


def _write_all(out: BinaryIO, data: bytes) -> None:
    """A raw (unbuffered) stream may write less than asked; keep going until all is out."""
    view = memoryview(data)
    while view:
        written = out.write(view)
        view = view[len(view) if written is None else written :]


class BlobWriter:
    """Encrypts a stream of plaintext into `out` segment by segment, holding at most
    one segment in memory.

    A full segment is emitted only once more data follows it, because the
    last segment must carry the last flag. Leaving the `with` block on an
    exception does not write the last segment: the partial blob then fails to
    authenticate instead of passing as a shorter recording.
    """

    def __init__(self, key: RecordKey, out: BinaryIO) -> None:
        prefix = os.urandom(NONCE_PREFIX_LEN)
        header = _make_header(prefix)
        self._cipher = _SegmentCipher(key, header, prefix)
        self._ref = key.ref
        self._out = out
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        self.length = 0
        _write_all(out, header)

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise ValueError("write to a closed BlobWriter")
        self._buffer += data
        self.length += len(data)
        while len(self._buffer) > SEGMENT_SIZE:
            self._emit(bytes(self._buffer[:SEGMENT_SIZE]), last=False)
            del self._buffer[:SEGMENT_SIZE]
        return len(data)

    def close(self) -> None:
        """Emit the last segment; the blob is complete only after this."""
        if self._closed:
            return
        self._emit(bytes(self._buffer), last=True)
        self._buffer.clear()
        self._closed = True

    def abort(self) -> None:
        """Stop without the last segment, leaving a blob that will not authenticate."""
        self._buffer.clear()
        self._closed = True

    def _emit(self, plaintext: bytes, last: bool) -> None:
        if self._index >= MAX_SEGMENTS:
            raise VaultError(f"record {self._ref}: the audio is too long for one blob")
        _write_all(self._out, self._cipher.encrypt(self._index, last, plaintext))
        self._index += 1


def encrypt_stream(key: RecordKey, src: BinaryIO, out: BinaryIO) -> int:
    """Encrypt all of `src` into `out`; returns the plaintext length."""
    with BlobWriter(key, out) as writer:
        while chunk := src.read(SEGMENT_SIZE):
            writer.write(chunk)
    return writer.length


def _layout(body_len: int) -> tuple[int, int] | None:
    """(segment count, stored length of the last segment) for a body length, or None
    when no blob this module writes can have that length."""
    if body_len < TAG_LEN:
        return None
    count = max(1, (body_len - TAG_LEN - 1) // STORED_SEGMENT_SIZE + 1)
    last_len = body_len - (count - 1) * STORED_SEGMENT_SIZE
    if last_len > STORED_SEGMENT_SIZE or count > MAX_SEGMENTS:
        return None
    return count, last_len


class BlobReader:
    """Random access to an encrypted blob in a seekable file, one segment at a time.

    Opening authenticates the header and the last segment, so `size` is
    trustworthy before anything is played. Only authenticated bytes are ever
    returned. The most recent segment is kept, because playback reads it in
    small pieces. With `close_src=True` the reader owns the file and closes it.
    """

    def __init__(self, key: RecordKey, src: BinaryIO, *, close_src: bool = False) -> None:
        self._ref = key.ref
        self._src = src
        self._close_src = close_src
        self._cached: tuple[int, bytes] | None = None
        try:
            self._open(key)
        except BaseException:
            self.close()  # a reader that owns its file must not leak it on a bad blob
            raise

    def _open(self, key: RecordKey) -> None:
        file_len = self._file_length()
        layout = _layout(file_len - HEADER_LEN)
        if layout is None:
            raise VaultError(
                f"record {self._ref}: audio blob is truncated "
                f"(its length, {file_len} bytes, is not a whole number of segments)"
            )
        header = self._read_at(0, HEADER_LEN, 0)
        prefix = _parse_header(header)
        if prefix is None:
            raise _segment_error(self._ref, 0)
        self._cipher = _SegmentCipher(key, header, prefix)
        self._count, self._last_len = layout
        self.size = (self._count - 1) * SEGMENT_SIZE + self._last_len - TAG_LEN
        self.read_segment(self._count - 1)

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._cached = None
        if self._close_src:
            self._src.close()

    @property
    def segment_count(self) -> int:
        return self._count

    def read_segment(self, i: int) -> bytes:
        """Plaintext of segment `i`, authenticated against its position and the last flag."""
        if not 0 <= i < self._count:
            raise IndexError(f"record {self._ref}: audio segment {i} is out of range")
        if self._cached is not None and self._cached[0] == i:
            return self._cached[1]
        last = i == self._count - 1
        length = self._last_len if last else STORED_SEGMENT_SIZE
        stored = self._read_at(HEADER_LEN + i * STORED_SEGMENT_SIZE, length, i)
        plaintext = self._cipher.decrypt(i, last, stored)
        if plaintext is None:
            raise _segment_error(self._ref, i)
        self._cached = (i, plaintext)
        return plaintext

    def read(self, offset: int, length: int) -> bytes:
        """Up to `length` plaintext bytes from `offset`, like a file read (short at the end)."""
        if offset < 0 or length < 0:
            raise ValueError("offset and length must not be negative")
        end = min(offset + length, self.size)
        if offset >= end:
            return b""
        first, last = offset // SEGMENT_SIZE, (end - 1) // SEGMENT_SIZE
        data = b"".join(self.read_segment(i) for i in range(first, last + 1))
        base = first * SEGMENT_SIZE
        return data[offset - base : end - base]

    def iter_plaintext(self, chunk_segments: int = 1) -> Iterator[bytes]:
        """All plaintext in order, `chunk_segments` segments a chunk (an empty blob yields none).

        Every segment is authenticated, the last one included, before it is yielded.
        """
        if chunk_segments < 1:
            raise ValueError("chunk_segments must be at least 1")
        for start in range(0, self._count, chunk_segments):
            stop = min(start + chunk_segments, self._count)
            chunk = b"".join(self.read_segment(i) for i in range(start, stop))
            if chunk:
                yield chunk

    def _file_length(self) -> int:
        try:
            return self._src.seek(0, os.SEEK_END)
        except OSError as exc:
            raise self._io_error(exc) from exc

    def _read_at(self, offset: int, length: int, index: int) -> bytes:
        """Exactly `length` bytes; a short read means the file changed under us."""
        try:
            self._src.seek(offset)
            data = self._src.read(length)
        except OSError as exc:
            raise self._io_error(exc) from exc
        if len(data) != length:
            raise _segment_error(self._ref, index)
        return data

    def _io_error(self, exc: OSError) -> StoreError:
        name = getattr(self._src, "name", "the blob file")
        return StoreError(
            f"record {self._ref}: cannot read audio blob {name}: {exc.strerror or exc}"
        )
