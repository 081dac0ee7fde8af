"""Ingest rate of `kaiku-tui ingest asterisk`, with its cost split into parse / encrypt / index.

An Asterisk export is made first (untimed): a cdr_csv file of N answered calls
and, in a FreePBX tree, a 20-second 8 kHz recording for each (speech-like
audio from `kaiku_tui/ingest/speech.py`, A-law by default) with a WebVTT
transcript of six cues beside it. Then:

* **end to end** — `kaiku_tui.cli.ingest.ingest_asterisk` on a fresh register,
  exactly what the command runs (batches of 200, one audited transaction each);
* **split** — the same work on another fresh register, phase by phase:
  *parse* (read the CDR, walk the tree, validate every WAV header, read the
  transcripts), *encrypt* (`Register._seal_all`: per recording on worker
  threads, a new record key wrapped, phone and transcript sealed, the WAV
  through the streaming AEAD into the blob store with fsync), *index*
  (`known_sources` and
  `SqliteIndex.add_recordings`: one transaction with its audit event per batch);
* **limits** — AES-GCM alone over the same bytes in the same 64 KiB segments
  (one core), and writing the same files plainly with an fsync each.

Target (issue 4): ≥ 1,000 calls/s end to end. Not a test; prints markdown.

    .venv/bin/python bench/ingestbench.py [--calls 5000] [--encoding alaw|pcm16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from measure import Stopwatch, table

from kaiku_tui.cli.demo import create_demo_register
from kaiku_tui.cli.ingest import BATCH, ingest_asterisk
from kaiku_tui.config import Config
from kaiku_tui.domain.recording import NewRecording
from kaiku_tui.ingest import speech
from kaiku_tui.ingest.asterisk import AsteriskExport, call_recordings
from kaiku_tui.ingest.cdr import read_cdr
from kaiku_tui.ingest.recordings import RecordingFolder
from kaiku_tui.register import Register
from kaiku_tui.register.identity import current_identity
from kaiku_tui.vault.keys import new_data_key
from kaiku_tui.vault.stream import SEGMENT_SIZE

SECONDS = 20
# asyncio.to_thread's default executor: what the import's blob writes run on.
THREADS = min(32, (os.cpu_count() or 1) + 4)
TARGET = 1_000
VTT = "WEBVTT\n\n" + "".join(
    f"00:00:{3 * i:02d}.000 --> 00:00:{3 * i + 2:02d}.500\n<v {'Agentti' if i % 2 else 'Asiakas'}>"
    f"Repliikki numero {i}, jossa on muutama sana.\n\n"
    for i in range(6)
)


@dataclass(frozen=True)
class Split:
    parse_s: float
    encrypt_s: float
    index_s: float
    added: int


def make_export(root: Path, calls: int, encoding: str) -> tuple[Path, Path, int]:
    """Master.csv and a FreePBX tree; returns (cdr, recordings folder, bytes of one WAV)."""
    rng = random.Random(7)
    clip = speech.pause(rng, 0.0)
    while len(clip) < SECONDS * speech.RATE:
        clip.extend(speech.phrase(rng, speech.AGENT_VOICE, rng.randint(4, 9)))
        clip.extend(speech.pause(rng, 0.4))
    del clip[SECONDS * speech.RATE :]
    coded = encoding == "alaw"
    data = speech.alaw(clip) if coded else speech.pcm16(clip)
    wav = speech.wav_file(data, alaw_coded=coded, channels=1)
    lines = []
    base = 1_764_000_000
    for n in range(calls):
        uid = f"{base + n}.{n}"
        start = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(base + n))
        answer = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(base + n + 5))
        end = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(base + n + 5 + SECONDS))
        lines.append(
            f'"","04012{n % 100000:05d}","0201234567","from-trunk","""Asiakas {n}"" <0401234567>",'
            f'"PJSIP/trunk-00000001","PJSIP/1001-00000002","Dial","PJSIP/1001,,Tt",'
            f'"{start}","{answer}","{end}",{SECONDS + 5},{SECONDS},"ANSWERED","DOCUMENTATION",'
            f'"{uid}",""\n'
        )
        day = root / "rec" / "2025" / "11" / f"{n % 28 + 1:02d}"
        day.mkdir(parents=True, exist_ok=True)
        path = day / f"in-04012{n % 100000:05d}-0201234567-{uid}.wav"
        path.write_bytes(wav)
        path.with_suffix(".vtt").write_text(VTT, encoding="utf-8")
    cdr = root / "Master.csv"
    cdr.write_text("".join(lines), encoding="utf-8")
    return cdr, root / "rec", len(wav)


async def fresh_register(root: Path) -> Config:
    return await create_demo_register(root, "Bench Admin")


async def end_to_end(config: Config, cdr: Path, rec: Path) -> float:
    args = argparse.Namespace(cdr=str(cdr), recordings=str(rec), org="ITU", tz=None)
    register = await Register.open(config, current_identity())
    try:
        with Stopwatch() as wall:
            code = await ingest_asterisk(args, register)
    finally:
        await register.close()
    if code != 0:
        raise SystemExit(f"the import exited {code}")
    return wall.seconds


async def split(config: Config, cdr: Path, rec: Path) -> Split:
    """The import's three phases, timed apart, on the register's own code paths."""
    with Stopwatch() as parse:
        export = AsteriskExport(cdr, read_cdr(cdr), RecordingFolder(rec), "ITU")
        items = [x for x in call_recordings(export) if isinstance(x, NewRecording)]
    register = await Register.open(config, current_identity())
    encrypt_s = index_s = 0.0
    added = 0
    try:
        intake = register.intake  # its phases, timed apart (private: this is a bench)
        org_key = await register._gate.keys.org_key("ITU")
        for start in range(0, len(items), BATCH):
            batch = items[start : start + BATCH]
            t0 = time.perf_counter()
            fresh = await intake._fresh("ITU", batch)
            t1 = time.perf_counter()
            rows = await intake._seal_all(org_key, fresh)
            t2 = time.perf_counter()
            event = register._gate.event(
                "ingest", org="ITU", detail="bench", result_count=len(rows)
            )
            result = await register._index.add_recordings(rows, event)
            t3 = time.perf_counter()
            encrypt_s += t2 - t1
            index_s += (t1 - t0) + (t3 - t2)
            added += result.added
    finally:
        await register.close()
    return Split(parse.seconds, encrypt_s, index_s, added)


def limits(rec: Path, root: Path) -> tuple[float, float, float, int]:
    """(AES-GCM alone over every WAV's bytes, plain write + fsync of every file on one
    thread, the same on as many threads as the import uses, bytes)."""
    files = sorted(rec.rglob("*.wav"))
    data = [p.read_bytes() for p in files]
    aead = AESGCM(new_data_key())
    nonce = bytes(12)
    with Stopwatch() as cipher:
        for blob in data:
            for i in range(0, len(blob), SEGMENT_SIZE):
                aead.encrypt(nonce, blob[i : i + SEGMENT_SIZE], b"")
    with Stopwatch() as disk:
        _write_synced(root / "plain", data, 1)
    with Stopwatch() as disks:
        _write_synced(root / "plain-threads", data, THREADS)
    return cipher.seconds, disk.seconds, disks.seconds, sum(len(b) for b in data)


def _write_synced(out: Path, data: list[bytes], threads: int) -> None:
    out.mkdir()

    def one(n: int) -> None:
        fd = os.open(out / f"{n}.wav", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.write(fd, data[n])
            os.fsync(fd)
        finally:
            os.close(fd)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(len(data))))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--encoding", choices=("alaw", "pcm16"), default="alaw")
    parser.add_argument("--dir", help="work folder (default: a temporary one, removed)")
    args = parser.parse_args()
    root = Path(args.dir or tempfile.mkdtemp(prefix="kaiku-ingestbench-"))
    try:
        print(f"making {args.calls:,} calls of {SECONDS} s ({args.encoding}) ...", file=sys.stderr)
        cdr, rec, wav_bytes = make_export(root / "export", args.calls, args.encoding)
        total_s = await end_to_end(await fresh_register(root / "r1"), cdr, rec)
        parts = await split(await fresh_register(root / "r2"), cdr, rec)
        cipher_s, disk_s, disks_s, size = limits(rec, root)
        report(args, wav_bytes, total_s, parts, (cipher_s, disk_s, disks_s), size)
    finally:
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)


def report(
    args: argparse.Namespace,
    wav_bytes: int,
    total_s: float,
    parts: Split,
    limit_s: tuple[float, float, float],
    size: int,
) -> None:
    n = args.calls
    rate = n / total_s
    verdict = "OK" if rate >= TARGET else "FAIL"
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"## ingest: {n:,} calls, {SECONDS} s 8 kHz {args.encoding} "
        f"({wav_bytes / 1024:.0f} KiB each) + WebVTT, batches of {BATCH}, "
        f"{os.cpu_count()} CPUs, load {load}\n"
    )
    print(
        f"end to end: {total_s:.2f} s = **{rate:,.0f} calls/s** (target ≥ {TARGET:,}: {verdict})\n"
    )
    split_total = parts.parse_s + parts.encrypt_s + parts.index_s
    rows = [
        (name, f"{s:.2f}", f"{s / n * 1e3:.3f}", f"{s / split_total:.0%}", note)
        for name, s, note in (
            ("parse", parts.parse_s, "CDR, folder walk, WAV headers, WebVTT"),
            ("encrypt", parts.encrypt_s, "keys, fields, blob AEAD + fsync (threads)"),
            ("index", parts.index_s, "known_sources + insert with audit, per batch"),
        )
    ]
    rows.append(("sum", f"{split_total:.2f}", f"{split_total / n * 1e3:.3f}", "100%", ""))
    print(table(("phase", "s", "ms / call", "share", "what"), rows))
    mib = size / 2**20
    names = (
        "AES-GCM alone, 1 core",
        "write + fsync per file, 1 thread",
        f"write + fsync per file, {THREADS} threads",
    )
    print()
    print(
        table(
            ("limit", "s", "MiB/s", "calls/s"),
            [
                (name, f"{s:.2f}", f"{mib / s:,.0f}", f"{n / s:,.0f}")
                for name, s in zip(names, limit_s, strict=True)
            ],
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
