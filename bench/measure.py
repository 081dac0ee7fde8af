"""Timing and reporting helpers shared by the benchmark parts.

Latencies are kept as nanosecond integers from `perf_counter_ns` and only turned
into milliseconds for printing, so rounding never hides a difference between the
register and its raw limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass
class Samples:
    """Latencies of one path of one benchmark cell, in nanoseconds."""

    ns: list[int] = field(default_factory=list)

    def add(self, ns: int) -> None:
        self.ns.append(ns)

    def pct(self, q: float) -> float:
        """The q-th percentile in milliseconds (nearest rank: a real observed latency)."""
        if not self.ns:
            return math.nan
        ordered = sorted(self.ns)
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1] / 1e6

    @property
    def p50(self) -> float:
        return self.pct(50)

    @property
    def p95(self) -> float:
        return self.pct(95)


async def timed_async(samples: Samples, fn: Callable[[], Awaitable[T]]) -> T:
    """Await `fn()` and record how long it took, event-loop hops included (the user waits
    for them too)."""
    start = time.perf_counter_ns()
    result = await fn()
    samples.add(time.perf_counter_ns() - start)
    return result


def timed(samples: Samples, fn: Callable[[], T]) -> T:
    start = time.perf_counter_ns()
    result = fn()
    samples.add(time.perf_counter_ns() - start)
    return result


class Stopwatch:
    """`with Stopwatch() as w: ...; w.seconds` for one-off phases (fill, verify)."""

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


def ms(value: float) -> str:
    """Milliseconds with the precision that matters at that size."""
    if math.isnan(value):
        return "–"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def pair(s: Samples) -> str:
    return f"{ms(s.p50)} / {ms(s.p95)}"


def ratio(a: float, b: float) -> str:
    return "–" if not b or math.isnan(a) or math.isnan(b) else f"{a / b:.1f}×"


def rate(count: float, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "–"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table, so the output pastes straight into notes."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
