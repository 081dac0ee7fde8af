"""`kaiku-tui ingest` in a subprocess: summary, exit codes, and a kill -9 in the middle."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from pathlib import Path

from kaiku_tui.config import load
from kaiku_tui.domain.access import Purpose
from kaiku_tui.register import Register
from kaiku_tui.register.identity import current_identity
from tests.e2e.conftest import Cli, run_cli
from tests.unit.test_ingest_cdr import cdr_line


def alaw_wav(seconds: float, seed: int) -> bytes:
    """A small A-law WAV with varying content (no sox needed for these tests)."""
    frames = int(8000 * seconds)
    data = bytes((seed * 7 + i * (seed % 13 + 1)) & 0xFF for i in range(frames))
    fmt = struct.pack("<HHIIHHH", 6, 1, 8000, 8000, 1, 8, 0)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write_export(root: Path, calls: int, *, bad_line: bool = False) -> tuple[Path, Path]:
    recordings = root / "rec" / "2025" / "03" / "10"
    recordings.mkdir(parents=True)
    lines = []
    for n in range(calls):
        uid = f"1741590{n:03d}.{n}"
        lines.append(cdr_line(uniqueid=uid))
        (recordings / f"in-0401234567-0201234567-{uid}.wav").write_bytes(alaw_wav(0.5, n))
    if bad_line:
        lines.insert(1, '"","only","three"\n')
    cdr = root / "Master.csv"
    cdr.write_text("".join(lines), encoding="utf-8")
    return cdr, root / "rec"


def imported(config: Path) -> list[tuple[int, str, str | None]]:
    cfg = load(config)
    db = sqlite3.connect(cfg.sqlite_path)
    try:
        return db.execute(
            "SELECT id, source_id, blob_ref FROM recording WHERE source_id LIKE '1741590%'"
        ).fetchall()
    finally:
        db.close()


def test_ingest_asterisk_summary_rejects_and_exit_codes(
    cli: Cli, demo: Path, tmp_path: Path
) -> None:
    cdr, rec = write_export(tmp_path, 3, bad_line=True)
    args = ("ingest", "asterisk", "--cdr", str(cdr), "--recordings", str(rec), "--org", "ITU")
    first = cli(*args)
    assert first.code == 3, first.err
    assert f"rejected: {cdr}:2: has 3 columns, expected 18" in first.err
    assert "Traceback" not in first.err
    assert "imported 3 calls, 0 already in the register" in first.out
    again = cli(*args)
    assert again.code == 3 and "imported 0 calls, 3 already in the register" in again.out
    rows = [json.loads(x) for x in cli("query", "--json", "--limit", "500").out.splitlines()]
    ours = [r for r in rows if r["source_id"].startswith("1741590")]
    assert len(ours) == 3 and all(r["has_audio"] and r["channel"] == "call" for r in ours)
    assert cli("audit", "verify").code == 0


def test_ingest_unusable_input_is_exit_2(cli: Cli, tmp_path: Path) -> None:
    missing = cli("ingest", "asterisk", "--cdr", str(tmp_path / "no.csv"), "--recordings",
                  str(tmp_path), "--org", "ITU")  # fmt: skip
    assert missing.code == 2 and "cannot read the CDR file" in missing.err
    zone = cli("ingest", "asterisk", "--cdr", str(tmp_path / "no.csv"), "--recordings",
               str(tmp_path), "--org", "ITU", "--tz", "Mars/Olympus")  # fmt: skip
    assert zone.code == 2 and "not a known IANA time zone" in zone.err
    usage = cli("ingest", "asterisk", "--cdr", "x")
    assert usage.code == 2 and "required" in usage.err


def test_ingest_is_refused_to_a_supervisor(cli: Cli, tmp_path: Path) -> None:
    me = current_identity().login
    assert cli("persons", "set", me, "--role", "supervisor").code == 0
    cdr, rec = write_export(tmp_path, 1)
    refused = cli("ingest", "asterisk", "--cdr", str(cdr), "--recordings", str(rec), "--org", "ITU")
    assert refused.code == 4 and "may not ingest" in refused.err


def test_kill_9_mid_import_leaves_whole_records_and_a_rerun_completes(
    demo: Path, tmp_path: Path
) -> None:
    total = 1500
    cdr, rec = write_export(tmp_path, total)
    argv = [sys.executable, "-m", "kaiku_tui", "--config", str(demo), "ingest", "asterisk",
            "--cdr", str(cdr), "--recordings", str(rec), "--org", "ITU"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("KAIKU_CONFIG", "KAIKU_MASTER_KEY")}
    env["KAIKU_INGEST_BATCH"] = "20"
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if len(imported(demo)) >= 100:
                break
        except sqlite3.OperationalError:
            pass  # the writer holds the lock a moment
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the import ended before it could be killed"
    filed = imported(demo)
    assert 0 < len(filed) < total
    assert len(filed) % 20 == 0  # whole batches only
    assert all(ref is not None for _, _, ref in filed)
    assert run_cli(demo, "audit", "verify").code == 0
    asyncio_check_audio(demo, [i for i, _, _ in filed[:: max(1, len(filed) // 5)]])

    rerun = run_cli(demo, "ingest", "asterisk", "--cdr", str(cdr), "--recordings", str(rec),
                    "--org", "ITU")  # fmt: skip
    assert rerun.code == 0, rerun.err
    assert f"imported {total - len(filed)} calls, {len(filed)} already" in rerun.out
    done = imported(demo)
    assert len(done) == total and len({s for _, s, _ in done}) == total
    asyncio_check_audio(demo, [i for i, _, _ in done[-3:]])
    assert run_cli(demo, "audit", "verify").code == 0


def asyncio_check_audio(config: Path, ids: list[int]) -> None:
    """Each record's audio opens and is the WAV that was written for it."""
    import asyncio

    async def check() -> None:
        register = await Register.open(load(config), current_identity())
        try:
            for record_id in ids:
                recording = await register.recordings.open_recording(record_id, Purpose.VERIFY)
                n = int(recording.summary.source_id.split(".")[1])
                with await register.recordings.open_audio(record_id, Purpose.VERIFY) as audio:
                    assert b"".join(audio.iter_bytes()) == alaw_wav(0.5, n)
        finally:
            await register.close()

    asyncio.run(check())


CHAT = Path(__file__).parent.parent / "data" / "chatwoot" / "conversation-4711.json"


def test_ingest_chatwoot_end_to_end(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"id": 5, "messages": [{"message_type": 7}]}', encoding="utf-8")
    first = cli("ingest", "chatwoot", str(CHAT), str(bad), "--org", "KESKI")
    assert first.code == 3, first.err
    assert f"rejected: {bad}: $.messages[0].message_type: expected 0, 1, 2 or 3" in first.err
    assert "imported 1 conversations, 0 already" in first.out
    again = cli("ingest", "chatwoot", str(CHAT), "--org", "KESKI")
    assert again.code == 0 and "imported 0 conversations, 1 already" in again.out
    rows = [
        json.loads(x)
        for x in cli("query", "--json", "--org", "KESKI", "--limit", "500").out.splitlines()
    ]
    (chat,) = [r for r in rows if r["source_id"] == "chatwoot-4711"]
    shown = cli("show", str(chat["id"]), "--purpose", "quality", "--json")
    transcript = json.loads(shown.out)["transcript"]
    assert [t["role"] for t in transcript][:3] == ["customer", "event", "agent"]
    assert not any("1741590842" in t["text"] for t in transcript)  # the private note
    text = cli("show", str(chat["id"]), "--purpose", "quality")
    assert "\x1b" not in text.out and "␛[31mKiitos!" in text.out


def test_ingest_chatwoot_takes_folders_and_refuses_a_missing_path(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "export" / "2025"
    folder.mkdir(parents=True)
    (folder / "c.json").write_text(CHAT.read_text(encoding="utf-8"), encoding="utf-8")
    missing = cli("ingest", "chatwoot", str(tmp_path / "export"), str(tmp_path / "nope.json"),
                  "--org", "ITU")  # fmt: skip
    assert missing.code == 2 and "nope.json: no such file or folder" in missing.err
    done = cli("ingest", "chatwoot", str(tmp_path / "export"), "--org", "ITU")
    assert done.code == 0 and "imported 1 conversations" in done.out
