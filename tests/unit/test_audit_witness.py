"""The witness file works where the kernel only lets it be appended to (chattr +a)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kaiku_tui.audit.witness import FileWitness
from kaiku_tui.errors import TamperDetected

KEY = Ed25519PrivateKey.generate()


def chattr(flag: str, path: Path) -> str | None:
    """None when the attribute was set, else why not."""
    if shutil.which("chattr") is None:
        return "chattr is not installed"
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True)
    return None if done.returncode == 0 else done.stderr.strip() or "chattr failed"


def test_append_and_read_back(tmp_path: Path) -> None:
    witness = FileWitness(tmp_path / "state" / "witness.jsonl")
    assert witness.read(KEY.public_key()) == [] and witness.last(KEY.public_key()) is None
    witness.append(3, bytes(32), KEY, "k1")
    witness.append(9, b"\x01" * 32, KEY, "k1")
    assert [c.seq for c in witness.read(KEY.public_key())] == [3, 9]
    last = witness.last(KEY.public_key())
    assert last is not None and last.seq == 9
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700


def test_a_damaged_line_is_refused(tmp_path: Path) -> None:
    witness = FileWitness(tmp_path / "w.jsonl")
    witness.append(3, bytes(32), KEY, "k1")
    witness.append(9, b"\x01" * 32, KEY, "k1")
    text = witness.path.read_bytes()
    witness.path.write_bytes(text.replace(b'"seq":3', b'"seq":4'))
    with pytest.raises(TamperDetected, match="signature does not verify"):
        witness.read(KEY.public_key())


def test_works_with_the_append_only_attribute(tmp_path: Path) -> None:
    """As root: appending works, rewriting, truncating and removing fail."""
    witness = FileWitness(tmp_path / "w.jsonl")
    witness.append(3, bytes(32), KEY, "k1")
    why = chattr("+a", witness.path)
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"chattr +a must work in CI (as root on ext4): {why}")
        pytest.skip(f"chattr +a does not work here: {why}")
    try:
        witness.append(9, b"\x01" * 32, KEY, "k1")
        assert [c.seq for c in witness.read(KEY.public_key())] == [3, 9]
        with pytest.raises(PermissionError):
            witness.path.write_bytes(b"")  # O_TRUNC
        with pytest.raises(PermissionError), witness.path.open("r+b") as f:  # not O_APPEND
            f.write(b"x")
        with pytest.raises(PermissionError):
            os.truncate(witness.path, 10)
        with pytest.raises(PermissionError):
            witness.path.unlink()
        assert [c.seq for c in witness.read(KEY.public_key())] == [3, 9]
    finally:
        chattr("-a", witness.path)
