"""The encrypted blob store on the file system."""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import pytest

from kaiku_tui.errors import StoreError, UsageError, VaultError
from kaiku_tui.vault import HEADER_LEN, SEGMENT_SIZE, BlobStore, RecordKey, new_data_key

REF = "HUS/1699999999.42"


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture
def key() -> RecordKey:
    return RecordKey(REF, new_data_key())


def audio(n: int) -> bytes:
    return random.Random(n).randbytes(n)


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class FailingSource(io.RawIOBase):
    """A source that gives some audio and then fails, like a recording on a dying disk."""

    def __init__(self, good: int, error: BaseException) -> None:
        self._left = good
        self._error = error

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            raise self._error
        n = min(self._left, SEGMENT_SIZE if size < 0 else size)
        self._left -= n
        return b"\x01" * n


def test_new_ref_is_random_hex(store: BlobStore) -> None:
    a, b = store.new_ref(), store.new_ref()
    assert a != b
    assert len(a) == 32
    assert int(a, 16) >= 0
    assert store.path(a).name == f"{a}.kkb"


def test_path_fans_out(store: BlobStore) -> None:
    ref = "abcdef0123456789abcdef0123456789"
    assert store.path(ref) == store.root / "ab" / "cd" / f"{ref}.kkb"


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "..",
        "../../etc/passwd",
        "ab/cd/../../../x",
        "/etc/passwd",
        "abcdef0123456789abcdef012345678/",
        "ABCDEF0123456789ABCDEF0123456789",
        "abcdef0123456789abcdef012345678g",
        "abcdef0123456789abcdef0123456789\n",
        "abcdef01",
        "a" * 65,
        "abcdef0123456789\x00abcdef0123456789",
    ],
)
def test_bad_refs_refused(store: BlobStore, key: RecordKey, ref: str) -> None:
    for call in (
        lambda: store.path(ref),
        lambda: store.put(ref, key, io.BytesIO(b"x")),
        lambda: store.open(ref, key),
        lambda: store.exists(ref),
        lambda: store.delete(ref),
        lambda: store.size_on_disk(ref),
    ):
        with pytest.raises(UsageError, match="blob reference"):
            call()
    assert not store.root.exists()


@pytest.mark.parametrize("size", [0, 1, SEGMENT_SIZE, 3 * SEGMENT_SIZE + 7])
def test_put_and_open_round_trip(store: BlobStore, key: RecordKey, size: int) -> None:
    ref = store.new_ref()
    data = audio(size)
    assert store.put(ref, key, io.BytesIO(data)) == size
    assert store.exists(ref)
    with store.open(ref, key) as blob:
        assert blob.size == size
        assert b"".join(blob.iter_plaintext()) == data
        assert blob.read(size // 2, 100) == data[size // 2 : size // 2 + 100]


def test_put_writes_only_the_encrypted_blob(store: BlobStore, key: RecordKey) -> None:
    ref = store.new_ref()
    data = b"PATIENT 010101-123N " * 5000
    store.put(ref, key, io.BytesIO(data))
    assert all_files(store.root) == [store.path(ref)]
    assert b"PATIENT" not in store.path(ref).read_bytes()
    expected = HEADER_LEN + len(data) // SEGMENT_SIZE * (SEGMENT_SIZE + 16)
    expected += len(data) % SEGMENT_SIZE + 16
    assert store.size_on_disk(ref) == expected


def test_put_replaces_an_existing_blob(store: BlobStore, key: RecordKey) -> None:
    ref = store.new_ref()
    store.put(ref, key, io.BytesIO(b"first"))
    store.put(ref, key, io.BytesIO(b"second"))
    with store.open(ref, key) as blob:
        assert blob.read(0, 100) == b"second"
    assert all_files(store.root) == [store.path(ref)]


def test_failed_put_leaves_nothing(store: BlobStore, key: RecordKey) -> None:
    ref = store.new_ref()
    source = FailingSource(2 * SEGMENT_SIZE, OSError(5, "Input/output error"))
    with pytest.raises(StoreError) as err:
        store.put(ref, key, source)  # type: ignore[arg-type]
    assert ref in str(err.value)
    assert "Input/output error" in str(err.value)
    assert all_files(store.root) == []
    assert not store.exists(ref)


def test_interrupted_put_leaves_old_blob_and_no_temp(store: BlobStore, key: RecordKey) -> None:
    ref = store.new_ref()
    store.put(ref, key, io.BytesIO(b"old"))
    with pytest.raises(KeyboardInterrupt):
        store.put(ref, key, FailingSource(10, KeyboardInterrupt()))  # type: ignore[arg-type]
    assert all_files(store.root) == [store.path(ref)]
    with store.open(ref, key) as blob:
        assert blob.read(0, 10) == b"old"


def test_open_missing(store: BlobStore, key: RecordKey) -> None:
    ref = store.new_ref()
    with pytest.raises(StoreError) as err:
        store.open(ref, key)
    assert ref in str(err.value)
    assert str(store.path(ref)) in str(err.value)


def test_open_with_wrong_key_closes_file(store: BlobStore, key: RecordKey) -> None:
    ref = store.new_ref()
    store.put(ref, key, io.BytesIO(audio(1000)))
    before = open_fds()
    with pytest.raises(VaultError, match=f"record {REF}: audio segment 0"):
        store.open(ref, RecordKey(REF, new_data_key()))
    assert open_fds() == before


def test_reader_closes_its_file(store: BlobStore, key: RecordKey) -> None:
    ref = store.new_ref()
    store.put(ref, key, io.BytesIO(b"abc"))
    before = open_fds()
    with store.open(ref, key) as blob:
        assert open_fds() == before + 1
        blob.read(0, 3)
    assert open_fds() == before


def test_delete(store: BlobStore, key: RecordKey) -> None:
    ref = store.new_ref()
    store.put(ref, key, io.BytesIO(b"abc"))
    store.delete(ref)
    assert not store.exists(ref)
    store.delete(ref)  # already gone is fine
    with pytest.raises(StoreError, match="missing"):
        store.size_on_disk(ref)


def test_iter_refs_lists_complete_blobs_only(store: BlobStore, key: RecordKey) -> None:
    refs = [store.new_ref() for _ in range(5)]
    for ref in refs:
        store.put(ref, key, io.BytesIO(b"x"))
    stray_dir = store.path(refs[0]).parent
    (stray_dir / f".{refs[0]}.abc.tmp").write_bytes(b"half")
    (stray_dir / "notes.txt").write_text("x")
    misfiled = "ffff" + refs[1][4:]
    (stray_dir / f"{misfiled}.kkb").write_bytes(b"x")
    (store.root / "README").write_text("x")
    assert list(store.iter_refs()) == sorted(refs)


def test_iter_refs_of_missing_root_is_empty(tmp_path: Path) -> None:
    assert list(BlobStore(tmp_path / "nowhere").iter_refs()) == []


def test_os_errors_become_store_errors(tmp_path: Path, key: RecordKey) -> None:
    root = tmp_path / "blobs"
    root.write_text("a file where the store should be")
    store = BlobStore(root)
    ref = store.new_ref()
    with pytest.raises(StoreError) as err:
        store.put(ref, key, io.BytesIO(b"x"))
    assert str(store.path(ref)) in str(err.value)
    assert "Not a directory" in str(err.value) or "File exists" in str(err.value)
    with pytest.raises(StoreError, match="cannot list"):
        list(store.iter_refs())


def test_blob_mode_follows_umask(store: BlobStore, key: RecordKey) -> None:
    """Other logins on a shared mount must be able to read blobs; keys keep them secret."""
    ref = store.new_ref()
    old_umask = os.umask(0o027)
    try:
        store.put(ref, key, io.BytesIO(b"x"))
    finally:
        os.umask(old_umask)
    assert store.path(ref).stat().st_mode & 0o777 == 0o640
