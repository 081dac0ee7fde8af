"""WAV parsing and PCM16 decoding: sample for sample against SoX, and every kind of damage.

The speech comes from espeak-ng and is converted by SoX into each encoding the
register meets; SoX's own decode of the same file to raw PCM16 is the oracle.
SoX runs with `-D` throughout: by default it dithers whenever it lowers the
precision (24/32-bit/float to 16), with a fresh random seed, so two runs of the
very same command differ and nothing could match them sample for sample.

Without sox or espeak-ng these tests fail (not skip) and say what to install;
the damage and fuzz tests build their files in memory and need neither.
"""

from __future__ import annotations

import math
import random
import struct
import subprocess
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from kaiku_tui.audio import (
    Encoding,
    WavError,
    WavFormat,
    decode_pcm16,
    iter_pcm16,
    memory_reader,
    parse_header,
    validate,
)
from kaiku_tui.errors import EXIT_USAGE, UsageError

INSTALL = "install them with: apt-get install sox espeak-ng"
SPEECH_A = "Hyvää päivää, tässä neuvonta"
SPEECH_B = "Kiitos soitostanne, hetkinen"
GUID_TAIL = bytes.fromhex("00001000800000aa00389b71")

# name: (sox output options, sox effects, expected (encoding, channels, rate, bits, extensible))
SOX_VARIANTS: dict[str, tuple[list[str], list[str], tuple[Encoding, int, int, int, bool]]] = {
    "alaw_8k": (["-r", "8000", "-e", "a-law", "-b", "8"], [], (Encoding.ALAW, 1, 8000, 8, False)),
    "mulaw_8k": (["-r", "8000", "-e", "u-law", "-b", "8"], [], (Encoding.MULAW, 1, 8000, 8, False)),
    "s16_8k": (
        ["-r", "8000", "-e", "signed-integer", "-b", "16"],
        [],
        (Encoding.PCM, 1, 8000, 16, False),
    ),
    "s16_16k": (["-r", "16000", "-b", "16"], [], (Encoding.PCM, 1, 16000, 16, False)),
    "s16_stereo_dup": (["-c", "2", "-b", "16"], [], (Encoding.PCM, 2, 22050, 16, False)),
    "u8": (["-e", "unsigned-integer", "-b", "8"], [], (Encoding.PCM, 1, 22050, 8, False)),
    # vol and rate give the wide formats content below 16 bits, so rounding matters.
    "s24": (["-b", "24"], ["vol", "0.77"], (Encoding.PCM, 1, 22050, 24, True)),
    "s32": (["-b", "32"], ["vol", "0.77"], (Encoding.PCM, 1, 22050, 32, True)),
    "f32": (
        ["-e", "floating-point", "-b", "32"],
        ["vol", "0.77", "rate", "16000"],
        (Encoding.FLOAT, 1, 16000, 32, False),
    ),
}
# Two people on two channels: `sox -M` merges two different utterances.
MERGED_VARIANTS: dict[str, tuple[list[str], tuple[Encoding, int, int, int, bool]]] = {
    "stereo_s16": (["-b", "16"], (Encoding.PCM, 2, 22050, 16, False)),
    "stereo_alaw": (["-r", "8000", "-e", "a-law", "-b", "8"], (Encoding.ALAW, 2, 8000, 8, False)),
    "stereo_mulaw": (["-r", "8000", "-e", "u-law", "-b", "8"], (Encoding.MULAW, 2, 8000, 8, False)),
    "stereo_s24": (["-b", "24", "-r", "16000"], (Encoding.PCM, 2, 16000, 24, True)),
}
# SoX writes EXTENSIBLE only for >2 channels or >16 bits; these are rewritten from
# the files above into WAVE_FORMAT_EXTENSIBLE (and SoX reads them back as the oracle).
EXTENSIBLE_FROM = {
    "alaw_ext": "alaw_8k",
    "mulaw_ext": "mulaw_8k",
    "f32_ext": "f32",
    "s16_ext": "stereo_s16",
}


# --- building WAV bytes ----------------------------------------------------------------


def chunk(cid: bytes, body: bytes, size: int | None = None) -> bytes:
    """One RIFF chunk, with the pad byte after an odd-sized body."""
    claimed = len(body) if size is None else size
    return cid + struct.pack("<I", claimed) + body + b"\0" * (len(body) & 1)


def fmt_body(
    tag: int,
    channels: int,
    rate: int,
    bits: int,
    *,
    align: int | None = None,
    extensible: bool = False,
) -> bytes:
    block = channels * bits // 8 if align is None else align
    head = struct.pack(
        "<HHIIHH", 0xFFFE if extensible else tag, channels, rate, rate * block, block, bits
    )
    if extensible:
        return head + struct.pack("<HHI", 22, bits, 0) + struct.pack("<I", tag) + GUID_TAIL
    return head if tag == 1 else head + b"\0\0"  # non-PCM formats carry cbSize


def riff(*chunks: bytes, size: int | None = None) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) if size is None else size) + body


def wav(
    tag: int, channels: int, rate: int, bits: int, data: bytes, *, extensible: bool = False
) -> bytes:
    fmt = fmt_body(tag, channels, rate, bits, extensible=extensible)
    return riff(chunk(b"fmt ", fmt), chunk(b"data", data))


def as_extensible(original: bytes) -> bytes:
    """The same audio under a WAVE_FORMAT_EXTENSIBLE fmt chunk naming the same format."""
    fmt = parse_header(memory_reader(original), len(original))
    data = original[fmt.data_offset : fmt.data_offset + fmt.data_length]
    return wav(
        fmt.encoding.value,
        fmt.channels,
        fmt.sample_rate,
        fmt.bits_per_sample,
        data,
        extensible=True,
    )


def samples(pcm16: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(pcm16) // 2}h", pcm16))


def decode_file(data: bytes, name: str = "") -> tuple[WavFormat, bytes]:
    fmt = validate(memory_reader(data), len(data), name)
    return fmt, decode_pcm16(fmt, data[fmt.data_offset : fmt.data_offset + fmt.data_length])


# Edge values that decide the last bit: half-LSB boundaries, clipping, tiny and huge.
FLOAT_EDGES = [
    0.0, 1.0, -1.0, 1.5, -1.5, 2.0**-16, -(2.0**-16), 3 * 2.0**-16, -3 * 2.0**-16,
    2.0**-16 * (1 - 2.0**-20), -(2.0**-16) * (1 - 2.0**-20), 0.99998, 32767.5 / 32768,
    -32768.5 / 32768, 1e-45, -1e-45, 2.0**-32, -(2.0**-32), 0.49999997, -0.49999997,
    math.inf, -math.inf, 1e30, -1e30,
]  # fmt: skip
INT24_EDGES = [
    0,
    1,
    -1,
    0x7F,
    0x80,
    0x81,
    -0x80,
    -0x81,
    0x7FFF7F,
    0x7FFF80,
    0x7FFFFF,
    -0x800000,
    -0x7FFF81,
]
INT32_EDGES = [
    0,
    1,
    -1,
    0x7FFF,
    0x8000,
    -0x8000,
    -0x8001,
    0x7FFF7FFF,
    0x7FFF8000,
    0x7FFFFFFF,
    -0x80000000,
]


def crafted_edges() -> dict[str, bytes]:
    """Hand-made files whose every sample is a corner case; SoX decodes them too."""
    int24 = b"".join((v & 0xFFFFFF).to_bytes(3, "little") for v in INT24_EDGES)
    return {
        "alaw_all_codes": wav(6, 1, 8000, 8, bytes(range(256))),
        "mulaw_all_codes": wav(7, 1, 8000, 8, bytes(range(256))),
        "u8_all_codes": wav(1, 1, 8000, 8, bytes(range(256))),
        "f32_edges": wav(3, 1, 8000, 32, struct.pack(f"<{len(FLOAT_EDGES)}f", *FLOAT_EDGES)),
        "f32_edges_ext": wav(
            3, 1, 8000, 32, struct.pack(f"<{len(FLOAT_EDGES)}f", *FLOAT_EDGES), extensible=True
        ),
        "s24_edges": wav(1, 1, 8000, 24, int24, extensible=True),
        "s32_edges": wav(
            1, 1, 8000, 32, struct.pack(f"<{len(INT32_EDGES)}i", *INT32_EDGES), extensible=True
        ),
    }


# --- the corpus made by espeak-ng and sox ----------------------------------------------


@dataclass
class Corpus:
    """Generated files, or why they could not be made (then each test using them fails)."""

    folder: Path
    problem: str | None = None

    def path(self, name: str) -> Path:
        if self.problem:
            pytest.fail(self.problem)
        return self.folder / f"{name}.wav"

    def read(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def sox_pcm16(self, name: str) -> bytes:
        """SoX's decode of the file to raw little-endian signed 16-bit, dither off."""
        path = str(self.path(name))
        return run(["sox", "-D", path, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-"])


def run(cmd: list[str]) -> bytes:
    done = subprocess.run(cmd, capture_output=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout


def make_corpus(folder: Path) -> None:
    a, b = folder / "speech_a.wav", folder / "speech_b.wav"
    run(["espeak-ng", "-v", "fi", "-w", str(a), SPEECH_A])
    run(["espeak-ng", "-v", "fi", "-w", str(b), SPEECH_B])
    for name, (opts, effects, _) in SOX_VARIANTS.items():
        run(["sox", "-D", str(a), *opts, str(folder / f"{name}.wav"), *effects])
    for name, (opts, _) in MERGED_VARIANTS.items():
        run(["sox", "-D", "-M", str(a), str(b), *opts, str(folder / f"{name}.wav")])
    for name, source in EXTENSIBLE_FROM.items():
        (folder / f"{name}.wav").write_bytes(as_extensible((folder / f"{source}.wav").read_bytes()))
    for name, data in crafted_edges().items():
        (folder / f"{name}.wav").write_bytes(data)


def expected_formats() -> dict[str, tuple[Encoding, int, int, int, bool]]:
    out = {name: spec[2] for name, spec in SOX_VARIANTS.items()}
    out |= {name: spec[1] for name, spec in MERGED_VARIANTS.items()}
    for name, source in EXTENSIBLE_FROM.items():
        encoding, channels, rate, bits, _ = out[source]
        out[name] = (encoding, channels, rate, bits, True)
    return out


EXPECTED = expected_formats()
ALL_FILES = sorted(EXPECTED) + sorted(crafted_edges())


# --- against SoX -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_FILES)
def test_decode_matches_sox_sample_for_sample(corpus: Corpus, name: str) -> None:
    fmt, mine = decode_file(corpus.read(name), name)
    reference = corpus.sox_pcm16(name)
    assert len(mine) == len(reference) == fmt.frames * fmt.channels * 2
    diffs = [
        (i, m, r)
        for i, (m, r) in enumerate(zip(samples(mine), samples(reference), strict=True))
        if m != r
    ]
    assert not diffs, f"{len(diffs)} samples differ from sox, first (index, ours, sox): {diffs[:5]}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_header_matches_soxi(corpus: Corpus, name: str) -> None:
    data = corpus.read(name)
    fmt = validate(memory_reader(data), len(data), name)
    encoding, channels, rate, bits, extensible = EXPECTED[name]
    assert (fmt.encoding, fmt.channels, fmt.sample_rate, fmt.bits_per_sample) == (
        encoding,
        channels,
        rate,
        bits,
    )
    assert (data[20:22] == b"\xfe\xff") == extensible, "the file is not the fmt kind the test means"
    path = str(corpus.path(name))
    soxi = [int(run(["soxi", flag, path])) for flag in ("-c", "-r", "-s")]
    assert soxi == [fmt.channels, fmt.sample_rate, fmt.frames]
    assert fmt.duration_s == pytest.approx(fmt.frames / rate)


def test_the_two_channels_carry_different_speech(corpus: Corpus) -> None:
    _, pcm = decode_file(corpus.read("stereo_s16"))
    values = samples(pcm)
    left, right = values[0::2], values[1::2]
    assert left != right and any(left) and any(right)


@pytest.mark.parametrize("name", ["s24", "s32", "f32", "stereo_s24"])
def test_the_wide_formats_exercise_rounding(corpus: Corpus, name: str) -> None:
    """Taking the top 16 bits (truncation) must differ from SoX, or the match proves nothing."""
    data = corpus.read(name)
    fmt = validate(memory_reader(data), len(data))
    raw = data[fmt.data_offset : fmt.data_offset + fmt.data_length]
    if fmt.encoding is Encoding.FLOAT:
        floats = array("f", raw)
        truncated = [max(-32768, min(32767, math.floor(v * 32768))) for v in floats]
    else:
        width = fmt.bits_per_sample // 8
        truncated = [
            int.from_bytes(raw[i + width - 2 : i + width], "little", signed=True)
            for i in range(0, len(raw), width)
        ]
    assert truncated != samples(corpus.sox_pcm16(name))


def test_nan_decodes_to_silence() -> None:
    """SoX's cast of NaN is undefined in C (-32768 on x86, a click); ours is silence."""
    data = wav(3, 1, 8000, 32, struct.pack("<3f", math.nan, 0.5, -math.nan))
    assert samples(decode_file(data)[1]) == [0, 16384, 0]


# --- lazy decoding and seeking ---------------------------------------------------------


@pytest.mark.parametrize("name", ["stereo_alaw", "mulaw_8k", "s24", "stereo_s24", "f32", "u8"])
@pytest.mark.parametrize("per_chunk", [1, 333, 4096])
def test_iter_from_a_start_frame_equals_the_slice_of_the_whole(
    corpus: Corpus, name: str, per_chunk: int
) -> None:
    data = corpus.read(name)
    read = memory_reader(data)
    fmt, whole = decode_file(data)
    frame_bytes = 2 * fmt.channels
    for start in (0, 1, fmt.frames // 3, fmt.frames - 1, fmt.frames):
        pieces = list(iter_pcm16(read, fmt, start, per_chunk))
        assert b"".join(pieces) == whole[start * frame_bytes :], f"from frame {start}"
        assert all(len(p) == per_chunk * frame_bytes for p in pieces[:-1])


def counting(data: bytes) -> tuple[Callable[[int, int], bytes], list[tuple[int, int]]]:
    calls: list[tuple[int, int]] = []
    inner = memory_reader(data)

    def read(offset: int, length: int) -> bytes:
        calls.append((offset, length))
        return inner(offset, length)

    return read, calls


def test_parsing_and_the_first_chunk_read_only_what_they_need() -> None:
    data = riff(
        chunk(b"fmt ", fmt_body(6, 2, 8000, 8)),
        chunk(b"LIST", b"x" * 5000),
        chunk(b"data", bytes(80000)),
    )
    read, calls = counting(data)
    fmt = parse_header(read, len(data))
    assert sum(length for _, length in calls) < 100
    calls.clear()
    first = next(iter_pcm16(read, fmt, start_frame=1000, frames_per_chunk=100))
    assert calls == [(fmt.data_offset + 2000, 200)] and len(first) == 400


def test_a_seek_outside_the_recording_is_a_wav_error() -> None:
    data = wav(1, 1, 8000, 16, bytes(200))
    fmt = parse_header(memory_reader(data), len(data))
    assert list(iter_pcm16(memory_reader(data), fmt, 100)) == []
    with pytest.raises(WavError, match="frame 101 is outside"):
        iter_pcm16(memory_reader(data), fmt, 101)
    with pytest.raises(ValueError):
        iter_pcm16(memory_reader(data), fmt, 0, 0)


def test_a_reader_that_comes_up_short_is_a_wav_error() -> None:
    data = wav(1, 1, 8000, 16, bytes(2000))
    fmt = parse_header(memory_reader(data), len(data))
    short = memory_reader(data[:1000])
    with pytest.raises(WavError, match=r"^call\.wav: the audio ends early .*\(truncated\)"):
        list(iter_pcm16(short, fmt, name="call.wav"))


# --- pure decoding facts (no sox needed) -------------------------------------------------


def test_g711_tables_follow_the_standard() -> None:
    alaw = samples(decode_file(wav(6, 1, 8000, 8, bytes([0xD5, 0x55, 0xAA, 0x2A, 0x80])))[1])
    mulaw = samples(decode_file(wav(7, 1, 8000, 8, bytes([0xFF, 0x7F, 0x80, 0x00, 0xFE])))[1])
    assert alaw == [8, -8, 32256, -32256, 5504]
    assert mulaw == [0, 0, 32124, -32124, 8]


def test_partial_frames_are_refused() -> None:
    fmt = WavFormat(Encoding.PCM, 2, 8000, 16, 4, 44, 400)
    assert fmt.frames == 100 and fmt.duration_s == 0.0125
    with pytest.raises(WavError, match="not a whole number of 4-byte frames"):
        decode_pcm16(fmt, bytes(6))


def test_wav_error_is_a_usage_error() -> None:
    assert issubclass(WavError, UsageError) and WavError("x").exit_code == EXIT_USAGE


# --- what is tolerated -------------------------------------------------------------------

PCM = fmt_body(1, 1, 8000, 16)
AUDIO = bytes(range(200))


@pytest.mark.parametrize(
    ("data", "length"),
    [
        (riff(chunk(b"fmt ", PCM), chunk(b"data", AUDIO), size=0), 200),
        (riff(chunk(b"fmt ", PCM), chunk(b"data", AUDIO), size=0xFFFFFFFF), 200),
        (riff(chunk(b"fmt ", PCM), chunk(b"data", AUDIO), size=12345678), 200),
        (riff(chunk(b"fmt ", PCM), chunk(b"data", AUDIO, size=0xFFFFFFFF), size=0xFFFFFFFF), 200),
        (riff(chunk(b"fmt ", PCM), chunk(b"data", AUDIO, size=0), size=0), 200),
        (riff(chunk(b"LIST", b"odd"), chunk(b"fmt ", PCM), chunk(b"data", AUDIO)), 200),
        (
            riff(
                chunk(b"fmt ", PCM),
                chunk(b"fact", b"\0" * 4),
                chunk(b"data", AUDIO[:100]),
                chunk(b"LIST", b"x"),
            ),
            100,
        ),
        (
            riff(
                chunk(b"JUNK", b"\0" * 27), chunk(b"fmt ", PCM + b"\0" * 7), chunk(b"data", AUDIO)
            ),
            200,
        ),
    ],
    ids=[
        "riff0",
        "riffmax",
        "riffwrong",
        "streaming-max",
        "streaming-0",
        "odd-chunk",
        "after-data",
        "odd-fmt",
    ],
)
def test_tolerated_headers(data: bytes, length: int) -> None:
    fmt = validate(memory_reader(data), len(data), "x.wav")
    assert fmt.data_length == length and data[fmt.data_offset : fmt.data_offset + 4] == AUDIO[:4]


# --- what is refused ---------------------------------------------------------------------


def _truncated() -> bytes:
    return riff(chunk(b"fmt ", PCM), chunk(b"data", bytes(80000), size=160000))


REFUSED: dict[str, tuple[bytes, str]] = {
    "truncated": (
        _truncated(),
        "the data chunk claims 160000 bytes but the file ends after 80000 (truncated)",
    ),
    "no-fmt": (riff(chunk(b"LIST", b"abcd")), "no fmt chunk"),
    "no-data": (riff(chunk(b"fmt ", PCM), chunk(b"LIST", b"abcd")), "no data chunk"),
    "data-before-fmt": (
        riff(chunk(b"data", AUDIO), chunk(b"fmt ", PCM)),
        "the data chunk comes before the fmt chunk",
    ),
    "mp3": (wav(0x55, 1, 8000, 0, AUDIO), "unsupported format tag 0x0055 (MPEG Layer 3)"),
    "unknown-tag": (wav(0x1234, 1, 8000, 8, AUDIO), "unsupported format tag 0x1234"),
    "ext-guid": (
        riff(
            chunk(b"fmt ", fmt_body(1, 1, 8000, 16, extensible=True)[:-1] + b"\x72"),
            chunk(b"data", AUDIO),
        ),
        "unsupported WAVE_FORMAT_EXTENSIBLE sub-format",
    ),
    "ext-short": (
        riff(chunk(b"fmt ", fmt_body(1, 1, 8000, 16, extensible=True)[:30]), chunk(b"data", AUDIO)),
        "the WAVE_FORMAT_EXTENSIBLE fmt chunk is 30 bytes, needs 40",
    ),
    "block-align": (
        riff(chunk(b"fmt ", fmt_body(1, 2, 8000, 16, align=2)), chunk(b"data", AUDIO)),
        "block_align 2 is inconsistent with 2 channel(s) of 16 bits (expected 4)",
    ),
    "chunk-past-end": (
        riff(chunk(b"fmt ", PCM), chunk(b"LIST", b"abcd", size=1000), chunk(b"data", AUDIO)),
        "the 'LIST' chunk at offset 36 claims 1000 bytes but the file ends after",
    ),
    "fmt-past-end": (
        riff(chunk(b"fmt ", PCM, size=5000)),
        "the 'fmt' chunk at offset 12 claims 5000 bytes",
    ),
    "fmt-short": (
        riff(chunk(b"fmt ", PCM[:12]), chunk(b"data", AUDIO)),
        "the fmt chunk is 12 bytes, needs at least 16",
    ),
    "two-fmt": (
        riff(chunk(b"fmt ", PCM), chunk(b"fmt ", PCM), chunk(b"data", AUDIO)),
        "more than one fmt chunk",
    ),
    "bits-12": (wav(1, 1, 8000, 12, AUDIO[:198]), "12-bit PCM samples are not supported"),
    "float-64": (wav(3, 1, 8000, 64, AUDIO[:192]), "64-bit FLOAT samples are not supported"),
    "alaw-16": (wav(6, 1, 8000, 16, AUDIO), "16-bit ALAW samples are not supported"),
    "channels-0": (
        riff(chunk(b"fmt ", fmt_body(1, 0, 8000, 16, align=0)), chunk(b"data", AUDIO)),
        "0 channels",
    ),
    "rate-0": (wav(1, 1, 0, 16, AUDIO), "a sample rate of 0 Hz"),
    "empty": (b"", "not a WAV file: 0 bytes is too short for a RIFF header"),
    "eleven-bytes": (b"RIFF\0\0\0\0WAV", "too short for a RIFF header"),
    "random": (
        random.Random(5).randbytes(3000),
        "not a WAV file: it does not start with RIFF....WAVE",
    ),
    "rifx": (
        b"RIFX" + bytes(4) + b"WAVE" + bytes(40),
        "big-endian RIFX WAV files are not supported",
    ),
    "rf64": (b"RF64" + bytes(4) + b"WAVE" + bytes(40), "RF64 WAV files are not supported"),
    "avi": (b"RIFF" + bytes(4) + b"AVI " + bytes(40), "does not start with RIFF....WAVE"),
    # validate() beyond parse_header()
    "empty-data": (wav(1, 1, 8000, 16, b""), "the data chunk is empty (no audio)"),
    "three-channels": (wav(1, 3, 8000, 16, bytes(600)), "3 channels; only mono and stereo"),
    "rate-4000": (wav(1, 1, 4000, 16, AUDIO), "implausible sample rate 4000 Hz"),
    "rate-96000": (wav(1, 1, 96000, 16, AUDIO), "implausible sample rate 96000 Hz"),
    "partial-frame": (
        wav(1, 2, 8000, 16, bytes(202)),
        "the data chunk is 202 bytes, not a whole number of 4-byte frames (damaged)",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_a_clear_message(case: str) -> None:
    data, message = REFUSED[case]
    with pytest.raises(WavError) as caught:
        validate(memory_reader(data), len(data), "recording.wav")
    text = str(caught.value)
    assert text.startswith("recording.wav: ") and "\n" not in text
    assert message in text, text


def test_without_a_name_the_message_stands_alone() -> None:
    with pytest.raises(WavError, match=r"^no fmt chunk$"):
        parse_header(memory_reader(REFUSED["no-fmt"][0]), len(REFUSED["no-fmt"][0]))


def test_a_file_shorter_than_its_size_is_a_wav_error() -> None:
    data = wav(1, 1, 8000, 16, AUDIO)
    with pytest.raises(WavError, match="the file ends early"):
        parse_header(memory_reader(data[:30]), len(data))


# --- fuzz ------------------------------------------------------------------------------


def fuzz_bases() -> list[bytes]:
    stereo = fmt_body(6, 2, 8000, 8)
    return [
        wav(1, 1, 8000, 16, AUDIO),
        wav(7, 2, 8000, 8, AUDIO),
        wav(3, 1, 16000, 32, struct.pack("<50f", *[i / 50 for i in range(50)]), extensible=True),
        wav(1, 2, 22050, 24, bytes(range(240)), extensible=True),
        riff(
            chunk(b"LIST", b"odd"),
            chunk(b"fmt ", stereo),
            chunk(b"fact", bytes(4)),
            chunk(b"data", AUDIO),
        ),
    ]


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    kind = rng.randrange(4)
    if kind == 0:  # a few random bytes in the header
        for _ in range(rng.randint(1, 4)):
            out[rng.randrange(min(len(out), 80))] = rng.randrange(256)
    elif kind == 1:  # a size or count field set to an extreme
        at = rng.randrange(min(len(out), 76) - 3)
        out[at : at + 4] = rng.choice(
            [0, 1, 0x7FFFFFFF, 0xFFFFFFFF, rng.randrange(1 << 32)]
        ).to_bytes(4, "little")
    elif kind == 2:  # cut anywhere
        del out[rng.randrange(len(out)) :]
    else:  # bytes inserted into the chunk list
        at = rng.randrange(12, min(len(out), 80))
        out[at:at] = rng.randbytes(rng.randint(1, 9))
    return bytes(out)


def test_fuzzed_headers_give_a_wav_error_or_audio_never_a_crash() -> None:
    rng = random.Random(20240611)
    outcomes = {"refused": 0, "decoded": 0}
    for i in range(3000):
        data = mutate(rng, rng.choice(fuzz_bases()))
        try:
            fmt = validate(memory_reader(data), len(data), "fuzz.wav")
            pcm = b"".join(iter_pcm16(memory_reader(data), fmt, frames_per_chunk=37))
        except WavError as err:
            assert "\n" not in str(err) and str(err).startswith("fuzz.wav: ")
            outcomes["refused"] += 1
        except Exception as err:  # noqa: BLE001 - the point of the test
            pytest.fail(f"mutation {i} ({data[:80].hex()}) raised {type(err).__name__}: {err}")
        else:
            assert len(pcm) == fmt.frames * fmt.channels * 2
            outcomes["decoded"] += 1
    assert min(outcomes.values()) > 100, outcomes
