"""A speech-like signal for the demo's recordings, synthesised with the standard library.

Why not espeak-ng: it is not on a newcomer's machine, and the demo must build
anywhere Python runs. Why not a sine or silence: a player, a waveform and a
decoder are only tested by something that behaves like speech — voiced
syllables with a moving pitch and moving formants, unvoiced consonants, and
pauses with a little line noise.

How: a glottal pulse train (pitch with jitter, declination and a rise or fall
at the end of a phrase) through a cascade of three formant resonators that
jump from vowel to vowel, preceded now and then by a burst of high-passed
noise for a consonant, under a syllable envelope. It is a klatt-style formant
synthesiser in miniature; nobody will understand a word, which is right for
a demo full of no one's data.

Deterministic for a seed. A phrase costs about 40 ms of CPU per second of
audio, so the demo makes a small pool of phrases and builds every recording
by concatenating encoded phrases and pauses: bytes, not samples.
"""

from __future__ import annotations

import math
import random
import struct
import sys
from array import array
from dataclasses import dataclass

RATE = 8000

# (F1, F2, F3) in Hz of Finnish vowels, roughly: a e i o u y ä ö.
_VOWELS = (
    (730, 1250, 2500), (500, 1850, 2600), (300, 2250, 3000), (480, 850, 2450),
    (330, 750, 2400), (300, 1800, 2200), (680, 1650, 2500), (470, 1450, 2350),
)  # fmt: skip
_BANDWIDTHS = (80.0, 110.0, 160.0)
_GAIN = 9000.0  # puts the loudest syllables near -12 dBFS


@dataclass(frozen=True)
class Voice:
    pitch: float  # mean F0 in Hz
    formant_scale: float  # vocal-tract length: about 1.0 for a man, 1.15 for a woman


AGENT_VOICE = Voice(205.0, 1.15)
CUSTOMER_VOICE = Voice(118.0, 1.0)


def phrase(rng: random.Random, voice: Voice, syllables: int) -> array[int]:
    """One phrase of `syllables` syllables as PCM16 samples at 8 kHz."""
    out = array("h")
    state = _Tract()
    for n in range(syllables):
        final = n == syllables - 1
        if rng.random() < 0.55:
            out.extend(_consonant(rng, rng.uniform(0.03, 0.07)))
        out.extend(_vowel(rng, voice, state, rng.uniform(0.11, 0.24), n / syllables, final))
        if rng.random() < 0.2 and not final:
            out.extend(pause(rng, rng.uniform(0.04, 0.12)))
    return out


def pause(rng: random.Random, seconds: float) -> array[int]:
    """Line noise at about -60 dBFS: a real line is never digital silence."""
    return array("h", (int(rng.gauss(0.0, 30.0)) for _ in range(int(seconds * RATE))))


class _Tract:
    """Resonator state carried across syllables, so a new vowel does not click."""

    def __init__(self) -> None:
        self.delays = [[0.0, 0.0] for _ in _BANDWIDTHS]
        self.glottis = 0.0
        self.phase = 0.0
        self.lips = 0.0  # the last output of the tract, for the radiation difference


def _coefficients(freq: float, bandwidth: float) -> tuple[float, float, float]:
    """A two-pole resonator with unity gain at 0 Hz (Klatt 1980)."""
    r = math.exp(-math.pi * bandwidth / RATE)
    b = 2.0 * r * math.cos(2.0 * math.pi * freq / RATE)
    c = -r * r
    return 1.0 - b - c, b, c


def _vowel(
    rng: random.Random, voice: Voice, tract: _Tract, seconds: float, where: float, final: bool
) -> array[int]:
    formants = [f * voice.formant_scale * rng.uniform(0.93, 1.07) for f in rng.choice(_VOWELS)]
    filters = [_coefficients(f, bw) for f, bw in zip(formants, _BANDWIDTHS, strict=True)]
    count = int(seconds * RATE)
    start_pitch = voice.pitch * (1.1 - 0.2 * where) * rng.uniform(0.95, 1.05)
    end_pitch = start_pitch * (rng.choice((0.8, 1.15)) if final else rng.uniform(0.95, 1.03))
    loudness = rng.uniform(0.5, 1.0)
    out = array("h", bytes(2 * count))
    for i in range(count):
        t = i / count
        pitch = start_pitch + (end_pitch - start_pitch) * t
        tract.phase += pitch * (1.0 + rng.uniform(-0.01, 0.01)) / RATE
        pulse = 1.0 if tract.phase >= 1.0 else 0.0
        tract.phase -= pulse
        tract.glottis = 0.92 * tract.glottis + pulse  # a soft glottal pulse, not a click
        x = tract.glottis + rng.uniform(-0.02, 0.02)
        for (a, b, c), delay in zip(filters, tract.delays, strict=True):
            y = a * x + b * delay[0] + c * delay[1]
            delay[1], delay[0] = delay[0], y
            x = y
        radiated, tract.lips = x - tract.lips, x  # the lips radiate the difference: no DC
        envelope = math.sin(math.pi * t) ** 0.6 * loudness
        out[i] = max(-32768, min(32767, int(radiated * envelope * _GAIN)))
    return out


def _consonant(rng: random.Random, seconds: float) -> array[int]:
    """A fricative: white noise, differenced (high-passed), under a short envelope."""
    count = int(seconds * RATE)
    out = array("h", bytes(2 * count))
    previous = 0.0
    level = rng.uniform(1500.0, 4000.0)
    for i in range(count):
        noise = rng.uniform(-1.0, 1.0)
        out[i] = int((noise - previous) * 0.5 * level * math.sin(math.pi * i / count))
        previous = noise
    return out


# -- encodings ------------------------------------------------------------------------


def _alaw_of(sample: int) -> int:
    """ITU-T G.711 A-law code of a 16-bit sample (the inverse of audio.wav's decoder)."""
    sign = 0x80 if sample >= 0 else 0x00
    magnitude = min((sample if sample >= 0 else -sample - 1) >> 3, 0xFFF)
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (code | sign) ^ 0x55


# 16-bit samples >> 3 (13 bits) to A-law: 8192 entries, built once.
_ALAW = bytes(_alaw_of(v << 3) for v in range(-4096, 4096))


def alaw(samples: array[int]) -> bytes:
    table = _ALAW
    return bytes([table[(s >> 3) + 4096] for s in samples])


def pcm16(samples: array[int]) -> bytes:
    data = array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()
    return data.tobytes()


def interleave(left: bytes, right: bytes, width: int) -> bytes:
    """Two channels of equal length, `width` bytes a sample, as one stereo stream."""
    out = bytearray(2 * len(left))
    for k in range(width):
        out[k :: 2 * width] = left[k::width]
        out[width + k :: 2 * width] = right[k::width]
    return bytes(out)


def wav_file(data: bytes, *, alaw_coded: bool, channels: int) -> bytes:
    """A RIFF/WAVE file at 8 kHz: A-law (format 6, with cbSize and a fact chunk) or PCM16."""
    width = 1 if alaw_coded else 2
    align = width * channels
    tag = 6 if alaw_coded else 1
    fmt = struct.pack("<HHIIHH", tag, channels, RATE, RATE * align, align, 8 * width)
    chunks = b""
    if alaw_coded:
        fmt += b"\0\0"
        chunks += b"fact" + struct.pack("<II", 4, len(data) // align)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + chunks
    body += b"data" + struct.pack("<I", len(data)) + data + b"\0" * (len(data) & 1)
    return b"RIFF" + struct.pack("<I", len(body)) + body
