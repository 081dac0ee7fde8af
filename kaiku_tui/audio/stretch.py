"""Faster or slower speech at the same pitch: WSOLA on PCM16, in pure Python, streaming.

Why WSOLA: it keeps the pitch by cutting the recording into overlapping
30 ms windows and laying them down at a different spacing; each window is
shifted (up to ±8 ms) to where it best continues the previous one, so voiced
speech stays in phase instead of warbling, as plain overlap-add does.

Why it is affordable without numpy: the search compares a mono mix decimated
to about 4 kHz (60 samples against 60, some 60 candidate shifts); the
windowing and overlap-add at full rate run in `map` over arrays. The cost is
measured by `bench/audiobench.py` (docs/ARCHITECTURE.md has the figures).
The join is placed only to the decimated resolution (0.25 ms at 48 kHz),
which is good enough for speech.
"""

from __future__ import annotations

import math
import sys
from array import array
from operator import add, mul

_WINDOW_S = 0.030
_TOLERANCE_S = 0.008
_SEARCH_RATE = 4000


def _clip16(values: list[float]) -> list[int]:
    return [32767 if v > 32767 else -32768 if v < -32768 else round(v) for v in values]


class TimeStretcher:
    """Feed PCM16 at the recording's rate; get PCM16 `speed` times shorter (or longer)."""

    def __init__(self, rate: int, channels: int, speed: float) -> None:
        if not 0.25 <= speed <= 4.0:
            raise ValueError(f"speed {speed} is outside 0.25-4")
        self.channels = channels
        self.speed = speed
        self._window = max(8, int(rate * _WINDOW_S) // 2 * 2)
        self._hop = self._window // 2  # synthesis hop: half-overlapping windows
        self._tolerance = int(rate * _TOLERANCE_S)
        self._step = max(1, rate // _SEARCH_RATE)
        hann = [0.5 - 0.5 * math.cos(math.pi * j / self._hop) for j in range(self._hop)]
        self._rise = hann  # rise[j] + fall[j] == 1: the halves add up to unity gain
        self._fall = [1.0 - w for w in hann]
        self._input: list[array[int]] = [array("h") for _ in range(channels)]
        self._base = 0  # absolute input index of _input[*][0]
        self._analysis = 0.0  # where the next window would sit without a search
        self._previous: int | None = None
        self._tail: list[list[float]] = []
        self.consumed = 0  # input frames fed

    def feed(self, pcm: bytes) -> bytes:
        """Take interleaved PCM16, return whatever output is ready (possibly nothing)."""
        samples = array("h")
        samples.frombytes(pcm)
        if sys.byteorder == "big":
            samples.byteswap()
        for ch in range(self.channels):
            self._input[ch].extend(samples[ch :: self.channels])
        self.consumed += len(samples) // self.channels
        out: list[list[int]] = [[] for _ in range(self.channels)]
        while self._ready():
            for ch, piece in enumerate(self._next_window()):
                out[ch].extend(piece)
        return self._interleave(out)

    def flush(self) -> bytes:
        """The last half window, faded out (at the end of the recording)."""
        tail = [_clip16(t) for t in self._tail]
        self._tail = []
        return self._interleave(tail) if tail else b""

    def _ready(self) -> bool:
        end = int(self._analysis) + self._tolerance + self._window
        if self._previous is not None:
            end = max(end, self._previous + self._window)
        return end <= self._base + len(self._input[0])

    def _next_window(self) -> list[list[int]]:
        target = int(self._analysis)
        pos = target if self._previous is None else self._best_shift(target)
        first = self._previous is None
        self._previous = pos
        self._analysis += self._hop * self.speed
        start = pos - self._base
        pieces: list[list[int]] = []
        tails: list[list[float]] = []
        for ch in range(self.channels):
            seg = self._input[ch][start : start + self._window]
            head = seg[: self._hop]
            if first:
                pieces.append(list(head))
            else:
                mixed = list(map(add, self._tail[ch], map(mul, head, self._rise)))
                pieces.append(_clip16(mixed))
            tails.append(list(map(mul, seg[self._hop :], self._fall)))
        self._tail = tails
        self._trim()
        return pieces

    def _mono(self, start: int) -> list[int]:
        """Decimated sum of the channels over half a window from absolute `start`."""
        at = start - self._base
        stop = at + self._hop
        total = self._input[0][at : stop : self._step]
        if self.channels == 1:
            return list(total)
        return list(map(add, total, self._input[1][at : stop : self._step]))

    def _best_shift(self, target: int) -> int:
        """The window start within the tolerance whose head best continues the last tail."""
        assert self._previous is not None
        natural = self._mono(self._previous + self._hop)
        low = max(self._base, target - self._tolerance)
        best, best_score = target, -math.inf
        for pos in range(low, target + self._tolerance + 1, self._step):
            score = sum(map(mul, natural, self._mono(pos)))
            if score > best_score:
                best, best_score = pos, score
        return best

    def _trim(self) -> None:
        """Drop input no later window can reach."""
        keep_from = min(int(self._analysis) - self._tolerance, self._previous or 0)
        drop = keep_from - self._base
        if drop > 4096:
            for ch in range(self.channels):
                del self._input[ch][:drop]
            self._base += drop

    def _interleave(self, per_channel: list[list[int]]) -> bytes:
        if not per_channel or not per_channel[0]:
            return b""
        out = array("h", bytes(2 * len(per_channel[0]) * self.channels))
        for ch, values in enumerate(per_channel):
            out[ch :: self.channels] = array("h", values)
        if sys.byteorder == "big":
            out.byteswap()
        return out.tobytes()
