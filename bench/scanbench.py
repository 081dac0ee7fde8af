"""The integrity scan's rate beside its limit: reading the same blob files and
AES-GCM-decrypting the same number of bytes in the same 64 KiB segments.

A register is built in a temporary folder (N recordings, each with a blob of
M KiB of random audio bytes), then `register.upkeep.scan` runs without and
with `--full`. The limit is measured in the same run: every blob file read
whole (the page cache is warm after the scans, so this is memory speed), and
AESGCM.decrypt over as many 64 KiB segments as the blobs hold.

    .venv/bin/python bench/scanbench.py [--records N] [--kib M]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from measure import Stopwatch

from kaiku_tui.config import from_mapping
from kaiku_tui.domain.access import Identity
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import Channel, Direction, NewRecording
from kaiku_tui.register import Register
from kaiku_tui.register.identity import current_identity
from kaiku_tui.vault.keys import new_data_key
from kaiku_tui.vault.stream import SEGMENT_SIZE

RUNS = 3


def recording(n: int, kib: int) -> NewRecording:
    return NewRecording(
        "ITU", Channel.CALL, Direction.INBOUND, 1_790_000_000 + n, 60, "Aino", "q",
        f"bench-{n}", audio=os.urandom(kib * 1024),
    )  # fmt: skip


async def build(folder: Path, records: int, kib: int, who: Identity) -> Register:
    config = from_mapping({"register": {"data_dir": str(folder)}}, None)
    admin = await Register.initialise(config, who, "Bench")
    await admin.orgs.add(Organisation("ITU", "Itä", None, None))
    for start in range(0, records, 100):
        batch = [recording(n, kib) for n in range(start, min(start + 100, records))]
        await admin.intake.add_recordings(batch, source="bench")
    return admin


async def scan_seconds(register: Register, *, full: bool) -> tuple[float, int, int]:
    best = float("inf")
    for _ in range(RUNS):
        with Stopwatch() as wall:
            report = await register.upkeep.scan(
                org=None, sample=None, full=full, progress=lambda d, t: None
            )
        assert not report.findings, report.findings[:3]
        best = min(best, wall.seconds)
    return best, report.records, report.blob_bytes


def read_seconds(blob_dir: Path) -> float:
    files = [p for p in blob_dir.rglob("*.kkb")]
    best = float("inf")
    for _ in range(RUNS):
        with Stopwatch() as wall:
            for path in files:
                path.read_bytes()
        best = min(best, wall.seconds)
    return best


def aesgcm_seconds(total: int) -> float:
    cipher = AESGCM(new_data_key())
    nonce = os.urandom(12)
    sealed = cipher.encrypt(nonce, os.urandom(SEGMENT_SIZE), b"ad")
    count = -(-total // SEGMENT_SIZE)
    best = float("inf")
    for _ in range(RUNS):
        with Stopwatch() as wall:
            for _ in range(count):
                cipher.decrypt(nonce, sealed, b"ad")
        best = min(best, wall.seconds)
    return best


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--kib", type=int, default=1024, help="blob size per recording")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kaiku-scanbench-") as tmp:
        print(f"building {args.records} recordings of {args.kib} KiB", file=sys.stderr)
        register = await build(Path(tmp), args.records, args.kib, current_identity())
        try:
            quick, records, size = await scan_seconds(register, full=False)
            full, _, _ = await scan_seconds(register, full=True)
            read = read_seconds(register.config.blob_dir)
        finally:
            await register.close()
    gcm = aesgcm_seconds(size)
    mb = size / 1e6
    print(f"scan of {records} recordings, {mb:,.0f} MB of blobs (best of {RUNS})\n")
    print("| what | s | records/s | MB/s |")
    print("|---|---:|---:|---:|")
    rows = [
        ("scan (header + last segment)", quick),
        ("scan --full (every segment)", full),
        ("limit: read the blob files", read),
        ("limit: AES-GCM decrypt, same bytes", gcm),
        ("limit: read + decrypt", read + gcm),
    ]
    for what, seconds in rows:
        print(f"| {what} | {seconds:.2f} | {records / seconds:,.0f} | {mb / seconds:,.0f} |")


if __name__ == "__main__":
    asyncio.run(main())
