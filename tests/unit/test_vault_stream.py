"""Streaming AEAD for audio: round trips, random access, and every kind of tampering."""

from __future__ import annotations

import base64
import io
import random

import pytest

from kaiku_tui.errors import VaultError
from kaiku_tui.vault import (
    HEADER_LEN,
    SEGMENT_SIZE,
    BlobReader,
    BlobWriter,
    RecordKey,
    encrypt_stream,
    new_data_key,
)

REF = "HUS/1699999999.42"
STORED = SEGMENT_SIZE + 16


def plaintext(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def encrypt(key: RecordKey, data: bytes) -> bytes:
    out = io.BytesIO()
    assert encrypt_stream(key, io.BytesIO(data), out) == len(data)
    return out.getvalue()


def reader(key: RecordKey, blob: bytes) -> BlobReader:
    return BlobReader(key, io.BytesIO(blob))


def read_all(key: RecordKey, blob: bytes) -> bytes:
    return b"".join(reader(key, blob).iter_plaintext())


def segment_start(i: int) -> int:
    return HEADER_LEN + i * STORED


@pytest.fixture
def key() -> RecordKey:
    return RecordKey(REF, new_data_key())


@pytest.fixture
def three_segments(key: RecordKey) -> tuple[bytes, bytes]:
    """Two full segments and a short last one."""
    data = plaintext(2 * SEGMENT_SIZE + 1000)
    return data, encrypt(key, data)


def assert_names_record(err: pytest.ExceptionInfo[VaultError], segment: int | None) -> None:
    message = str(err.value)
    assert message.startswith(f"record {REF}: ")
    if segment is not None:
        assert f"audio segment {segment} does not authenticate" in message


# --- Round trips ------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "stored_len"),
    [
        (0, HEADER_LEN + 16),
        (1, HEADER_LEN + 17),
        (SEGMENT_SIZE, HEADER_LEN + STORED),
        (SEGMENT_SIZE + 1, HEADER_LEN + STORED + 17),
        (1_000_003, HEADER_LEN + 15 * STORED + (1_000_003 - 15 * SEGMENT_SIZE) + 16),
    ],
)
def test_round_trip(key: RecordKey, size: int, stored_len: int) -> None:
    data = plaintext(size)
    blob = encrypt(key, data)
    assert len(blob) == stored_len
    assert blob[:4] == b"KKB1"
    assert blob[4] == 1
    assert int.from_bytes(blob[5:9], "big") == SEGMENT_SIZE
    blob_reader = reader(key, blob)
    assert blob_reader.size == size
    assert b"".join(blob_reader.iter_plaintext()) == data
    assert blob_reader.read(0, size + 10) == data


def test_ciphertext_does_not_contain_plaintext(key: RecordKey) -> None:
    data = b"PATIENT HETU 010101-123N " * 10_000
    blob = encrypt(key, data)
    assert b"PATIENT" not in blob
    assert read_all(key, blob) == data


def test_two_encryptions_differ(key: RecordKey) -> None:
    data = plaintext(100)
    assert encrypt(key, data) != encrypt(key, data)  # random nonce prefix


def test_writer_in_odd_pieces(key: RecordKey) -> None:
    data = plaintext(3 * SEGMENT_SIZE + 5)
    out = io.BytesIO()
    with BlobWriter(key, out) as writer:
        position = 0
        for step in [1, 7, SEGMENT_SIZE - 8, SEGMENT_SIZE, 3, 2 * SEGMENT_SIZE]:
            writer.write(data[position : position + step])
            position += step
    assert writer.length == len(data)
    assert len(out.getvalue()) == HEADER_LEN + 3 * STORED + 5 + 16
    assert read_all(key, out.getvalue()) == data


def test_writer_close_is_idempotent_and_final(key: RecordKey) -> None:
    out = io.BytesIO()
    writer = BlobWriter(key, out)
    writer.write(b"abc")
    writer.close()
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"more")
    assert read_all(key, out.getvalue()) == b"abc"


def test_writer_left_by_an_exception_leaves_no_valid_blob(key: RecordKey) -> None:
    out = io.BytesIO()
    with pytest.raises(RuntimeError), BlobWriter(key, out) as writer:
        writer.write(plaintext(SEGMENT_SIZE + 10))
        raise RuntimeError("source failed")
    with pytest.raises(VaultError) as err:
        read_all(key, out.getvalue())
    assert_names_record(err, None)


@pytest.mark.parametrize("chunk_segments", [1, 2, 5])
def test_iter_plaintext_chunking(key: RecordKey, chunk_segments: int) -> None:
    data = plaintext(4 * SEGMENT_SIZE + 3)
    chunks = list(reader(key, encrypt(key, data)).iter_plaintext(chunk_segments))
    assert b"".join(chunks) == data
    assert len(chunks) == -(-5 // chunk_segments)
    assert all(len(c) == chunk_segments * SEGMENT_SIZE for c in chunks[:-1])


def test_empty_blob_yields_nothing(key: RecordKey) -> None:
    blob_reader = reader(key, encrypt(key, b""))
    assert list(blob_reader.iter_plaintext()) == []
    assert blob_reader.read(0, 10) == b""
    assert blob_reader.read_segment(0) == b""


# --- Random access ----------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "length"),
    [
        (0, 1),
        (SEGMENT_SIZE - 5, 10),
        (SEGMENT_SIZE, SEGMENT_SIZE),
        (SEGMENT_SIZE - 1, SEGMENT_SIZE + 2),
        (3 * SEGMENT_SIZE + 17, 2 * SEGMENT_SIZE),
        (1_000_000, 100),
        (1_000_003, 5),
        (2_000_000, 5),
        (12345, 0),
    ],
)
def test_read_slices(key: RecordKey, offset: int, length: int) -> None:
    data = plaintext(1_000_003)
    blob_reader = reader(key, encrypt(key, data))
    assert blob_reader.read(offset, length) == data[offset : offset + length]


def test_random_reads_match_slices(key: RecordKey) -> None:
    data = plaintext(5 * SEGMENT_SIZE + 321)
    blob_reader = reader(key, encrypt(key, data))
    rng = random.Random(3)
    for _ in range(200):
        offset = rng.randrange(len(data))
        length = rng.randrange(3 * SEGMENT_SIZE)
        assert blob_reader.read(offset, length) == data[offset : offset + length]


def test_read_decrypts_only_needed_segments(
    key: RecordKey, three_segments: tuple[bytes, bytes]
) -> None:
    data, blob = three_segments
    damaged = bytearray(blob)
    damaged[segment_start(1) + 100] ^= 0x01
    blob_reader = reader(key, bytes(damaged))
    assert blob_reader.read(10, 1000) == data[10:1010]
    last = 2 * SEGMENT_SIZE
    assert blob_reader.read(last, 500) == data[last : last + 500]
    with pytest.raises(VaultError) as err:
        blob_reader.read(SEGMENT_SIZE - 1, 2)
    assert_names_record(err, 1)


def test_read_arguments_checked(key: RecordKey) -> None:
    blob_reader = reader(key, encrypt(key, b"abc"))
    with pytest.raises(ValueError):
        blob_reader.read(-1, 2)
    with pytest.raises(ValueError):
        blob_reader.read(0, -2)
    with pytest.raises(IndexError):
        blob_reader.read_segment(1)
    with pytest.raises(ValueError):
        list(blob_reader.iter_plaintext(0))


# --- Tampering: every kind must raise VaultError naming the record ----------


def test_wrong_record_key(three_segments: tuple[bytes, bytes]) -> None:
    _, blob = three_segments
    with pytest.raises(VaultError) as err:
        reader(RecordKey(REF, new_data_key()), blob)
    assert_names_record(err, 2)


def test_wrong_record_ref(key: RecordKey, three_segments: tuple[bytes, bytes]) -> None:
    _, blob = three_segments
    moved = RecordKey("HUS/1699999999.43", key._key)
    with pytest.raises(VaultError) as err:
        reader(moved, blob)
    assert str(err.value).startswith("record HUS/1699999999.43: audio segment 2 ")


@pytest.mark.parametrize("position", [0, 3, 4, 5, 8, 9, 15])
def test_flipped_bit_in_header(
    key: RecordKey, three_segments: tuple[bytes, bytes], position: int
) -> None:
    _, blob = three_segments
    damaged = bytearray(blob)
    damaged[position] ^= 0x10
    with pytest.raises(VaultError) as err:
        reader(key, bytes(damaged))
    assert_names_record(err, None)
    assert "does not authenticate" in str(err.value)


@pytest.mark.parametrize(
    ("position", "segment"),
    [
        (segment_start(0), 0),
        (segment_start(0) + 40_000, 0),
        (segment_start(1) - 1, 0),  # the tag of segment 0
        (segment_start(1) + 5, 1),
        (segment_start(2), 2),
        (-1, 2),  # the tag of the last segment
    ],
)
def test_flipped_bit_in_segment_or_tag(
    key: RecordKey, three_segments: tuple[bytes, bytes], position: int, segment: int
) -> None:
    _, blob = three_segments
    damaged = bytearray(blob)
    damaged[position] ^= 0x01
    with pytest.raises(VaultError) as err:
        read_all(key, bytes(damaged))
    assert_names_record(err, segment)


def test_segments_swapped(key: RecordKey) -> None:
    data = plaintext(3 * SEGMENT_SIZE + 10)
    blob = encrypt(key, data)
    first = blob[segment_start(0) : segment_start(1)]
    second = blob[segment_start(1) : segment_start(2)]
    swapped = blob[:HEADER_LEN] + second + first + blob[segment_start(2) :]
    assert len(swapped) == len(blob)
    blob_reader = reader(key, swapped)  # the last segment is intact
    for i in (0, 1):
        with pytest.raises(VaultError) as err:
            blob_reader.read_segment(i)
        assert_names_record(err, i)
    assert blob_reader.read_segment(2) == data[2 * SEGMENT_SIZE : 3 * SEGMENT_SIZE]


def test_segment_from_another_blob_of_the_same_record(key: RecordKey) -> None:
    data = plaintext(2 * SEGMENT_SIZE + 10)
    a, b = encrypt(key, data), encrypt(key, data)
    spliced = a[: segment_start(1)] + b[segment_start(1) :]
    with pytest.raises(VaultError) as err:
        reader(key, spliced)
    assert_names_record(err, 2)


def test_last_segment_removed(key: RecordKey, three_segments: tuple[bytes, bytes]) -> None:
    _, blob = three_segments
    truncated = blob[: segment_start(2)]
    with pytest.raises(VaultError) as err:
        reader(key, truncated)
    assert_names_record(err, 1)


def test_exact_multiple_truncated_to_one_segment(key: RecordKey) -> None:
    blob = encrypt(key, plaintext(2 * SEGMENT_SIZE))
    with pytest.raises(VaultError) as err:
        reader(key, blob[: segment_start(1)])
    assert_names_record(err, 0)


@pytest.mark.parametrize("cut", [1, 10, 500, 983])
def test_truncated_mid_last_segment(
    key: RecordKey, three_segments: tuple[bytes, bytes], cut: int
) -> None:
    _, blob = three_segments
    with pytest.raises(VaultError) as err:
        reader(key, blob[:-cut])
    assert_names_record(err, 2)


@pytest.mark.parametrize(
    ("cut", "segment"),
    [(1000 + 16, 1), (1000 + 17, 1), (1000 + 16 + 40_000, 1), (STORED + 1000 + 17, 0)],
)
def test_truncated_mid_earlier_segment(
    key: RecordKey, three_segments: tuple[bytes, bytes], cut: int, segment: int
) -> None:
    """The cut leaves a plausible layout: the new last segment lacks the last flag."""
    _, blob = three_segments
    with pytest.raises(VaultError) as err:
        reader(key, blob[:-cut])
    assert_names_record(err, segment)


@pytest.mark.parametrize("cut", [1000, 1001, 1015, STORED + 1000, STORED + 1015])
def test_truncated_to_an_impossible_length(
    key: RecordKey, three_segments: tuple[bytes, bytes], cut: int
) -> None:
    """1 to 16 bytes past a segment boundary cannot hold even a tag."""
    _, blob = three_segments
    with pytest.raises(VaultError) as err:
        reader(key, blob[:-cut])
    assert_names_record(err, None)
    assert "audio blob is truncated" in str(err.value)


@pytest.mark.parametrize("length", [0, 1, HEADER_LEN, HEADER_LEN + 15])
def test_too_short_for_any_blob(key: RecordKey, length: int) -> None:
    blob = encrypt(key, b"")
    with pytest.raises(VaultError, match=f"record {REF}: audio blob is truncated"):
        reader(key, blob[:length])


@pytest.mark.parametrize("junk", [b"\x00", b"junk" * 4, bytes(17), bytes(STORED)])
def test_appended_junk(key: RecordKey, three_segments: tuple[bytes, bytes], junk: bytes) -> None:
    _, blob = three_segments
    with pytest.raises(VaultError) as err:
        reader(key, blob + junk)
    assert_names_record(err, None)


def test_appended_junk_after_a_full_last_segment(key: RecordKey) -> None:
    blob = encrypt(key, plaintext(SEGMENT_SIZE))
    with pytest.raises(VaultError) as err:
        reader(key, blob + bytes(100))
    assert_names_record(err, 1)


def test_bad_magic(key: RecordKey, three_segments: tuple[bytes, bytes]) -> None:
    _, blob = three_segments
    with pytest.raises(VaultError) as err:
        reader(key, b"RIFF" + blob[4:])
    assert_names_record(err, 0)


def test_other_segment_size_in_header_refused(key: RecordKey) -> None:
    blob = bytearray(encrypt(key, plaintext(100)))
    blob[5:9] = (32768).to_bytes(4, "big")
    with pytest.raises(VaultError) as err:
        reader(key, bytes(blob))
    assert_names_record(err, 0)


def test_errors_carry_no_key_material(key: RecordKey, three_segments: tuple[bytes, bytes]) -> None:
    _, blob = three_segments
    other = RecordKey(REF, new_data_key())
    messages = []
    attempts: list[tuple[RecordKey, bytes]] = [
        (other, blob),
        (key, blob[:-1]),
        (key, blob[:HEADER_LEN]),
        (key, b"XXXX" + blob[4:]),
    ]
    for attempt_key, attempt_blob in attempts:
        with pytest.raises(VaultError) as err:
            reader(attempt_key, attempt_blob)
        messages.append(str(err.value))
    assert len(set(messages)) == 3  # wrong key and cut tail both name segment 2
    for secret in (key._key, key.blob_key, other._key, other.blob_key):
        for spelling in (secret.hex(), base64.b64encode(secret).decode(), repr(secret)):
            assert all(spelling not in m for m in messages)
