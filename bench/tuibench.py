"""kaiku-tui benchmark: the TUI itself, driven through Textual's Pilot at 80x24.

    python bench/tuibench.py [--records 10000000] [--small 100000] [--trials 40]

For each register size (the small one and the large one, filled or reused by
bench/filldb.py in /tmp/kaiku-bench-N), a child process opens the app as the
current login and measures: cold start to the first rows on screen; a filter
change (a preset chosen in the filter bar) to the new rows; PgDn to the rows
of the next screen; End to the last row; and its resident memory. Beside the
filter change, the same count + first page through `Register` alone: the
limit below the UI. Targets (issue 5): start ≤ 1.0 s, filter p95 ≤ 100 ms,
PgDn p95 ≤ 50 ms, End ≤ 200 ms, memory ≤ 200 MB and flat from 100,000 to
10,000,000 records. A benchmark, not a test: it reports, it does not fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filldb import ensure_filled
from measure import Samples, table

from kaiku_tui.config import load
from kaiku_tui.domain.browse import RecordingFilter
from kaiku_tui.identity import current_identity
from kaiku_tui.register import Register
from kaiku_tui.ui.app import KaikuApp
from kaiku_tui.ui.filter_bar import FilterBar
from kaiku_tui.ui.filters import FilterForm, to_filter
from kaiku_tui.ui.i18n import Texts
from kaiku_tui.ui.presets import DatePreset, DurationPreset
from kaiku_tui.ui.recording_list import RecordingList

SIZE = (80, 24)
DATES = [DatePreset.TODAY, DatePreset.YESTERDAY, DatePreset.LAST_7, DatePreset.THIS_MONTH]
DURATIONS = [DurationPreset.UNDER_1, DurationPreset.FROM_1_TO_5, DurationPreset.OVER_15]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--records", type=int, default=10_000_000)
    p.add_argument("--small", type=int, default=100_000)
    p.add_argument("--trials", type=int, default=40)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--child", metavar="DIR", help=argparse.SUPPRESS)
    return p.parse_args(argv)


async def until(check: Callable[[], bool], limit_s: float = 30.0) -> int:
    """Nanoseconds until `check()` holds, polled every 0.2 ms on the app's own loop."""
    start = time.perf_counter_ns()
    while not check():
        if time.perf_counter_ns() - start > limit_s * 1e9:
            raise TimeoutError("the app did not get there")
        await asyncio.sleep(0.0002)
    return time.perf_counter_ns() - start


def rss_mb() -> tuple[float, float]:
    """Resident memory now and at its peak, from /proc (Linux)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def measure(folder: Path, trials: int, seed: int) -> dict[str, Any]:
    config = load(folder / "config.toml")
    identity = current_identity()
    started = time.perf_counter_ns()
    app = KaikuApp(lambda: Register.open(config, identity), Texts("en"))
    out: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen.query(RecordingList).first(None), RecordingList))
        listing = app.screen.query_one(RecordingList)
        await until(lambda: listing.window is not None and bool(listing.window.rows))
        out["start_ms"] = (time.perf_counter_ns() - started) / 1e6
        await until(lambda: not any(w.is_running for w in app.workers), 120)
        out["filter"] = (await filter_changes(app, listing, trials, seed)).ns
        out["pgdn"] = (await page_downs(pilot, listing, trials)).ns
        out["end"] = (await ends(pilot, app, listing, max(trials // 8, 3))).ns
        out["rss_mb"], out["peak_mb"] = rss_mb()
    out["register"] = (await register_only(config, identity, trials, seed)).ns
    return out


def changes(trials: int, seed: int) -> list[tuple[str, DatePreset | DurationPreset]]:
    """Filter changes a person makes: one preset at a time, each to another value."""
    rng = random.Random(seed)
    current: dict[str, DatePreset | DurationPreset] = {
        "dates": DatePreset.ANY,
        "durations": DurationPreset.ANY,
    }
    out: list[tuple[str, DatePreset | DurationPreset]] = []
    for i in range(trials):
        name = "dates" if i % 2 == 0 else "durations"
        options = [p for p in (DATES if name == "dates" else DURATIONS) if p != current[name]]
        current[name] = rng.choice(options)
        out.append((name, current[name]))
    return out


async def filter_changes(app: KaikuApp, listing: RecordingList, trials: int, seed: int) -> Samples:
    """A preset chosen in the bar (as the Select posts it) until the new rows are there."""
    from textual.widgets import Select

    samples = Samples()
    for name, value in changes(trials, seed):
        old = listing.window
        start = time.perf_counter_ns()
        app.screen.query_one(f"#{name}", Select).value = value
        await until(lambda old=old: listing.window is not old and _shown(listing))
        samples.add(time.perf_counter_ns() - start)
    return samples


def _shown(listing: RecordingList) -> bool:
    window = listing.window
    return window is not None and (bool(window.rows) or window.total == 0)


def _visible_loaded(listing: RecordingList) -> bool:
    window = listing.window
    if window is None:
        return False
    top = round(listing.scroll_y)
    last = min(top + listing.size.height, window.total) - 1
    return window.row(top) is not None and window.row(last) is not None


async def page_downs(pilot: Any, listing: RecordingList, trials: int) -> Samples:
    pilot.app.screen.query_one(FilterBar).clear()
    await until(lambda: _shown(listing) and not any(w.is_running for w in pilot.app.workers), 120)
    listing.focus()
    samples = Samples()
    for _ in range(trials):
        before = listing.cursor
        start = time.perf_counter_ns()
        pilot.app.simulate_key("pagedown")  # Pilot.press waits for an idle CPU: ~80 ms
        await until(lambda before=before: listing.cursor != before and _visible_loaded(listing))
        samples.add(time.perf_counter_ns() - start)
    return samples


async def ends(pilot: Any, app: KaikuApp, listing: RecordingList, trials: int) -> Samples:
    samples = Samples()
    for _ in range(trials):
        app.simulate_key("home")
        await until(lambda: _visible_loaded(listing) and listing.cursor == 0)
        start = time.perf_counter_ns()
        app.simulate_key("end")
        await until(
            lambda: (
                listing.window is not None
                and listing.cursor == listing.window.total - 1
                and listing.current is not None
            )
        )
        samples.add(time.perf_counter_ns() - start)
    return samples


async def register_only(config: Any, identity: Any, trials: int, seed: int) -> Samples:
    """The same filter changes without the UI: a capped count and the first page."""
    from datetime import datetime

    from kaiku_tui.domain.dates import HELSINKI

    register = await Register.open(config, identity)
    today = datetime.now(HELSINKI).date()
    samples = Samples()
    form = FilterForm()
    try:
        for name, value in changes(trials, seed):
            form = form.changed(**{name: value})
            where: RecordingFilter = to_filter(form, today)
            start = time.perf_counter_ns()
            await register.count(where, cap=10_000)
            await register.search(where, limit=100)
            samples.add(time.perf_counter_ns() - start)
    finally:
        await register.close()
    return samples


def child(args: argparse.Namespace) -> int:
    result = asyncio.run(measure(Path(args.child), args.trials, args.seed))
    print(json.dumps(result))
    return 0


async def fill(records: int, seed: int) -> Path:
    folder = Path(f"/tmp/kaiku-bench-{records}")
    await ensure_filled(folder, records, seed, 0)
    return folder


def row(records: int, r: dict[str, Any]) -> list[str]:
    def p95(name: str) -> str:
        s = Samples(r[name])
        return f"{s.p50:.1f} / {s.p95:.1f}"

    return [
        f"{records:,}",
        f"{r['start_ms']:.0f}",
        p95("filter"),
        p95("register"),
        p95("pgdn"),
        f"{max(r['end']) / 1e6:.0f}",
        f"{r['rss_mb']:.0f} (peak {r['peak_mb']:.0f})",
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        return child(args)
    rows = []
    for records in (args.small, args.records):
        folder = asyncio.run(fill(records, args.seed))
        print(f"measuring {records:,} records in {folder}", file=sys.stderr)
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(folder), "--trials", str(args.trials)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(row(records, json.loads(done.stdout.strip().splitlines()[-1])))
    headers = [
        "records",
        "start → rows ms",
        "filter → rows ms p50/p95",
        "Register alone p50/p95",
        "PgDn ms p50/p95",
        "End ms (max)",
        "RSS MB",
    ]
    print(table(headers, rows))
    print("\ntargets: start ≤ 1000 ms, filter p95 ≤ 100 ms, PgDn p95 ≤ 50 ms, End ≤ 200 ms,")
    print("memory ≤ 200 MB and the same at both sizes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
