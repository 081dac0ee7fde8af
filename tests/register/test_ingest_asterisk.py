"""Importing an Asterisk export into a register: audio byte for byte, rejects, idempotence.

The recordings are real speech (espeak-ng) converted by SoX into each encoding
a PBX writes; SoX's own decode of each file is the oracle for the samples the
register gives back. Without sox or espeak-ng these tests fail and say what to
install (CI installs them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kaiku_tui.audio import decode_pcm16, iter_pcm16
from kaiku_tui.cli.ingest import ingest_asterisk
from kaiku_tui.config import Config, from_mapping
from kaiku_tui.domain.access import Identity, Person, Purpose, Role
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.domain.org import Organisation
from kaiku_tui.domain.recording import Speaker
from kaiku_tui.errors import EXIT_OK, EXIT_REJECTED_ROWS, AuditFailure, NotFound, UsageError
from kaiku_tui.register import Register
from tests.unit.test_ingest_cdr import cdr_line

ADMIN = Identity("admin.aalto")
SUPERVISOR = Identity("sari.super")
INSTALL = "install them with: apt-get install sox espeak-ng"

# name: sox options (a single voice) or, for stereo, options of `sox -M a b`.
ENCODINGS = {
    "alaw_8k": ["-r", "8000", "-e", "a-law", "-b", "8"],
    "mulaw_8k": ["-r", "8000", "-e", "u-law", "-b", "8"],
    "pcm16_8k": ["-r", "8000", "-e", "signed-integer", "-b", "16"],
    "pcm16_16k": ["-r", "16000", "-e", "signed-integer", "-b", "16"],
}
STEREO = {
    "stereo_alaw_8k": ["-r", "8000", "-e", "a-law", "-b", "8"],
    "stereo_pcm16_8k": ["-r", "8000", "-e", "signed-integer", "-b", "16"],
}


def run(cmd: list[str]) -> bytes:
    done = subprocess.run(cmd, capture_output=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.decode(errors='replace')}")
    return done.stdout


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One WAV per encoding, made by espeak-ng and SoX."""
    missing = [t for t in ("sox", "espeak-ng") if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: {INSTALL}")
    folder = tmp_path_factory.mktemp("speech")
    a, b = folder / "a.wav", folder / "b.wav"
    run(["espeak-ng", "-v", "fi", "-w", str(a), "Hyvää päivää, tässä neuvonta, kuinka voin auttaa"])
    run(["espeak-ng", "-v", "en", "-w", str(b), "I would like to move my appointment"])
    for name, opts in ENCODINGS.items():
        run(["sox", "-D", str(a), *opts, str(folder / f"{name}.wav")])
    for name, opts in STEREO.items():
        run(["sox", "-D", "-M", str(a), str(b), *opts, str(folder / f"{name}.wav")])
    return folder


def sox_pcm16(path: Path) -> bytes:
    return run(["sox", "-D", str(path), "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-"])


@pytest.fixture
async def config(tmp_path: Path) -> AsyncIterator[Config]:
    config = from_mapping({"register": {"data_dir": str(tmp_path / "data")}}, None)
    admin = await Register.initialise(config, ADMIN, "Admin")
    try:
        await admin.orgs.add(Organisation("ITU", "Itä", None, None))
        await admin.persons.add(Person(SUPERVISOR.login, "Sari", frozenset({Role.SUPERVISOR})))
    finally:
        await admin.close()
    yield config


class Export:
    """A CDR file and a FreePBX-style recordings tree being written by a test."""

    def __init__(self, root: Path) -> None:
        self.cdr = root / "Master.csv"
        self.recordings = root / "monitor"
        self.recordings.mkdir(parents=True)
        self.lines: list[str] = []
        self.n = 0

    def call(self, wav: Path | bytes | None, vtt: str | None = None, **fields: str) -> str:
        """A line for an answered inbound call; its recording filed as FreePBX does."""
        self.n += 1
        uid = fields.pop("uniqueid", f"17415{self.n:05d}.{self.n}")
        self.lines.append(cdr_line(uniqueid=uid, **fields))
        day = self.recordings / "2025" / "03" / "10"
        day.mkdir(parents=True, exist_ok=True)
        target = day / f"in-0401234567-0201234567-20250310-090000-{uid}.wav"
        if isinstance(wav, Path):
            shutil.copyfile(wav, target)
        elif isinstance(wav, bytes):
            target.write_bytes(wav)
        if vtt is not None:
            target.with_suffix(".vtt").write_text(vtt, encoding="utf-8")
        return uid

    def write(self) -> None:
        self.cdr.write_text("".join(self.lines), encoding="utf-8")

    def args(self, org: str = "ITU") -> argparse.Namespace:
        self.write()
        return argparse.Namespace(
            cdr=str(self.cdr), recordings=str(self.recordings), org=org, tz=None
        )


async def ingest(config: Config, export: Export) -> int:
    register = await Register.open(config, ADMIN, environ={})
    try:
        return await ingest_asterisk(export.args(), register)
    finally:
        await register.close()


async def by_source(config: Config) -> dict[str, int]:
    register = await Register.open(config, SUPERVISOR, environ={})
    try:
        page = await register.recordings.search(RecordingFilter(), limit=1000)
    finally:
        await register.close()
    return {r.source_id: r.id for r in page.rows}


async def stored_audio(config: Config, record_id: int) -> bytes:
    register = await Register.open(config, SUPERVISOR, environ={})
    try:
        with await register.recordings.open_audio(record_id, Purpose.QUALITY) as audio:
            whole = b"".join(audio.iter_bytes())
            fmt = audio.wav_format()
            pcm = b"".join(iter_pcm16(audio.read, fmt, frames_per_chunk=1000))
            assert pcm == decode_pcm16(
                fmt, whole[fmt.data_offset : fmt.data_offset + fmt.data_length]
            )
            return whole
    finally:
        await register.close()


def blob_count(config: Config) -> int:
    return sum(1 for p in config.blob_dir.rglob("*.kkb"))


def audit_actions(config: Config) -> list[dict[str, object]]:
    db = sqlite3.connect(config.sqlite_path)
    try:
        rows = db.execute("SELECT body FROM audit_event ORDER BY seq").fetchall()
    finally:
        db.close()
    return [json.loads(b) for (b,) in rows]


# -- the audio, byte for byte and sample for sample ---------------------------------------


@pytest.mark.parametrize("name", [*ENCODINGS, *STEREO])
async def test_each_encoding_is_stored_byte_for_byte_and_decodes_as_sox(
    config: Config, speech: Path, tmp_path: Path, name: str
) -> None:
    export = Export(tmp_path / "export")
    uid = export.call(speech / f"{name}.wav")
    assert await ingest(config, export) == EXIT_OK
    record_id = (await by_source(config))[uid]
    original = (speech / f"{name}.wav").read_bytes()
    whole = await stored_audio(config, record_id)
    assert whole == original
    register = await Register.open(config, SUPERVISOR, environ={})
    try:
        with await register.recordings.open_audio(record_id, Purpose.QUALITY) as audio:
            fmt = audio.wav_format()
            ours = b"".join(iter_pcm16(audio.read, fmt))
    finally:
        await register.close()
    assert ours == sox_pcm16(speech / f"{name}.wav")
    assert fmt.channels == (2 if name.startswith("stereo") else 1)
    played = [e for e in audit_actions(config) if e["action"] == "audio.play"]
    assert played and played[-1]["purpose"] == "quality" and played[-1]["target"] == str(record_id)


async def test_audio_is_not_readable_without_the_key(
    config: Config, speech: Path, tmp_path: Path
) -> None:
    export = Export(tmp_path / "export")
    export.call(speech / "pcm16_8k.wav")
    assert await ingest(config, export) == EXIT_OK
    original = (speech / "pcm16_8k.wav").read_bytes()
    (blob,) = config.blob_dir.rglob("*.kkb")
    stored = blob.read_bytes()
    assert original[200:264] not in stored and len(stored) > len(original)


async def test_admin_may_not_play_and_audio_of_a_chat_is_not_found(
    config: Config, speech: Path, tmp_path: Path
) -> None:
    export = Export(tmp_path / "export")
    uid = export.call(speech / "alaw_8k.wav")
    assert await ingest(config, export) == EXIT_OK
    record_id = (await by_source(config))[uid]
    admin = await Register.open(config, ADMIN, environ={})
    try:
        with pytest.raises(Exception, match="may not audio.play"):
            await admin.recordings.open_audio(record_id, Purpose.QUALITY)
    finally:
        await admin.close()
    register = await Register.open(config, SUPERVISOR, environ={})
    try:
        with pytest.raises(NotFound, match="does not exist"):
            await register.recordings.open_audio(record_id + 100, Purpose.QUALITY)
    finally:
        await register.close()


# -- bad input: each kind has its reason, and nothing of the row is kept --------------------


def truncated(wav: bytes) -> bytes:
    return wav[: len(wav) - 1001]


BAD = {
    "missing": (None, {}, "no recording named *{uid}.wav"),
    "empty": (b"", {}, "the recording is empty (0 bytes)"),
    "not_wav": (b"ID3\x03" + bytes(400), {}, "not a WAV file"),
    "truncated": ("truncate", {}, "claims"),
    "dst_gap": ("ok", {"start": "2025-03-30 03:10:00", "answer": "2025-03-30 03:10:10",
                       "end": "2025-03-30 03:15:10"}, "does not exist in Europe/Helsinki"),
    "bad_vtt": ("vtt", {}, "timing"),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(BAD))
async def test_each_bad_input_is_rejected_with_its_reason_and_the_rest_imported(
    config: Config, speech: Path, tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good = (speech / "alaw_8k.wav").read_bytes()
    export = Export(tmp_path / "export")
    first = export.call(speech / "alaw_8k.wav")
    wav, fields, reason = BAD[kind]
    vtt = None
    if wav == "truncate":
        wav = truncated(good)
    elif wav == "vtt":
        wav, vtt = good, "WEBVTT\n\n00:01.000 -> 00:02.000\n<v Anna>Hei\n"
    elif wav == "ok":
        wav = good
    bad = export.call(wav if isinstance(wav, bytes) else None, vtt, **fields)
    last = export.call(speech / "mulaw_8k.wav")
    assert await ingest(config, export) == EXIT_REJECTED_ROWS
    err = capsys.readouterr()
    rejected = [line for line in err.err.splitlines() if line.startswith("rejected: ")]
    assert len(rejected) == 1, err.err
    assert f"{export.cdr}:2: " in rejected[0] and reason.format(uid=bad) in rejected[0]
    assert "imported 2 calls" in err.out and "rejected 1" in err.out
    stored = await by_source(config)
    assert set(stored) == {first, last}
    assert blob_count(config) == 2  # nothing of the bad row, not even its blob


async def test_dangling_symlink_recording_is_unreadable(
    config: Config, speech: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = Export(tmp_path / "export")
    uid = export.call(None)
    link = export.recordings / f"out-{uid}.wav"
    link.symlink_to(tmp_path / "gone.wav")
    assert await ingest(config, export) == EXIT_REJECTED_ROWS
    assert "cannot read" in capsys.readouterr().err
    assert await by_source(config) == {}


async def test_a_fifo_named_like_a_recording_does_not_hang_the_import(
    config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = Export(tmp_path / "export")
    uid = export.call(None)
    os.mkfifo(export.recordings / f"in-{uid}.wav")
    assert await ingest(config, export) == EXIT_REJECTED_ROWS
    assert "not a regular file" in capsys.readouterr().err


async def test_two_recordings_for_one_call_are_ambiguous(
    config: Config, speech: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = Export(tmp_path / "export")
    uid = export.call(speech / "alaw_8k.wav")
    shutil.copyfile(speech / "alaw_8k.wav", export.recordings / f"copy-{uid}.wav")
    assert await ingest(config, export) == EXIT_REJECTED_ROWS
    assert f"2 recordings end with {uid}.wav" in capsys.readouterr().err


async def test_a_longer_uniqueid_is_not_mistaken_for_the_call(
    config: Config, speech: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = Export(tmp_path / "export")
    export.call(None, uniqueid="1741590842.16")
    shutil.copyfile(speech / "alaw_8k.wav", export.recordings / "in-21741590842.16.wav")
    assert await ingest(config, export) == EXIT_REJECTED_ROWS
    assert "no recording named *1741590842.16.wav" in capsys.readouterr().err


async def test_unanswered_calls_are_skipped_not_rejected(
    config: Config, speech: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = Export(tmp_path / "export")
    export.call(speech / "alaw_8k.wav")
    export.call(None, answer=None, billsec="0", disposition="NO ANSWER")
    assert await ingest(config, export) == EXIT_OK
    assert "skipped 1 (1 unanswered)" in capsys.readouterr().out


async def test_unknown_org_and_missing_folder_are_usage_errors(
    config: Config, speech: Path, tmp_path: Path
) -> None:
    export = Export(tmp_path / "export")
    export.call(speech / "alaw_8k.wav")
    register = await Register.open(config, ADMIN, environ={})
    try:
        with pytest.raises(NotFound, match="organisation 'NOPE' does not exist"):
            await ingest_asterisk(export.args("NOPE"), register)
        args = export.args()
        args.recordings = str(tmp_path / "nowhere")
        with pytest.raises(UsageError, match="recordings folder does not exist"):
            await ingest_asterisk(args, register)
    finally:
        await register.close()


# -- idempotence and the audit -------------------------------------------------------------


async def test_reimport_adds_nothing(
    config: Config, speech: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = Export(tmp_path / "export")
    for name in ENCODINGS:
        export.call(speech / f"{name}.wav")
    export.lines.append(export.lines[0])  # a duplicated row in the file itself
    assert await ingest(config, export) == EXIT_OK
    assert "imported 4 calls, 1 already in the register" in capsys.readouterr().out
    before = (await by_source(config), blob_count(config))
    assert await ingest(config, export) == EXIT_OK
    assert "imported 0 calls, 5 already in the register" in capsys.readouterr().out
    assert (await by_source(config), blob_count(config)) == before
    ingests = [e for e in audit_actions(config) if e["action"] == "ingest"]
    assert [e["result_count"] for e in ingests] == [4, 0]
    assert all(e["detail"] == "asterisk Master.csv" and e["org"] == "ITU" for e in ingests)


async def test_one_audit_event_per_batch(
    config: Config, speech: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAIKU_INGEST_BATCH", "2")
    export = Export(tmp_path / "export")
    for _ in range(5):
        export.call(speech / "alaw_8k.wav")
    assert await ingest(config, export) == EXIT_OK
    ingests = [e for e in audit_actions(config) if e["action"] == "ingest"]
    assert [e["result_count"] for e in ingests] == [2, 2, 1]


# -- transcripts ------------------------------------------------------------------------------


VTT = """WEBVTT - call 1

NOTE made by the transcription service

1
00:00:01.000 --> 00:00:03.500
<v Anna Agentti>Hyvää päivää, neuvonta &amp; ajanvaraus.</v>

00:04.250 --> 00:06.000 align:start
<v.loud Pirjo>Hei, <i>soitan</i> ajasta.
Toinen rivi.

00:06.500 --> 00:07.000
[musiikkia]
"""


async def test_vtt_transcript_is_imported_with_sides(
    config: Config, speech: Path, tmp_path: Path
) -> None:
    export = Export(tmp_path / "export")
    uid = export.call(speech / "alaw_8k.wav", VTT)
    assert await ingest(config, export) == EXIT_OK
    register = await Register.open(config, SUPERVISOR, environ={})
    try:
        recording = await register.recordings.open_recording(
            (await by_source(config))[uid], Purpose.QUALITY
        )
    finally:
        await register.close()
    assert recording.summary.has_audio and recording.summary.has_transcript
    got = [(x.at, x.speaker, x.role, x.text) for x in recording.transcript]
    assert got == [
        (1.0, "Anna Agentti", Speaker.AGENT, "Hyvää päivää, neuvonta & ajanvaraus."),
        (4.25, "Pirjo", Speaker.CUSTOMER, "Hei, soitan ajasta.\nToinen rivi."),
        (6.5, "", Speaker.EVENT, "[musiikkia]"),
    ]


async def test_audio_is_not_handed_out_when_its_event_cannot_be_written(
    config: Config, speech: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = Export(tmp_path / "export")
    uid = export.call(speech / "alaw_8k.wav")
    assert await ingest(config, export) == EXIT_OK
    record_id = (await by_source(config))[uid]
    register = await Register.open(config, SUPERVISOR, environ={})
    opened: list[object] = []
    original_open = register.recordings._blobs.open

    def spy(ref: str, key: object) -> object:
        reader = original_open(ref, key)  # type: ignore[arg-type]
        opened.append(reader)
        return reader

    async def failing(event: object) -> int:
        raise AuditFailure("the audit log is full")

    monkeypatch.setattr(register.recordings._blobs, "open", spy)
    monkeypatch.setattr(register._index, "append_audit", failing)
    try:
        with pytest.raises(AuditFailure):
            await register.recordings.open_audio(record_id, Purpose.QUALITY)
    finally:
        monkeypatch.undo()
        await register.close()
    (reader,) = opened
    assert reader._src.closed  # type: ignore[attr-defined]


def test_progress_is_a_bar_on_a_terminal_and_lines_for_a_long_import_elsewhere() -> None:
    import io

    from kaiku_tui.cli.ingest import Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    bar = Progress(10, "calls", tty)
    bar.update(10)
    assert tty.getvalue() == f"\r[{'#' * 30}] 10/10 calls\n"
    quiet, long = io.StringIO(), io.StringIO()
    Progress(10, "calls", quiet).update(10)
    Progress(6000, "calls", long).update(6000)
    assert quiet.getvalue() == "" and long.getvalue() == "6000/6000 calls (100%)\n"


async def test_the_players_source_is_what_open_audio_returns(
    config: Config, speech: Path, tmp_path: Path
) -> None:
    from kaiku_tui.audio.envelope import iter_envelope
    from kaiku_tui.audio.source import shared
    from kaiku_tui.audio.wav import validate

    export = Export(tmp_path / "export")
    uid = export.call(speech / "stereo_alaw_8k.wav")
    assert await ingest(config, export) == EXIT_OK
    register = await Register.open(config, SUPERVISOR, environ={})
    try:
        with await register.recordings.open_audio(
            (await by_source(config))[uid], Purpose.QUALITY
        ) as audio:
            read = shared(audio)
            fmt = validate(read, read.size, "stored")
            columns = list(iter_envelope(read, fmt, 16))
    finally:
        await register.close()
    assert fmt.channels == 2 and len(columns) == 16
    assert max(c.peak for c in columns) > 0.1  # speech, decrypted through the vault
