"""The demo generator: deterministic, the last 90 days, both languages, speech-like audio."""

from __future__ import annotations

import math
import statistics
import struct
from datetime import date

from kaiku_tui.audio import Encoding, decode_pcm16, memory_reader, validate
from kaiku_tui.domain.dates import day_end, day_start
from kaiku_tui.domain.recording import Channel, NewRecording, Speaker
from kaiku_tui.ingest.demo import DemoSpec, generate

SPEC = DemoSpec(records=600, seed=11, end=date(2026, 11, 27), audio_every=5)


def made(spec: DemoSpec = SPEC) -> list[NewRecording]:
    return list(generate(spec))


def test_same_seed_same_register_other_seed_other() -> None:
    one, two = made(), made()
    assert one == two
    assert made(DemoSpec(records=600, seed=12, end=SPEC.end, audio_every=5)) != one


def test_shape_of_the_register() -> None:
    rows = made()
    assert len(rows) == 600 and len({r.source_id for r in rows}) == 600
    assert all(day_start(date(2026, 8, 30)) <= r.started_at < day_end(SPEC.end) for r in rows)
    assert {r.channel for r in rows} == {Channel.CALL, Channel.CHAT}
    assert {r.org for r in rows} == {"ITU", "KESKI", "LAHTI"}
    assert all(r.transcript for r in rows)
    assert max(r.duration_s for r in rows) <= 3600
    assert max(r.duration_s for r in rows) > 1800  # the long tail is there
    texts = " ".join(x.text for r in rows if r.channel is Channel.CHAT for x in r.transcript)
    assert "Kiitos" in texts and "Thank you" in texts
    chat = next(r for r in rows if r.channel is Channel.CHAT)
    assert chat.transcript[0].role is Speaker.EVENT and chat.audio is None


def samples(data: bytes) -> tuple[list[int], int, int]:
    fmt = validate(memory_reader(data), len(data), "demo")
    pcm = decode_pcm16(fmt, data[fmt.data_offset : fmt.data_offset + fmt.data_length])
    return list(struct.unpack(f"<{len(pcm) // 2}h", pcm)), fmt.channels, fmt.frames


def test_audio_is_a_valid_wav_as_long_as_the_call_in_each_encoding() -> None:
    kinds = set()
    for r in made():
        if isinstance(r.audio, bytes):
            fmt = validate(memory_reader(r.audio), len(r.audio), r.source_id)
            assert fmt.sample_rate == 8000 and abs(fmt.duration_s - r.duration_s) < 0.01
            assert max(x.at for x in r.transcript) < r.duration_s
            kinds.add((fmt.encoding, fmt.channels))
    assert kinds == {(e, c) for e in (Encoding.ALAW, Encoding.PCM) for c in (1, 2)}


def test_audio_is_speech_like_not_silence_nor_a_tone() -> None:
    audio = next(r.audio for r in made() if isinstance(r.audio, bytes))
    values, channels, _ = samples(audio)
    mono = values[::channels]
    frame = 160  # 20 ms
    loud, quiet, crossings = 0, 0, []
    for start in range(0, len(mono) - frame, frame):
        chunk = mono[start : start + frame]
        rms = math.sqrt(sum(v * v for v in chunk) / frame)
        if rms > 800:
            loud += 1
            pairs = zip(chunk, chunk[1:], strict=False)
            crossings.append(sum(1 for a, b in pairs if (a < 0) != (b < 0)))
        elif rms < 120:
            quiet += 1
    frames = len(mono) // frame
    assert loud > frames * 0.15 and quiet > frames * 0.1  # syllables and pauses
    assert statistics.pstdev(crossings) > 3  # the spectrum moves: vowels, consonants, pitch
    assert len(set(mono)) > 100  # (A-law has 256 levels at most)
