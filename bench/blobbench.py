"""Audio blob encryption and decryption through `vault.stream`, beside AES-GCM alone.

The limit is the cipher itself over the same bytes in the same 64 KiB segments,
writing into the same kind of sink (a BytesIO), so the ratio is what the stream
adds: buffering, copies, nonces, segment bookkeeping. Growing a 64 MiB BytesIO
costs more than the cipher itself here, so the cipher with its output discarded
is shown too. Everything stays in memory so the disk is not what is measured.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from measure import Stopwatch

from kaiku_tui.vault.keys import RecordKey, new_data_key
from kaiku_tui.vault.stream import SEGMENT_SIZE, BlobReader, BlobWriter

MiB = 1024 * 1024
RUNS = 5


@dataclass(frozen=True)
class BlobRates:
    """Best-of-RUNS seconds for each operation over `size` plaintext bytes."""

    size: int
    stream_encrypt_s: float
    stream_decrypt_s: float
    aesgcm_encrypt_s: float
    aesgcm_decrypt_s: float
    cipher_only_s: float  # AES-GCM encrypt with each output dropped: no sink at all


def blob_rates(mib: int) -> BlobRates:
    data = os.urandom(mib * MiB)
    key = RecordKey("BENCH/blob-1", new_data_key())
    blob = _stream_encrypt(key, data)[1]
    segments = [data[i : i + SEGMENT_SIZE] for i in range(0, len(data), SEGMENT_SIZE)]
    sealed = _aesgcm_seal(key, segments)
    return BlobRates(
        len(data),
        min(_stream_encrypt(key, data)[0] for _ in range(RUNS)),
        min(_stream_decrypt(key, blob) for _ in range(RUNS)),
        min(_aesgcm_encrypt(key, segments, io.BytesIO()) for _ in range(RUNS)),
        min(_aesgcm_decrypt(key, sealed) for _ in range(RUNS)),
        min(_aesgcm_encrypt(key, segments, None) for _ in range(RUNS)),
    )


def _stream_encrypt(key: RecordKey, data: bytes) -> tuple[float, bytes]:
    """Written in 64 KiB pieces, as `encrypt_stream` reads its source."""
    out = io.BytesIO()
    view = memoryview(data)
    with Stopwatch() as wall:
        with BlobWriter(key, out) as writer:
            for i in range(0, len(data), SEGMENT_SIZE):
                writer.write(view[i : i + SEGMENT_SIZE])
    return wall.seconds, out.getvalue()


def _stream_decrypt(key: RecordKey, blob: bytes) -> float:
    size = 0
    with Stopwatch() as wall:
        with BlobReader(key, io.BytesIO(blob)) as reader:
            for chunk in reader.iter_plaintext():
                size += len(chunk)
    return wall.seconds


def _aesgcm(key: RecordKey) -> tuple[AESGCM, bytes]:
    return AESGCM(key.blob_key), b"kaiku-bench header" + key.ref.encode()


def _nonce(i: int) -> bytes:
    return bytes(7) + i.to_bytes(4, "big") + b"\0"


def _aesgcm_seal(key: RecordKey, segments: list[bytes]) -> list[bytes]:
    aead, ad = _aesgcm(key)
    return [aead.encrypt(_nonce(i), s, ad) for i, s in enumerate(segments)]


def _aesgcm_encrypt(key: RecordKey, segments: list[bytes], out: io.BytesIO | None) -> float:
    """Each segment sealed and written to `out` (or dropped when `out` is None)."""
    aead, ad = _aesgcm(key)
    with Stopwatch() as wall:
        for i, s in enumerate(segments):
            sealed = aead.encrypt(_nonce(i), s, ad)
            if out is not None:
                out.write(sealed)
    return wall.seconds


def _aesgcm_decrypt(key: RecordKey, sealed: list[bytes]) -> float:
    aead, ad = _aesgcm(key)
    with Stopwatch() as wall:
        for i, s in enumerate(sealed):
            aead.decrypt(_nonce(i), s, ad)
    return wall.seconds
